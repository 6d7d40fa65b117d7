"""Explanations of due times: which intervals counted, which were paused, which days were special.

`explain_lines` renders the result of `SlaService.explain` as text in the current
locale, for `wenti sla explain` and the issue page.
"""

from __future__ import annotations

from datetime import datetime

from wenti.i18n import N_

from wenti_sla.calendar import DayKind, WorkCalendar
from wenti_sla.engine import ClockState, IssueClocks
from wenti_sla.translation import _

METRIC_LABELS = {
    "first_response": N_("First response"),
    "resolution": N_("Resolution"),
    "next_response": N_("Next response"),
}

STATUS_LABELS = {
    "running": N_("running"),
    "paused": N_("paused"),
    "met": N_("met"),
    "breached": N_("breached"),
}

DAY_LABELS = {
    DayKind.HOLIDAY: N_("public holiday"),
    DayKind.MAKEUP_WORKDAY: N_("make-up workday"),
    DayKind.TENANT_CLOSED: N_("closed day of this organisation"),
    DayKind.TENANT_WORKING: N_("extra working day of this organisation"),
    DayKind.WEEKEND: N_("weekend"),
}

# The holiday names the `chinesecalendar` package uses, marked for translation.
HOLIDAY_NAMES = (
    N_("New Year's Day"),
    N_("Spring Festival"),
    N_("Tomb-sweeping Day"),
    N_("Labour Day"),
    N_("Dragon Boat Festival"),
    N_("National Day"),
    N_("Mid-autumn Festival"),
    N_("Anti-Fascist 70th Day"),
)

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def format_duration(seconds: float) -> str:
    """Working time as hours and minutes, rounded down to the minute."""
    minutes = int(max(seconds, 0) // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    if hours:
        return _("{hours} h").format(hours=hours)
    return _("{minutes} min").format(minutes=minutes)


def format_time(timestamp: float | None, calendar: WorkCalendar) -> str:
    if timestamp is None:
        return "-"
    local = datetime.fromtimestamp(timestamp, calendar.zone)
    return _("{time} ({weekday})").format(time=f"{local:%Y-%m-%d %H:%M}", weekday=_(WEEKDAYS[local.weekday()]))


def clock_summary(clock: ClockState, calendar: WorkCalendar) -> str:
    """Summarise a clock in one line: metric, status, target, counted time and due or stop time."""
    values = {
        "metric": _(METRIC_LABELS[clock.metric]),
        "status": _(STATUS_LABELS[clock.status]),
        "target": format_duration(clock.target),
        "elapsed": format_duration(clock.elapsed),
    }
    if clock.status == "met" and clock.stopped_at is not None:
        text = _("{metric}: {status}; target {target} of working time, counted {elapsed}, stopped {stopped}").format(
            stopped=format_time(clock.stopped_at, calendar), **values
        )
    elif clock.due_at is None:
        text = _("{metric}: {status}; target {target} of working time, counted {elapsed}, no due time while paused").format(**values)
    else:
        text = _("{metric}: {status}; target {target} of working time, counted {elapsed}, due {due}").format(
            due=format_time(clock.due_at, calendar), **values
        )
    if clock.estimated:
        text += " " + _("(estimated: the holiday calendar does not cover every year involved)")
    return text


def explain_lines(issue_key: str, clocks: IssueClocks | None, calendar: WorkCalendar | None) -> list[str]:
    """Explain every clock of one issue, as lines of text."""
    if clocks is None or calendar is None:
        return [_("{issue}: no SLA policy applies to this issue.").format(issue=issue_key)]
    lines = [
        _("{issue}: SLA policy {policy}, calendar {calendar} ({source}), time zone {zone}").format(
            issue=issue_key, policy=clocks.policy, calendar=calendar.name, source=calendar.source or "-", zone=calendar.timezone_name
        )
    ]
    for clock in clocks.clocks.values():
        lines.append("")
        lines.extend(clock_lines(clock, calendar))
    return lines


def clock_lines(clock: ClockState, calendar: WorkCalendar) -> list[str]:
    """Explain one clock: its summary, its counted and paused intervals and its special days."""
    return [clock_summary(clock, calendar), *_segment_lines(clock, calendar), *_day_lines(clock, calendar)]


def _segment_lines(clock: ClockState, calendar: WorkCalendar) -> list[str]:
    lines = []
    for segment in clock.segments:
        if segment.kind == "restart":
            lines.append("  " + _("{start}  clock restarted after a priority change").format(start=format_time(segment.start, calendar)))
        elif segment.kind == "paused":
            lines.append(
                "  "
                + _("{start} – {end}  paused (waiting), not counted").format(
                    start=format_time(segment.start, calendar), end=format_time(segment.end, calendar)
                )
            )
        elif segment.end > segment.start:
            lines.append(
                "  "
                + _("{start} – {end}  counted {worked} of working time").format(
                    start=format_time(segment.start, calendar),
                    end=format_time(segment.end, calendar),
                    worked=format_duration(segment.working),
                )
            )
    if clock.stopped_at is not None:
        lines.append("  " + _("{at}  clock stopped").format(at=format_time(clock.stopped_at, calendar)))
    elif clock.due_at is not None and clock.breached_at is None:
        lines.append("  " + _("{remaining} of working time left").format(remaining=format_duration(clock.remaining)))
    return lines


def _day_lines(clock: ClockState, calendar: WorkCalendar) -> list[str]:
    end = clock.stopped_at or clock.due_at
    if clock.segments:
        end = max(end or 0.0, clock.segments[-1].end)
    if end is None:
        return []
    special = [day for day in calendar.days_between(clock.started_at, end) if day.kind in DAY_LABELS]
    if not special:
        return []
    lines = ["  " + _("Days without normal working hours in this period:")]
    for day in special:
        label = _(DAY_LABELS[day.kind])
        name = f" {_(day.name)}" if day.name else ""
        estimated = " " + _("(estimated)") if day.estimated else ""
        lines.append(f"    {day.day.isoformat()} {_(WEEKDAYS[day.day.weekday()])}  {label}{name}{estimated}")
    return lines
