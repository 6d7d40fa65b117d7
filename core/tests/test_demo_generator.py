"""The demo organisation: deterministic for a seed, idempotent, realistic histories."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from wenti.cli.testing import invoke_cli
from wenti.demo import DEMO_SOURCE, QUEUES, generate_plans, load_demo
from wenti.domain import CommentVisibility, StateCategory
from wenti.store import IssueQuery
from wenti.testing import FROZEN_TIME

SQL_ONLY = '[plugins]\nenabled = ["sql"]\n'
DEMO_ISSUES = 60


@pytest.fixture
def demo_app(make_wenti_app):
    return make_wenti_app(config_toml=SQL_ONLY)


def test_plans_are_deterministic_for_a_seed():
    first = generate_plans(7, 200, FROZEN_TIME)
    again = generate_plans(7, 200, FROZEN_TIME)
    other = generate_plans(8, 200, FROZEN_TIME)

    assert first == again
    assert [plan.title for plan in first] != [plan.title for plan in other]


def test_plans_cover_every_queue_and_the_past_year():
    plans = generate_plans(1, 2000, FROZEN_TIME)

    queues = Counter(plan.queue for plan in plans)
    assert set(queues) == {"it", "cs", "fm"}
    assert queues["it"] > queues["cs"] > queues["fm"]
    assert all(FROZEN_TIME - timedelta(days=367) < plan.created_at < FROZEN_TIME for plan in plans)
    assert all(step.at < FROZEN_TIME for plan in plans for step in plan.steps)
    for plan in plans:
        times = [plan.created_at, *(step.at for step in plan.steps)]
        assert times == sorted(times), plan.external_id
    assert len({plan.external_id for plan in plans}) == 2000
    categories = {queue.key: set(queue.categories) for queue in QUEUES}
    assert all(plan.category in categories[plan.queue] for plan in plans)
    assert any(plan.tags == ("反复出现",) for plan in plans)
    assert Counter(plan.priority for plan in plans).keys() == {"critical", "high", "normal", "low"}


def test_load_demo_replays_issue_lives(demo_app):
    report = load_demo(demo_app, "default", seed=3, count=DEMO_ISSUES)

    assert report.created == DEMO_ISSUES
    assert report.failed == []
    ctx = demo_app.context("default", "admin")
    issues = demo_app.issues.list(ctx, IssueQuery(source=DEMO_SOURCE, limit=500)).items
    assert len(issues) == DEMO_ISSUES
    workflows = {queue.key: queue.workflow for queue in QUEUES}
    categories = Counter()
    for issue in issues:
        state = workflows[issue.queue].state(issue.status)
        assert state is not None
        categories[state.category] += 1
        if state.category in (StateCategory.RESOLVED, StateCategory.CLOSED):
            assert issue.resolved_at is not None
            assert issue.resolved_at >= issue.created_at
            assert issue.custom_fields["resolution"]
    assert categories[StateCategory.CLOSED] > 0
    assert categories[StateCategory.OPEN] > 0

    worked = next(issue for issue in issues if issue.resolved_at is not None)
    history = demo_app.issues.history(ctx, worked.id)
    assert [event.type for event in history][0] == "issue.created"
    assert "issue.transitioned" in {event.type for event in history}
    assert [event.at for event in history] == sorted(event.at for event in history)
    comments = demo_app.issues.comments(ctx, worked.id)
    assert any(comment.visibility is CommentVisibility.PUBLIC for comment in comments)
    assert worked.first_responded_at is not None


def test_load_demo_twice_adds_nothing(demo_app):
    load_demo(demo_app, "default", seed=3, count=20)

    again = load_demo(demo_app, "default", seed=3, count=20)

    assert again.created == 0
    assert again.skipped == 20
    assert again.users_created == 0
    ctx = demo_app.context("default", "admin")
    assert demo_app.issues.count(ctx, IssueQuery(source=DEMO_SOURCE)) == 20
    assert sorted(queue.key for queue in demo_app.admin.list_queues(ctx)) == ["cs", "fm", "general", "it"]


def test_demo_command_prints_counts_and_logins(demo_app):
    result = invoke_cli(demo_app, "demo", "--seed", "2", "--issues", "15", lang="zh_CN")

    assert result.exit_code == 0, result.output
    assert "演示问题：新建 15 个，已存在 0 个，失败 0 个。" in result.stdout
    assert "wang.lei" in result.stdout
    assert "队列负责人" in result.stdout
    counted = sum(int(line.split()[-1]) for line in result.stdout.splitlines() if line.split()[:1] in (["it"], ["cs"], ["fm"]))
    assert counted == 15
