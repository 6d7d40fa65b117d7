"""SLA badges for issue lists and pages, and the SLA list filters, as hook results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from wenti.i18n import N_, use_locale
from wenti.records import IssueBadge, IssueFilter

from wenti_sla.explain import METRIC_LABELS, clock_lines, format_duration, format_time
from wenti_sla.translation import _

# A running clock turns from `ok` to `warning` when less than this share of its target remains.
WARNING_SHARE_LEFT = 0.25


def remaining_now(row: dict[str, Any], calendar: Any, now: float) -> float:
    """Working seconds left on a stored clock at `now` (the row was computed earlier)."""
    elapsed = row["elapsed"]
    if row["status"] == "running" and now > row["computed_at"]:
        elapsed += calendar.working_seconds(row["computed_at"], now)
    return max(row["target"] - elapsed, 0.0)


def badge_for(issue_id: int, row: dict[str, Any], calendar: Any, now: float) -> IssueBadge:
    metric = _(METRIC_LABELS[row["metric"]])
    due = format_time(row["due_at"], calendar) if row["due_at"] is not None else ""
    status = row["status"]
    if status == "running" and row["due_at"] is not None and row["due_at"] <= now:
        status = "breached"

    if status == "breached":
        label = _("{metric}: breached").format(metric=metric)
        tone = "danger"
        detail = _("Due {due}").format(due=due) if due else ""
    elif status == "paused":
        left = format_duration(remaining_now(row, calendar, now))
        label = _("{metric}: paused, {left} left").format(metric=metric, left=left)
        tone = "muted"
        detail = _("The clock is paused while the issue waits.")
    elif status == "met":
        label = _("{metric}: met").format(metric=metric)
        tone = "ok"
        detail = ""
    else:
        left_seconds = remaining_now(row, calendar, now)
        label = _("{metric}: {left} left").format(metric=metric, left=format_duration(left_seconds))
        tone = "warning" if left_seconds < WARNING_SHARE_LEFT * row["target"] else "ok"
        detail = _("Due {due}").format(due=due)
    if row["estimated"]:
        detail = (detail + " " + _("(estimated)")).strip()

    value = datetime.fromtimestamp(row["due_at"], timezone.utc).isoformat() if row["due_at"] is not None else None
    return IssueBadge(issue_id=issue_id, name=f"sla.{row['metric']}", label=label, tone=tone, detail=detail, value=value)


def issue_badges(service: Any, issues: Sequence[Any], ctx: Any) -> list[IssueBadge]:
    """Build one badge per stored clock of each issue.

    For a single issue (the issue page) each badge's `detail` is the full explanation
    of its clock, computed from history: counted and paused intervals and special days.
    Lists get the short detail only, because explaining reads every issue's history.
    """
    ids = [issue.id for issue in issues if issue.id is not None]
    rows = service.clock_rows(ctx.tenant_id, ids)
    now = service.app.clock.now().timestamp()
    badges = []
    with use_locale(ctx.locale):
        explanations = _explanations(service, ctx.tenant_id, ids[0], now) if len(ids) == 1 else {}
        for issue_id in ids:
            for row in rows.get(issue_id, []):
                calendar = service.calendars.get(row["calendar"])
                if calendar is None:
                    continue
                badge = badge_for(issue_id, row, calendar, now)
                if row["metric"] in explanations:
                    badge = attrs.evolve(badge, detail=explanations[row["metric"]])
                badges.append(badge)
    return badges


def _explanations(service: Any, tenant_id: str, issue_id: int, now: float) -> dict[str, str]:
    clocks, calendar = service.explain(tenant_id, issue_id, now)
    if clocks is None or calendar is None:
        return {}
    return {metric: "\n".join(line.strip() for line in clock_lines(clock, calendar)) for metric, clock in clocks.clocks.items()}


def issue_filters(service_for: Any) -> list[IssueFilter]:
    def due_within(app: Any, ctx: Any, value: Any) -> list[int]:
        return service_for(app).matching_issue_ids(ctx.tenant_id, "due_within", hours=float(value))

    def breached(app: Any, ctx: Any, value: Any) -> list[int]:
        return service_for(app).matching_issue_ids(ctx.tenant_id, "breached")

    def paused(app: Any, ctx: Any, value: Any) -> list[int]:
        return service_for(app).matching_issue_ids(ctx.tenant_id, "paused")

    return [
        IssueFilter(name="sla_due_within", label=N_("SLA due within"), match=due_within, value_kind="number", value_label=N_("hours")),
        IssueFilter(name="sla_breached", label=N_("SLA breached"), match=breached),
        IssueFilter(name="sla_paused", label=N_("SLA paused"), match=paused),
    ]
