"""SLA clocks computed from an issue's timeline, a policy and a calendar.

Nothing here reads the database or the time of day: `compute_clocks` is a pure function
of the facts, the policy, the calendar, the workflow's state categories and `now`, so
the same inputs always give the same due times. That is what makes a recompute after a
calendar or policy change correct, and what the property tests exercise.

Rules (configured per policy, see `wenti_sla.policy.Policy`):

* first response starts when the issue is created and stops at the first event listed
  in `first_response_stop` (a public reply by default); it never restarts;
* resolution starts at creation, stops when the issue enters a state whose category
  is in `resolution_stop`, and resumes where it stopped when the issue is reopened;
* next response starts at each public reply of the reporter after the first response
  and stops at the next public reply by someone else;
* every running clock pauses while the issue is in a state whose category is in
  `pause_categories` (waiting on the reporter or a vendor);
* a clock breaches when its counted working time exceeds the target, and a clock that
  stops exactly at its due time has met it;
* on a priority change, `recompute` measures everything against the new priority's
  targets from creation on, `restart` starts the running clocks again from zero with the
  new targets at the moment of the change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from wenti_sla.calendar import WorkCalendar
from wenti_sla.policy import METRICS, Policy, Targets
from wenti_sla.timeline import Fact, current_value

RUNNING = "running"
PAUSED = "paused"
MET = "met"
BREACHED = "breached"


@attrs.frozen
class Segment:
    """A stretch of wall-clock time in a clock's life and the working seconds it counted.

    `kind` is `counted` (the clock ran), `paused` (a pause state), or `restart` (a
    zero-length marker where a priority change restarted the clock).
    """

    start: float
    end: float
    kind: str
    working: float = 0.0


@attrs.frozen
class ClockState:
    """One SLA clock of one issue as of `now`. Times are UTC timestamps; durations are working seconds."""

    metric: str
    target: float
    status: str
    elapsed: float
    started_at: float
    due_at: float | None
    stopped_at: float | None
    breached_at: float | None
    warnings: tuple[tuple[float, float], ...]
    estimated: bool
    reopened: int = 0
    segments: tuple[Segment, ...] = ()

    @property
    def active(self) -> bool:
        """True while the clock is still counting or paused (not stopped)."""
        return self.stopped_at is None

    @property
    def remaining(self) -> float:
        return max(self.target - self.elapsed, 0.0)

    def warning_at(self, share: float) -> float | None:
        for warning_share, at in self.warnings:
            if abs(warning_share - share) < 1e-9:
                return at
        return None


@attrs.frozen
class IssueClocks:
    policy: str
    calendar: str
    clocks: dict[str, ClockState]

    @property
    def estimated(self) -> bool:
        return any(clock.estimated for clock in self.clocks.values())


class _Clock:
    """Mutable state of one clock while the timeline is replayed."""

    __slots__ = ("metric", "target", "started_at", "elapsed", "stopped_at", "breached_at", "warnings", "reopened", "segments")

    def __init__(self, metric: str, target: float, started_at: float) -> None:
        self.metric = metric
        self.target = target
        self.started_at = started_at
        self.elapsed = 0.0
        self.stopped_at: float | None = None
        self.breached_at: float | None = None
        self.warnings: dict[float, float] = {}
        self.reopened = 0
        self.segments: list[Segment] = []

    def restart(self, at: float, target: float) -> None:
        self.target = target
        self.started_at = at
        self.elapsed = 0.0
        self.breached_at = None
        self.warnings = {}
        self.segments.append(Segment(at, at, "restart"))


class _Replay:
    def __init__(self, policy: Policy, calendar: WorkCalendar, category_of: Callable[[str], str], targets: Targets, explain: bool) -> None:
        self.policy = policy
        self.calendar = calendar
        self.category_of = category_of
        self.targets = targets
        self.explain = explain
        self.clocks: dict[str, _Clock] = {}
        self.finished_next_response: list[_Clock] = []
        self.category = ""
        self.created = False
        self.position = 0.0

    # -- time passing -----------------------------------------------------------------

    def advance(self, until: float) -> None:
        if until <= self.position:
            return
        paused = self.category in self.policy.pause_categories
        running = [clock for clock in self.clocks.values() if clock.stopped_at is None]
        if running:
            # Every running clock shares the segment, so its working time is measured once.
            worked = 0.0 if paused else self.calendar.working_seconds(self.position, until)
            for clock in running:
                self._accrue(clock, self.position, until, paused, worked)
        self.position = until

    def _accrue(self, clock: _Clock, start: float, end: float, paused: bool, worked: float) -> None:
        if paused:
            if self.explain:
                clock.segments.append(Segment(start, end, "paused"))
            return
        before = clock.elapsed
        after = before + worked
        for share in self.policy.warn_at:
            threshold = share * clock.target
            if before < threshold <= after and share not in clock.warnings:
                clock.warnings[share] = self.calendar.add_working_seconds(start, threshold - before)
        if clock.breached_at is None and after > clock.target:
            clock.breached_at = self.calendar.add_working_seconds(start, clock.target - before)
        clock.elapsed = after
        if self.explain:
            clock.segments.append(Segment(start, end, "counted", worked))

    # -- facts ------------------------------------------------------------------------

    def apply(self, at: float, kind: str, value: str) -> None:
        if kind == "status":
            self._enter_state(at, value)
        elif kind in ("public_reply", "internal_note", "assigned"):
            self._response(at, kind)
        elif kind == "reporter_reply":
            self._reporter_reply(at)
        elif kind == "priority" and self.created and self.policy.on_priority_change == "restart":
            self._restart(at, value)

    def _enter_state(self, at: float, state: str) -> None:
        self.category = self.category_of(state)
        if not self.created:
            self.created = True
            self._start(at)
        stops_resolution = self.category in self.policy.resolution_stop
        resolution = self.clocks.get("resolution")
        if resolution is not None:
            if stops_resolution and resolution.stopped_at is None:
                resolution.stopped_at = at
            elif not stops_resolution and resolution.stopped_at is not None:
                resolution.stopped_at = None
                resolution.reopened += 1
        if self.category in ("resolved", "closed"):
            self._stop("first_response", at, "resolved" in self.policy.first_response_stop)
            self._stop("next_response", at, True)

    def _start(self, at: float) -> None:
        for metric in ("first_response", "resolution"):
            target = self.targets.get(metric)
            if target is not None:
                self.clocks[metric] = _Clock(metric, target, at)

    def _stop(self, metric: str, at: float, condition: bool) -> None:
        clock = self.clocks.get(metric)
        if condition and clock is not None and clock.stopped_at is None:
            clock.stopped_at = at

    def _response(self, at: float, kind: str) -> None:
        self._stop("first_response", at, kind in self.policy.first_response_stop)
        if kind == "public_reply":
            self._stop("next_response", at, True)

    def _reporter_reply(self, at: float) -> None:
        target = self.targets.get("next_response")
        first = self.clocks.get("first_response")
        if target is None or (first is not None and first.stopped_at is None):
            return
        current = self.clocks.get("next_response")
        if current is not None and current.stopped_at is None:
            return
        if current is not None:
            self.finished_next_response.append(current)
        self.clocks["next_response"] = _Clock("next_response", target, at)

    def _restart(self, at: float, priority: str) -> None:
        targets = self.policy.targets_for(priority)
        if targets is None:
            return
        self.targets = targets
        for metric, clock in self.clocks.items():
            target = targets.get(metric)
            if clock.stopped_at is None and target is not None:
                clock.restart(at, target)


def compute_clocks(
    facts: Sequence[Fact],
    policy: Policy,
    calendar: WorkCalendar,
    category_of: Callable[[str], str],
    now: float,
    *,
    explain: bool = False,
) -> IssueClocks:
    """Replay `facts` (sorted by time) under `policy` on `calendar` up to `now`.

    `category_of` maps a workflow state key to its category (`open`, `waiting`,
    `resolved`, `closed`). With `explain`, each clock keeps its segments. Facts after
    `now` are ignored. An issue without a `status` fact has no clocks.
    """
    if policy.on_priority_change == "recompute":
        priority = current_value(facts, "priority", "normal")
    else:
        priority = next((value for _at, kind, value in facts if kind == "priority"), "normal")
    targets = policy.targets_for(priority) or Targets()

    replay = _Replay(policy, calendar, category_of, targets, explain)
    for at, kind, value in facts:
        if at > now:
            break
        if not replay.created:
            replay.position = at
        replay.advance(at)
        replay.apply(at, kind, value)
    if replay.created:
        replay.advance(now)

    paused = replay.category in policy.pause_categories
    clocks = {
        metric: _finish(replay.clocks[metric], calendar, policy.warn_at, paused, now) for metric in METRICS if metric in replay.clocks
    }
    return IssueClocks(policy=policy.key, calendar=calendar.name, clocks=clocks)


def _finish(clock: _Clock, calendar: WorkCalendar, shares: Sequence[float], paused: bool, now: float) -> ClockState:
    running = clock.stopped_at is None
    if running and clock.breached_at is None and clock.elapsed >= clock.target:
        # Exactly at the due instant: a running clock has breached, a stopped one would have met.
        clock.breached_at = now

    if clock.breached_at is not None:
        status = BREACHED
    elif not running:
        status = MET
    elif paused:
        status = PAUSED
    else:
        status = RUNNING

    due_at: float | None
    if clock.breached_at is not None:
        due_at = clock.breached_at
    elif running and not paused:
        due_at = calendar.add_working_seconds(now, clock.target - clock.elapsed)
    else:
        due_at = None

    warnings = dict(clock.warnings)
    if running and not paused:
        for share in sorted(set(shares) - set(warnings)):
            warnings[share] = calendar.add_working_seconds(now, share * clock.target - clock.elapsed)

    horizon = now
    if due_at is not None:
        horizon = due_at
    elif clock.stopped_at is not None:
        horizon = clock.stopped_at
    return ClockState(
        metric=clock.metric,
        target=clock.target,
        status=status,
        elapsed=clock.elapsed,
        started_at=clock.started_at,
        due_at=due_at,
        stopped_at=clock.stopped_at,
        breached_at=clock.breached_at,
        warnings=tuple(sorted(warnings.items())),
        estimated=calendar.estimated_between(clock.started_at, max(horizon, now)),
        reopened=clock.reopened,
        segments=tuple(clock.segments),
    )
