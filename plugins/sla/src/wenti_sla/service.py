"""The SLA service of a running app: refresh, recompute, query, check and escalate.

The clocks are derived data. `refresh_issue` reads an issue's history, extracts its
timeline into `sla_issues` and computes its clocks into `sla_clocks`. `recompute`
computes every open issue again from the stored timelines after a calendar or policy
change. `check_due` runs on the scheduler and turns clocks that reached a warning
share or breached into `sla.warning` and `sla.breached` history events.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs
from sqlalchemy import Text, and_, cast, delete, insert, or_, select, update

from wenti.app import Context
from wenti.domain import Priority, Role, StateCategory, User
from wenti.errors import Conflict, NotFound, WentiError

from wenti_sla.calendar import WorkCalendar
from wenti_sla.engine import BREACHED, PAUSED, RUNNING, ClockState, IssueClocks, compute_clocks
from wenti_sla.policy import Escalation, Policy, select_policy
from wenti_sla.tables import sla_clocks, sla_issues
from wenti_sla.timeline import IMPORTED_STATES, Fact, current_value, extract_facts, facts_from_json, facts_to_json

log = logging.getLogger(__name__)

WARNING_EVENT = "sla.warning"
BREACHED_EVENT = "sla.breached"


@attrs.frozen
class Notice:
    """A warning or breach announced for one clock of one issue."""

    tenant_id: str
    issue_id: int
    metric: str
    kind: str
    share: float | None
    event_id: str


def _timestamp(value: datetime) -> float:
    return value.timestamp()


def _iso(value: float | None) -> str | None:
    return datetime.fromtimestamp(value, timezone.utc).isoformat() if value is not None else None


class SlaService:
    """SLA clocks of one app. Built by the plugin at start-up; see `wenti_sla.service_for`."""

    def __init__(self, app: Any, policies: Sequence[Policy], calendars: Mapping[str, WorkCalendar], system_user: str = "sla") -> None:
        self.app = app
        self.policies = list(policies)
        self.calendars = dict(calendars)
        self.system_user = system_user

    # -- configuration ----------------------------------------------------------------

    def policy_for(self, tenant_id: str, queue: str, priority: str) -> Policy | None:
        return select_policy(self.policies, tenant_id, queue, priority)

    def calendar(self, name: str) -> WorkCalendar:
        try:
            return self.calendars[name]
        except KeyError:
            raise NotFound("SLA calendar {name} is not defined.", name=name) from None

    def system_context(self, tenant_id: str) -> Context:
        """Build the acting context of SLA events and escalations: a built-in admin-level actor."""
        user = User(tenant_id=tenant_id, username=self.system_user, display_name="SLA", role=Role.ADMIN)
        return Context(tenant_id=tenant_id, user=user)

    # -- computing --------------------------------------------------------------------

    def compute(
        self,
        tenant_id: str,
        facts: Sequence[Fact],
        categories: Mapping[str, str],
        now: float,
        *,
        explain: bool = False,
    ) -> IssueClocks | None:
        """Compute the clocks of one timeline under the policy of its current queue and priority.

        Returns None when no policy matches.
        """
        queue = current_value(facts, "queue")
        priority = current_value(facts, "priority", Priority.NORMAL.value)
        policy = self.policy_for(tenant_id, queue, priority)
        if policy is None:
            return None
        calendar = self.calendars[policy.calendar]
        return compute_clocks(facts, policy, calendar, lambda state: _category(categories, state), now, explain=explain)

    def _categories(self, uow: Any) -> dict[str, dict[str, str]]:
        """State categories per queue key, from the tenant's workflows."""
        workflows = {workflow.key: workflow for workflow in uow.workflows.list()}
        by_queue = {}
        for queue in uow.queues.list():
            workflow = workflows.get(queue.workflow_key)
            states = workflow.states if workflow is not None else ()
            by_queue[queue.key] = {state.key: state.category.value for state in states}
        return by_queue

    # -- one issue --------------------------------------------------------------------

    def refresh_issue(self, tenant_id: str, issue_id: int, now: float | None = None) -> IssueClocks | None:
        """Read the issue's history, store its timeline and clocks, and return the clocks."""
        now = self._now() if now is None else now
        with self.app.uow(tenant_id) as uow:
            issue = uow.issues.get(issue_id)
            if issue is None:
                raise NotFound("Issue {issue_id} does not exist.", issue_id=issue_id)
            facts = extract_facts(uow.events.list(issue_id), issue.reporter, issue)
            categories = self._categories(uow).get(issue.queue, {})
            clocks = self.compute(tenant_id, facts, categories, now)
            connection = uow.sql_connection()
            _store_timeline(connection, tenant_id, issue_id, facts, categories, now)
            _store_clocks(connection, tenant_id, {issue_id: clocks}, now)
            uow.commit()
        return clocks

    def explain(self, tenant_id: str, issue_id: int, now: float | None = None) -> tuple[IssueClocks | None, WorkCalendar | None]:
        """Compute the clocks of one issue with their segments from its history, storing nothing."""
        now = self._now() if now is None else now
        with self.app.uow(tenant_id) as uow:
            issue = uow.issues.get(issue_id)
            if issue is None:
                raise NotFound("Issue {issue_id} does not exist.", issue_id=issue_id)
            facts = extract_facts(uow.events.list(issue_id), issue.reporter, issue)
            categories = self._categories(uow).get(issue.queue, {})
        clocks = self.compute(tenant_id, facts, categories, now, explain=True)
        if clocks is None:
            return None, None
        return clocks, self.calendars[clocks.calendar]

    # -- every open issue -------------------------------------------------------------

    def recompute(self, tenant_ids: Iterable[str] | None = None, now: float | None = None, *, from_history: bool = False) -> int:
        """Compute the clocks of every issue that is not closed again; returns how many issues.

        With `from_history`, every issue's timeline is first extracted again from its
        history (use it after installing the plugin or restoring a backup).
        Closed issues keep their stored results.
        """
        now = self._now() if now is None else now
        total = 0
        for tenant_id in list(tenant_ids) if tenant_ids is not None else self.tenant_ids():
            if from_history:
                self._rebuild_timelines(tenant_id, now)
            total += self._recompute_tenant(tenant_id, now)
        log.info("sla recompute issues=%s from_history=%s", total, from_history)
        return total

    def tenant_ids(self) -> list[str]:
        with self.app.uow("_system") as uow:
            return [tenant.id for tenant in uow.tenants.list()]

    def _rebuild_timelines(self, tenant_id: str, now: float) -> None:
        from wenti.store import IssueQuery

        with self.app.uow(tenant_id) as uow:
            categories = self._categories(uow)
            connection = uow.sql_connection()
            for issue in uow.issues.iter_all(IssueQuery(sort=("id",), limit=1000)):
                facts = extract_facts(uow.events.list(issue.id), issue.reporter, issue)
                _store_timeline(connection, tenant_id, issue.id, facts, categories.get(issue.queue, {}), now)
            uow.commit()

    def _recompute_tenant(self, tenant_id: str, now: float) -> int:
        with self.app.uow(tenant_id) as uow:
            categories = self._categories(uow)
            connection = uow.sql_connection()
            # Timelines are read as text and decoded here, which is cheaper than the
            # JSON column's per-row result processing for 100,000 rows.
            rows = connection.execute(
                select(sla_issues.c.issue_id, sla_issues.c.queue, cast(sla_issues.c.facts, Text)).where(
                    sla_issues.c.tenant_id == tenant_id, sla_issues.c.closed.is_(False)
                )
            ).all()
            results = {}
            for issue_id, queue, facts_text in rows:
                facts = facts_from_json(json.loads(facts_text))
                results[issue_id] = self.compute(tenant_id, facts, categories.get(queue, {}), now)
            _store_clocks(connection, tenant_id, results, now, all_open=True)
            uow.commit()
        return len(results)

    # -- queries ----------------------------------------------------------------------

    def clock_rows(self, tenant_id: str, issue_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
        """Stored clocks of the given issues, keyed by issue id (for badges and exports)."""
        ids = list(issue_ids)
        result: dict[int, list[dict[str, Any]]] = {issue_id: [] for issue_id in ids}
        if not ids:
            return result
        with self.app.uow(tenant_id) as uow:
            rows = uow.sql_connection().execute(
                select(sla_clocks).where(sla_clocks.c.tenant_id == tenant_id, sla_clocks.c.issue_id.in_(ids)).order_by(sla_clocks.c.issue_id, sla_clocks.c.metric)
            )
            for row in rows:
                result[row.issue_id].append(dict(row._mapping))
        return result

    def matching_issue_ids(self, tenant_id: str, condition: str, hours: float | None = None, now: float | None = None) -> list[int]:
        """Issue ids for the list filters `due_within` (needs `hours`), `breached` and `paused`.

        `due_within` counts wall-clock hours from `now` to the due time and leaves out
        clocks already past due, which `breached` lists.
        """
        now = self._now() if now is None else now
        if condition == "due_within":
            if hours is None or hours <= 0:
                raise ValueError(f"due_within needs a positive number of hours, got {hours!r}")
            where = and_(sla_clocks.c.status == RUNNING, sla_clocks.c.due_at > now, sla_clocks.c.due_at <= now + hours * 3600)
        elif condition == "breached":
            where = or_(sla_clocks.c.status == BREACHED, and_(sla_clocks.c.status == RUNNING, sla_clocks.c.due_at <= now))
        elif condition == "paused":
            where = sla_clocks.c.status == PAUSED
        else:
            raise ValueError(f"unknown SLA filter {condition!r}; use due_within, breached or paused")
        with self.app.uow(tenant_id) as uow:
            rows = uow.sql_connection().execute(
                select(sla_clocks.c.issue_id)
                .where(sla_clocks.c.tenant_id == tenant_id, sla_clocks.c.stopped_at.is_(None), where)
                .distinct()
                .order_by(sla_clocks.c.issue_id)
            )
            return [row.issue_id for row in rows]

    # -- warnings and breaches --------------------------------------------------------

    def check_due(self, now: float | None = None) -> list[Notice]:
        """Announce every warning and breach that is due; returns the notices sent.

        Each candidate issue is refreshed from its history first, so a stale cache
        never produces a false breach. The event is committed before the notice is
        marked as sent, in a second transaction, so a crash between the two repeats
        the notice after a restart and never loses it.
        """
        now = self._now() if now is None else now
        notices: list[Notice] = []
        for tenant_id in self.tenant_ids():
            for issue_id in self._candidates(tenant_id, now):
                try:
                    notices.extend(self._check_issue(tenant_id, issue_id, now))
                except WentiError as error:
                    log.warning("sla check failed tenant=%s issue=%s: %s", tenant_id, issue_id, error)
        return notices

    def _candidates(self, tenant_id: str, now: float) -> list[int]:
        with self.app.uow(tenant_id) as uow:
            rows = uow.sql_connection().execute(
                select(sla_clocks.c.issue_id)
                .where(
                    sla_clocks.c.tenant_id == tenant_id,
                    sla_clocks.c.stopped_at.is_(None),
                    or_(
                        and_(sla_clocks.c.breach_sent.is_(False), sla_clocks.c.status == RUNNING, sla_clocks.c.due_at <= now),
                        and_(sla_clocks.c.breach_sent.is_(False), sla_clocks.c.status == BREACHED),
                        sla_clocks.c.next_warning_at <= now,
                    ),
                )
                .distinct()
                .order_by(sla_clocks.c.issue_id)
            )
            return [row.issue_id for row in rows]

    def _check_issue(self, tenant_id: str, issue_id: int, now: float) -> list[Notice]:
        clocks = self.refresh_issue(tenant_id, issue_id, now)
        if clocks is None:
            return []
        stored = {row["metric"]: row for row in self.clock_rows(tenant_id, [issue_id])[issue_id]}
        policy = next(policy for policy in self.policies if policy.key == clocks.policy)
        notices = []
        for metric, clock in clocks.clocks.items():
            row = stored.get(metric)
            if row is None:
                continue
            notices.extend(self._announce(tenant_id, issue_id, policy, clock, row, now))
        return notices

    def _announce(self, tenant_id: str, issue_id: int, policy: Policy, clock: ClockState, row: Mapping[str, Any], now: float) -> list[Notice]:
        notices = []
        warned = set(row["warned"])
        if clock.breached_at is not None and clock.breached_at <= now and clock.active and not row["breach_sent"]:
            notices.append(self._send(tenant_id, issue_id, policy, clock, "breached", None))
            # Warnings that were never sent are stale once the clock has breached.
            warned |= {share for share, _at in clock.warnings}
            self._mark(tenant_id, issue_id, clock.metric, warned, True, clock)
            return notices
        for share, at in clock.warnings:
            if share not in warned and at <= now and clock.breached_at is None and clock.active:
                notices.append(self._send(tenant_id, issue_id, policy, clock, "warning", share))
                warned.add(share)
        if notices:
            self._mark(tenant_id, issue_id, clock.metric, warned, bool(row["breach_sent"]), clock)
        return notices

    def _send(self, tenant_id: str, issue_id: int, policy: Policy, clock: ClockState, kind: str, share: float | None) -> Notice:
        ctx = self.system_context(tenant_id)
        escalations = [escalation for escalation in policy.escalations if escalation.applies(kind, clock.metric, share)]
        data = {
            "metric": clock.metric,
            "policy": policy.key,
            "calendar": policy.calendar,
            "target_seconds": clock.target,
            "elapsed_seconds": round(clock.elapsed, 3),
            "due_at": _iso(clock.due_at),
            "share": share,
            "estimated": clock.estimated,
            "escalations": [attrs.asdict(escalation) for escalation in escalations],
        }
        event = self.app.issues.record_event(ctx, issue_id, WARNING_EVENT if kind == "warning" else BREACHED_EVENT, data)
        log.info("sla %s tenant=%s issue=%s metric=%s policy=%s event=%s", kind, tenant_id, issue_id, clock.metric, policy.key, event.id)
        for escalation in escalations:
            self._escalate(ctx, issue_id, escalation)
        return Notice(tenant_id, issue_id, clock.metric, kind, share, event.id)

    def _mark(self, tenant_id: str, issue_id: int, metric: str, warned: set[float], breach_sent: bool, clock: ClockState) -> None:
        with self.app.uow(tenant_id) as uow:
            uow.sql_connection().execute(
                update(sla_clocks)
                .where(sla_clocks.c.tenant_id == tenant_id, sla_clocks.c.issue_id == issue_id, sla_clocks.c.metric == metric)
                .values(warned=sorted(warned), breach_sent=breach_sent, next_warning_at=_next_warning(clock, warned))
            )
            uow.commit()

    # -- escalation actions -----------------------------------------------------------

    def _escalate(self, ctx: Context, issue_id: int, escalation: Escalation) -> None:
        """Run a built-in action. `notify` needs nothing here: it is listed in the event's `escalations`.

        The notify plugin reads that list and adds the people each `to` names to the
        event's recipients.
        """
        try:
            if escalation.action == "raise_priority":
                self._raise_priority(ctx, issue_id)
            elif escalation.action == "reassign_to_manager":
                self._reassign_to_manager(ctx, issue_id)
        except (Conflict, WentiError) as error:
            log.warning("sla escalation %s failed tenant=%s issue=%s: %s", escalation.action, ctx.tenant_id, issue_id, error)

    def _raise_priority(self, ctx: Context, issue_id: int) -> None:
        issue = self.app.issues.get(ctx, issue_id)
        ranked = sorted(Priority, key=lambda priority: priority.rank)
        position = ranked.index(issue.priority)
        if position == 0:
            return
        self.app.issues.update(ctx, issue_id, issue.version, priority=ranked[position - 1].value)

    def _reassign_to_manager(self, ctx: Context, issue_id: int) -> None:
        issue = self.app.issues.get(ctx, issue_id)
        with self.app.uow(ctx.tenant_id) as uow:
            queue = uow.queues.get(issue.queue)
        manager = queue.manager if queue is not None else None
        if manager and issue.assignee != manager:
            self.app.issues.assign(ctx, issue_id, issue.version, manager)

    def _now(self) -> float:
        return _timestamp(self.app.clock.now())


def _category(categories: Mapping[str, str], state: str) -> str:
    """Map a state to its category; a state the workflow no longer has counts as open."""
    return IMPORTED_STATES.get(state) or categories.get(state, StateCategory.OPEN.value)


def _next_warning(clock: ClockState, warned: Iterable[float]) -> float | None:
    if not clock.active or clock.status != RUNNING or clock.breached_at is not None:
        return None
    sent = set(warned)
    pending = [at for share, at in clock.warnings if share not in sent]
    return min(pending) if pending else None


def _store_timeline(connection: Any, tenant_id: str, issue_id: int, facts: Sequence[Fact], categories: Mapping[str, str], now: float) -> None:
    status = current_value(facts, "status")
    row = {
        "tenant_id": tenant_id,
        "issue_id": issue_id,
        "queue": current_value(facts, "queue"),
        "priority": current_value(facts, "priority", Priority.NORMAL.value),
        "status": status,
        "closed": _category(categories, status) == StateCategory.CLOSED.value,
        "facts": facts_to_json(facts),
        "updated_at": now,
    }
    connection.execute(delete(sla_issues).where(sla_issues.c.tenant_id == tenant_id, sla_issues.c.issue_id == issue_id))
    connection.execute(insert(sla_issues).values(row))


def _store_clocks(
    connection: Any, tenant_id: str, results: Mapping[int, IssueClocks | None], now: float, *, all_open: bool = False
) -> None:
    """Replace the stored clocks of these issues, keeping notices of clocks that did not restart.

    `all_open` says that `results` covers every issue of the tenant that is not closed,
    which lets one statement each read the old notices and delete the old rows.
    """
    ids = list(results)
    if not ids:
        return
    notice_columns = (sla_clocks.c.issue_id, sla_clocks.c.metric, sla_clocks.c.notice_key, sla_clocks.c.warned, sla_clocks.c.breach_sent)
    previous: dict[tuple[int, str], Any] = {}
    if all_open:
        open_ids = select(sla_issues.c.issue_id).where(sla_issues.c.tenant_id == tenant_id, sla_issues.c.closed.is_(False))
        # `warned` is read as text and decoded only when not empty, because most
        # clocks have no notice yet and JSON decoding dominates this query.
        query = select(
            sla_clocks.c.issue_id, sla_clocks.c.metric, sla_clocks.c.notice_key, cast(sla_clocks.c.warned, Text).label("warned_text"), sla_clocks.c.breach_sent
        ).where(sla_clocks.c.tenant_id == tenant_id)
        for issue_id, metric, notice_key, warned_text, breach_sent in connection.execute(query):
            if breach_sent or (warned_text and warned_text.strip() != "[]"):
                warned = json.loads(warned_text) if warned_text else []
                previous[(issue_id, metric)] = _Notices(notice_key, warned, bool(breach_sent))
        connection.execute(delete(sla_clocks).where(sla_clocks.c.tenant_id == tenant_id, sla_clocks.c.issue_id.in_(open_ids)))
    else:
        for chunk in _chunks(ids, 500):
            for row in connection.execute(select(*notice_columns).where(sla_clocks.c.tenant_id == tenant_id, sla_clocks.c.issue_id.in_(chunk))):
                previous[(row.issue_id, row.metric)] = row
            connection.execute(delete(sla_clocks).where(sla_clocks.c.tenant_id == tenant_id, sla_clocks.c.issue_id.in_(chunk)))

    rows = []
    for issue_id, clocks in results.items():
        if clocks is None:
            continue
        for metric, clock in clocks.clocks.items():
            old = previous.get((issue_id, metric))
            same_clock = old is not None and abs(old.notice_key - clock.started_at) < 1e-3
            warned = list(old.warned) if same_clock else []
            # The order follows `_CLOCK_COLUMNS`, which is the table's column order.
            rows.append(
                (
                    tenant_id,
                    issue_id,
                    metric,
                    clocks.policy,
                    clocks.calendar,
                    clock.target,
                    clock.status,
                    clock.elapsed,
                    clock.started_at,
                    clock.due_at,
                    clock.stopped_at,
                    clock.breached_at,
                    _next_warning(clock, warned),
                    clock.estimated,
                    now,
                    clock.started_at,
                    warned,
                    bool(old.breach_sent) if same_clock else False,
                )
            )
    if rows:
        _insert_many(connection, rows)


_CLOCK_COLUMNS = [column.name for column in sla_clocks.columns]
_WARNED = _CLOCK_COLUMNS.index("warned")
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _insert_many(connection: Any, rows: list[tuple[Any, ...]]) -> None:
    """Insert clock rows, given as tuples in column order, with one driver-level executemany.

    A recompute writes one row per clock of every open issue, and SQLAlchemy's
    per-row parameter processing costs more than the computation, so the rows go
    to the driver as tuples. Only `warned` needs encoding (JSON text).
    """
    placeholder = _PLACEHOLDERS.get(connection.dialect.paramstyle)
    if placeholder is None:
        connection.execute(insert(sla_clocks), [dict(zip(_CLOCK_COLUMNS, row)) for row in rows])
        return
    statement = "INSERT INTO sla_clocks ({columns}) VALUES ({values})".format(
        columns=", ".join(_CLOCK_COLUMNS), values=", ".join([placeholder] * len(_CLOCK_COLUMNS))
    )
    values = []
    for row in rows:
        encoded = list(row)
        encoded[_WARNED] = json.dumps(row[_WARNED]) if row[_WARNED] else "[]"
        values.append(tuple(encoded))
    connection.exec_driver_sql(statement, values)


@attrs.frozen
class _Notices:
    notice_key: float
    warned: list[float]
    breach_sent: bool


def _chunks(values: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])
