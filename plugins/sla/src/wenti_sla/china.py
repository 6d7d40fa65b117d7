"""The China business calendar: official holidays and make-up workdays (调休).

The dates come from the `chinesecalendar` package (import name `chinese_calendar`),
which transcribes the State Council's yearly notice on holiday arrangements
(国务院办公厅关于部分节假日安排的通知). Its `holidays` mapping lists every day off of a
holiday period, weekend days included, and its `workdays` mapping lists the weekend days
that are worked instead. Years outside the package's data are computed from the weekly
pattern alone and marked estimated; `docs/sla.md` explains why this package was chosen over
`holidays`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import chinese_calendar

from wenti_sla.calendar import WeekPattern, WorkCalendar, parse_intervals, standard_week

def package_coverage() -> tuple[int, int]:
    """Return the first and last year the installed `chinesecalendar` has data for."""
    years = [day.year for day in chinese_calendar.constants.holidays]
    years += [day.year for day in chinese_calendar.constants.workdays]
    return min(years), max(years)


def package_version() -> str:
    return getattr(chinese_calendar, "__version__", "unknown")


def china_calendar(
    name: str = "china",
    timezone_name: str = "Asia/Shanghai",
    week: WeekPattern | None = None,
    *,
    closed_days: Mapping[date, str] | None = None,
    working_days: Mapping[date, str] | None = None,
    makeup_hours: Iterable[str] | None = None,
) -> WorkCalendar:
    """Build a calendar with China's official holidays and make-up workdays.

    `week` defaults to 09:00-18:00 Monday to Friday. A make-up workday is worked with
    `makeup_hours` (Monday's hours unless given).
    """
    return WorkCalendar(
        name,
        timezone_name,
        week or standard_week(),
        holidays=dict(chinese_calendar.constants.holidays),
        workdays=dict(chinese_calendar.constants.workdays),
        closed_days=closed_days,
        working_days=working_days,
        makeup_hours=parse_intervals(makeup_hours) if makeup_hours is not None else None,
        covered_years=package_coverage(),
        source=f"chinesecalendar {package_version()}",
    )


def china_source() -> dict[str, object]:
    """Build the holiday source `china` for `register_calendars`."""
    return {
        "holidays": dict(chinese_calendar.constants.holidays),
        "workdays": dict(chinese_calendar.constants.workdays),
        "covered_years": package_coverage(),
        "timezone": "Asia/Shanghai",
        "source": f"chinesecalendar {package_version()}",
    }


def plain_source() -> dict[str, object]:
    """Build the holiday source `plain`: working hours only, no holidays, never estimated."""
    return {"holidays": {}, "workdays": {}, "covered_years": None, "timezone": "UTC", "source": "plain"}
