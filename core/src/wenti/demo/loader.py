"""Load the demo organisation and replay the generated issues through the service layer.

Every issue is created and moved by the service commands people use, so history,
audit and outbox rows are the real thing. To give them past times, the app's
clock is replaced by a `FrozenClock` set to each step's time while the demo
loads, and restored afterwards.

Running the demo twice adds nothing: people, teams, queues and workflows are
created only when missing, and issues whose external id `demo-<seed>-<n>`
already exists are skipped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from wenti.clock import FrozenClock
from wenti.demo.generator import IssuePlan, Step, generate_plans
from wenti.demo.organisation import ADMIN, QUEUES, everyone
from wenti.domain import CommentVisibility, Issue
from wenti.errors import WentiError

if TYPE_CHECKING:
    from wenti.app import App, Context

log = logging.getLogger(__name__)

DEMO_SOURCE = "demo"


@attrs.define
class DemoReport:
    created: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = attrs.Factory(list)
    users_created: int = 0
    by_queue_status: Counter[tuple[str, str]] = attrs.Factory(Counter)


def load_demo(
    app: App,
    tenant_id: str,
    *,
    seed: int = 1,
    count: int = 2000,
    on_progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Create the demo organisation in `tenant_id` and `count` issues generated from `seed`."""
    report = DemoReport()
    app.admin.ensure_tenant(tenant_id, tenant_id, admin_username=ADMIN.username, admin_display_name=ADMIN.display_name, default_queue=None)
    admin_ctx = app.context(tenant_id, ADMIN.username)
    report.users_created = _ensure_people(app, admin_ctx)
    _ensure_queues(app, admin_ctx)

    plans = generate_plans(seed, count, app.clock.now())
    with app.uow(tenant_id) as uow:
        existing = uow.issues.find_external_ids(DEMO_SOURCE, [plan.external_id for plan in plans])

    contexts: dict[str, Context] = {}

    def context(username: str) -> Context:
        if username not in contexts:
            contexts[username] = app.context(tenant_id, username)
        return contexts[username]

    real_clock = app.clock
    demo_clock = FrozenClock(real_clock.now())
    app.clock = demo_clock
    try:
        for plan in plans:
            if plan.external_id in existing:
                report.skipped += 1
            else:
                _replay(app, plan, context, demo_clock, report)
            if on_progress is not None:
                on_progress(1)
    finally:
        app.clock = real_clock

    log.info(
        "demo loaded tenant=%s seed=%s created=%d skipped=%d failed=%d",
        tenant_id, seed, report.created, report.skipped, len(report.failed),
    )
    return report


def _ensure_people(app: App, ctx: Context) -> int:
    existing = {user.username for user in app.admin.list_users(ctx)}
    created = 0
    for person in everyone():
        if person.username in existing:
            continue
        app.admin.create_user(ctx, person.username, person.display_name, person.role, locale="zh_CN")
        created += 1
    return created


def _ensure_queues(app: App, ctx: Context) -> None:
    workflows = {workflow.key for workflow in app.admin.list_workflows(ctx)}
    for queue in QUEUES:
        if queue.workflow.key not in workflows:
            app.admin.put_workflow(ctx, queue.workflow)
        members = [queue.manager.username, *(agent.username for agent in queue.agents)]
        app.admin.create_team(ctx, queue.team_key, queue.team_name, members)
        app.admin.create_queue(
            ctx,
            queue.key,
            queue.name,
            workflow_key=queue.workflow.key,
            team_key=queue.team_key,
            manager=queue.manager.username,
            categories=queue.categories,
        )


def _replay(app: App, plan: IssuePlan, context: Callable[[str], Context], clock: FrozenClock, report: DemoReport) -> None:
    clock.set(plan.created_at)
    try:
        issue = app.issues.create(
            context(plan.reporter),
            queue=plan.queue,
            title=plan.title,
            description=plan.description,
            priority=plan.priority,
            category=plan.category,
            tags=plan.tags,
            reporter=plan.reporter,
            source=DEMO_SOURCE,
            external_id=plan.external_id,
        )
        for step in plan.steps:
            clock.set(step.at)
            issue = _apply(app, issue, step, context(step.actor))
    except WentiError as error:
        # NOTE: an issue whose replay fails half-way keeps the steps done so far; a
        # second run skips it because its external id exists.
        log.warning("demo issue %s not fully replayed: %s", plan.external_id, error)
        report.failed.append((plan.external_id, str(error)))
        return
    report.created += 1
    report.by_queue_status[(issue.queue, issue.status)] += 1


def _apply(app: App, issue: Issue, step: Step, ctx: Context) -> Issue:
    if step.action == "transition":
        return app.issues.transition(ctx, issue.id, issue.version, step.transition, fields=step.fields or None, comment=step.body)
    visibility = CommentVisibility.INTERNAL if step.internal else CommentVisibility.PUBLIC
    app.issues.comment(ctx, issue.id, step.body or "", visibility=visibility, source=DEMO_SOURCE)
    if visibility is CommentVisibility.INTERNAL:
        return issue
    # A first public reply stamps the first-response time and bumps the version.
    return app.issues.get(ctx, issue.id)
