"""Seeded generation of demo issues with their life stories.

`generate_plans(seed, count, now)` returns the same plans for the same arguments.
Each plan is an issue and the steps that happen to it (transitions, replies,
internal notes), each with its time. The loader replays these steps through the
service layer, so history events, comments and first-response times are
written as if people had done the work.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import attrs

from wenti.demo import content
from wenti.demo.organisation import CUSTOMERS, EMPLOYEES, QUEUES, DemoQueue

DEMO_TIMEZONE = ZoneInfo("Asia/Shanghai")
HISTORY_DAYS = 365
QUEUE_WEIGHTS = {"it": 45, "cs": 35, "fm": 20}
PRIORITY_WEIGHTS = {"critical": 4, "high": 18, "normal": 58, "low": 20}
RECURRING_SHARE = 0.08
# Share of issues still untouched, and of issues stuck after the first response, which
# together make the ageing backlog of a real service desk.
UNTOUCHED_SHARE = 0.02
STALLED_SHARE = 0.06

# First response and resolution times in hours, (low, high) per priority.
RESPONSE_HOURS = {"critical": (0.1, 0.5), "high": (0.3, 2.0), "normal": (0.5, 8.0), "low": (2.0, 24.0)}
RESOLUTION_HOURS = {"critical": (1.0, 8.0), "high": (2.0, 36.0), "normal": (4.0, 120.0), "low": (12.0, 240.0)}


@attrs.frozen
class Step:
    """One thing that happens to a demo issue: a `transition` (with an optional public
    reply in `body`) or a `comment` (an internal note when `internal`)."""

    at: dt.datetime
    actor: str
    action: str
    transition: str | None = None
    fields: dict[str, str] = attrs.Factory(dict)
    body: str | None = None
    internal: bool = False


@attrs.frozen
class IssuePlan:
    external_id: str
    queue: str
    title: str
    description: str
    category: str
    priority: str
    reporter: str
    created_at: dt.datetime
    steps: tuple[Step, ...]
    tags: tuple[str, ...] = ()


def generate_plans(seed: int, count: int, now: dt.datetime) -> list[IssuePlan]:
    """Plans for `count` issues created over the year before `now`, oldest first."""
    rng = random.Random(seed)
    queues = {queue.key: queue for queue in QUEUES}
    anchor = now.astimezone(DEMO_TIMEZONE).replace(hour=0, minute=0, second=0, microsecond=0)

    created_times = sorted(_created_time(rng, anchor) for _ in range(count))
    plans = []
    for number, created_at in enumerate(created_times, start=1):
        queue = queues[_weighted(rng, QUEUE_WEIGHTS)]
        plan = _plan(rng, seed, number, queue, created_at, now)
        plans.append(plan)
    return plans


def _created_time(rng: random.Random, anchor: dt.datetime) -> dt.datetime:
    """Draw a time in the past year, mostly on weekdays between 8:30 and 18:30 China time."""
    while True:
        day = anchor - dt.timedelta(days=rng.randint(1, HISTORY_DAYS))
        if day.weekday() >= 5 and rng.random() < 0.8:
            continue
        minutes = int(rng.triangular(8.5 * 60, 18.5 * 60, 10 * 60)) if rng.random() < 0.9 else rng.randint(0, 24 * 60 - 1)
        local = day + dt.timedelta(minutes=minutes)
        return local.astimezone(dt.timezone.utc)


def _plan(rng: random.Random, seed: int, number: int, queue: DemoQueue, created_at: dt.datetime, now: dt.datetime) -> IssuePlan:
    reporters = CUSTOMERS if queue.key == "cs" else EMPLOYEES
    reporter = rng.choice(reporters).username
    priority = _weighted(rng, PRIORITY_WEIGHTS)
    tags: tuple[str, ...] = ()

    recurring = [item for item in content.RECURRING if item[0] == queue.key]
    if recurring and rng.random() < RECURRING_SHARE * 3 * len(recurring) / len(content.RECURRING):
        _queue, category, title, description = rng.choice(recurring)
        tags = ("反复出现",)
    else:
        category = rng.choice(queue.categories)
        title_template, description_template = rng.choice(content.ISSUE_TEMPLATES[queue.key][category])
        slots = _slot_values(rng)
        title = title_template.format(**slots)
        description = description_template.format(**slots)

    steps = _life(rng, queue, reporter, priority, created_at, now)
    return IssuePlan(
        external_id=f"demo-{seed}-{number:05d}",
        queue=queue.key,
        title=title,
        description=description,
        category=category,
        priority=priority,
        reporter=reporter,
        created_at=created_at,
        steps=tuple(steps),
        tags=tags,
    )


def _life(rng: random.Random, queue: DemoQueue, reporter: str, priority: str, created_at: dt.datetime, now: dt.datetime) -> list[Step]:
    """Build the steps of one issue, each later than the one before and none after `now`."""
    agents = [agent.username for agent in queue.agents]
    # Some agents carry more of the load, as in real teams.
    agent = rng.choices(agents, weights=[len(agents) - index + 1 for index in range(len(agents))])[0]
    manager = queue.manager.username
    steps: list[Step] = []
    clock = created_at
    if rng.random() < UNTOUCHED_SHARE:
        return steps
    stalled = rng.random() < STALLED_SHARE

    def later(low_hours: float, high_hours: float) -> dt.datetime:
        nonlocal clock
        clock = clock + dt.timedelta(hours=rng.uniform(low_hours, high_hours))
        return clock

    def add(step: Step) -> bool:
        if step.at >= now:
            return False
        steps.append(step)
        return True

    # First response: the issue is taken on and the reporter hears back, in one
    # transition with a public reply (fewer transactions keep the demo load quick).
    at = later(*RESPONSE_HOURS[priority])
    reply = rng.choice(content.PUBLIC_REPLIES[queue.key])
    if queue.key == "fm":
        if not add(Step(at, manager, "transition", "dispatch", {"assignee": agent})):
            return steps
        if not add(Step(later(0.1, 1.0), agent, "transition", "start", body=reply)):
            return steps
    elif not add(Step(at, agent, "transition", "start", {"assignee": agent}, body=reply)):
        return steps
    if rng.random() < 0.3 and not add(Step(later(0.1, 4.0), agent, "comment", body=rng.choice(content.INTERNAL_NOTES[queue.key]), internal=True)):
        return steps
    if stalled and rng.random() < 0.5:
        return steps

    # Some issues wait: on the reporter (it, cs) or on spare parts (fm).
    if rng.random() < 0.25:
        if queue.key == "fm":
            wait = Step(later(0.5, 4.0), agent, "transition", "wait", {"parts": rng.choice(content.PARTS)})
        else:
            wait = Step(later(0.5, 4.0), agent, "transition", "wait", body=rng.choice(content.INFO_REQUESTS[queue.key]))
        if not add(wait):
            return steps
        if stalled:
            return steps
        if queue.key == "fm":
            resume = Step(later(24.0, 96.0), agent, "transition", "resume")
        else:
            resume = Step(later(4.0, 72.0), reporter, "transition", "resume", body=rng.choice(content.INFO_REPLIES))
        if not add(resume):
            return steps

    if stalled:
        return steps
    resolve_at = later(*RESOLUTION_HOURS[priority])
    resolution = rng.choice(content.RESOLUTIONS[queue.key])
    if not add(Step(resolve_at, agent, "transition", "resolve", {"resolution": resolution})):
        return steps

    if rng.random() < 0.05:
        if not add(Step(later(2.0, 48.0), reporter, "transition", "reopen", body=rng.choice(content.REOPEN_REMARKS))):
            return steps
        if not add(Step(later(1.0, 24.0), agent, "transition", "resolve", {"resolution": rng.choice(content.RESOLUTIONS[queue.key])})):
            return steps

    if rng.random() < 0.85:
        add(Step(later(4.0, 72.0), reporter, "transition", "close", body=rng.choice(content.CLOSING_REMARKS)))
    return steps


def _slot_values(rng: random.Random) -> dict[str, str]:
    values = {name: rng.choice(options) for name, options in content.SLOTS.items()}
    values["order"] = f"DD{rng.randint(2024000000, 2024999999)}"
    return values


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
