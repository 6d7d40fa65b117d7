"""Business calendars and working-time arithmetic.

A `WorkCalendar` computes the working intervals of every day in one time zone: the weekly
pattern (several intervals a day, such as 09:00-12:00 and 13:30-18:00), public holidays,
make-up workdays (调休: a weekend day that is worked instead of a holiday) and a
tenant's own closed days and extra working days.

All arithmetic runs on POSIX timestamps (float seconds, UTC), so a day that is 23 or 25
hours long because of a daylight-saving change counts exactly the working time that
really passes. Local wall-clock times are converted with `zoneinfo` (see
`_local_timestamp` for times inside a skipped or repeated hour).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

# A search for working time gives up after this many days. Ten years is far more than
# any target needs, and it stops a calendar without working days from looping forever.
MAX_SEARCH_DAYS = 3660

Interval = tuple[float, float]


class DayKind(str, enum.Enum):
    """The reason a day is or is not a working day, in order of precedence."""

    TENANT_CLOSED = "tenant_closed"
    TENANT_WORKING = "tenant_working"
    HOLIDAY = "holiday"
    MAKEUP_WORKDAY = "makeup_workday"
    WEEKEND = "weekend"
    WORKDAY = "workday"

    @property
    def is_working(self) -> bool:
        return self in (DayKind.TENANT_WORKING, DayKind.MAKEUP_WORKDAY, DayKind.WORKDAY)


@attrs.frozen
class DayInfo:
    """One local date: its kind, the holiday or override name, and whether it is estimated."""

    day: date
    kind: DayKind
    name: str = ""
    estimated: bool = False


class CalendarError(ValueError):
    """Raised for an invalid calendar definition; the message names the value and the fix."""


def parse_clock_time(text: str) -> time | None:
    """Parse `HH:MM`; `24:00` returns None, which means the end of the day."""
    try:
        hours_text, minutes_text = text.strip().split(":")
        hours, minutes = int(hours_text), int(minutes_text)
    except ValueError:
        raise CalendarError(f"working time {text!r} is not HH:MM; write it like 09:00 or 18:30") from None
    if (hours, minutes) == (24, 0):
        return None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise CalendarError(f"working time {text!r} is out of range; use 00:00 to 24:00")
    return time(hours, minutes)


def parse_intervals(spec: Iterable[str]) -> tuple[tuple[time, time | None], ...]:
    """Parse `["09:00-12:00", "13:30-18:00"]` into sorted, non-overlapping intervals."""
    intervals: list[tuple[time, time | None]] = []
    for item in spec:
        if "-" not in item:
            raise CalendarError(f"working interval {item!r} needs a start and an end, like 09:00-18:00")
        start_text, end_text = item.split("-", 1)
        start = parse_clock_time(start_text)
        end = parse_clock_time(end_text)
        if start is None:
            raise CalendarError(f"working interval {item!r} starts at 24:00; start it at 00:00 of the next day")
        if end is not None and end <= start:
            raise CalendarError(f"working interval {item!r} ends before it starts; an interval cannot cross midnight")
        intervals.append((start, end))
    intervals.sort(key=lambda pair: pair[0])
    for (_, first_end), (second_start, _) in zip(intervals, intervals[1:]):
        if first_end is None or first_end > second_start:
            raise CalendarError(f"working intervals {list(spec)!r} overlap; list each stretch of time once")
    return tuple(intervals)


def load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"time zone {name!r} is unknown; use an IANA name such as Asia/Shanghai") from None


WeekPattern = tuple[tuple[tuple[time, time | None], ...], ...]


class WorkCalendar:
    """Working intervals per day, with holidays, make-up workdays and tenant overrides.

    `week` has seven entries, Monday first; each is a tuple of `(start, end)` local times
    (`end` None means midnight). `makeup_hours` are the intervals of a make-up workday or
    a tenant's extra working day (by default Monday's). `holidays` and `workdays` map dates
    to names from the holiday source; `closed_days` and `working_days` are the tenant's
    own overrides and win over the source. `covered_years` are the years the holiday
    source has data for; outside them the weekly pattern alone applies and days are marked
    estimated. None means every year is covered (a calendar without holiday data).
    """

    def __init__(
        self,
        name: str,
        timezone_name: str,
        week: WeekPattern,
        *,
        holidays: Mapping[date, str] | None = None,
        workdays: Mapping[date, str] | None = None,
        closed_days: Mapping[date, str] | None = None,
        working_days: Mapping[date, str] | None = None,
        makeup_hours: tuple[tuple[time, time | None], ...] | None = None,
        covered_years: tuple[int, int] | None = None,
        source: str = "",
    ) -> None:
        if len(week) != 7:
            raise CalendarError(f"calendar {name!r} has {len(week)} weekdays of working hours; give seven, Monday first")
        self.name = name
        self.timezone_name = timezone_name
        self.zone = load_zone(timezone_name)
        self.week = tuple(tuple(day) for day in week)
        self.holidays = dict(holidays or {})
        self.workdays = dict(workdays or {})
        self.closed_days = dict(closed_days or {})
        self.working_days = dict(working_days or {})
        self.makeup_hours = tuple(makeup_hours) if makeup_hours is not None else self.week[0]
        self.covered_years = covered_years
        self.source = source
        if not any(self.week) and not self.working_days and not self.workdays:
            raise CalendarError(f"calendar {name!r} has no working hours on any weekday; give at least one interval")
        self._day_cache: dict[date, tuple[Interval, ...]] = {}
        self._prefix_cache: dict[int, list[float]] = {}
        self._date_cache: dict[int, date] = {}
        if covered_years is not None:
            self._covered_from = _local_timestamp(date(covered_years[0], 1, 1), time(0, 0), self.zone)
            self._covered_until = _local_timestamp(date(covered_years[1] + 1, 1, 1), time(0, 0), self.zone)

    # -- days ----------------------------------------------------------------------

    def is_estimated(self, day: date) -> bool:
        """True when `day` lies in a year the holiday source does not cover."""
        if self.covered_years is None:
            return False
        first, last = self.covered_years
        return not (first <= day.year <= last)

    def day_info(self, day: date) -> DayInfo:
        estimated = self.is_estimated(day)
        if day in self.closed_days:
            return DayInfo(day, DayKind.TENANT_CLOSED, self.closed_days[day], estimated)
        if day in self.working_days:
            return DayInfo(day, DayKind.TENANT_WORKING, self.working_days[day], estimated)
        if day in self.holidays:
            return DayInfo(day, DayKind.HOLIDAY, self.holidays[day], estimated)
        if day in self.workdays:
            return DayInfo(day, DayKind.MAKEUP_WORKDAY, self.workdays[day], estimated)
        if self.week[day.weekday()]:
            return DayInfo(day, DayKind.WORKDAY, "", estimated)
        return DayInfo(day, DayKind.WEEKEND, "", estimated)

    def local_hours(self, day: date) -> tuple[tuple[time, time | None], ...]:
        """Return the local working intervals of `day` (empty on a day off)."""
        kind = self.day_info(day).kind
        if not kind.is_working:
            return ()
        if kind in (DayKind.MAKEUP_WORKDAY, DayKind.TENANT_WORKING):
            # A make-up workday is worked like a normal weekday even when it is a
            # Saturday, so it takes the make-up hours rather than the weekend's (none).
            return self.makeup_hours if not self.week[day.weekday()] else self.week[day.weekday()]
        return self.week[day.weekday()]

    def intervals(self, day: date) -> tuple[Interval, ...]:
        """Return the working intervals of the local date `day`, as UTC timestamps (cached)."""
        cached = self._day_cache.get(day)
        if cached is not None:
            return cached
        result = tuple(self._to_timestamps(day, start, end) for start, end in self.local_hours(day))
        result = tuple(interval for interval in result if interval[1] > interval[0])
        self._day_cache[day] = result
        return result

    def _to_timestamps(self, day: date, start: time, end: time | None) -> Interval:
        start_ts = _local_timestamp(day, start, self.zone)
        if end is None:
            end_ts = _local_timestamp(day + timedelta(days=1), time(0, 0), self.zone)
        else:
            end_ts = _local_timestamp(day, end, self.zone)
        return start_ts, end_ts

    def local_date(self, timestamp: float) -> date:
        # Every UTC offset in the time zone database is a multiple of 15 minutes, so the
        # local date is the same throughout each 15-minute block of UTC time.
        block = int(timestamp // 900)
        cached = self._date_cache.get(block)
        if cached is None:
            # About 2,000 days of blocks; clearing keeps memory bounded for long spans.
            if len(self._date_cache) > 200_000:
                self._date_cache.clear()
            cached = datetime.fromtimestamp(block * 900, self.zone).date()
            self._date_cache[block] = cached
        return cached

    # -- arithmetic ----------------------------------------------------------------

    def working_seconds(self, start: float, end: float) -> float:
        """Working seconds between two timestamps; 0 when `end` is not after `start`."""
        if end <= start:
            return 0.0
        first_day = self.local_date(start)
        last_day = self.local_date(end)
        total = self._clipped(first_day, start, end)
        if last_day != first_day:
            total += self._clipped(last_day, start, end)
        if (last_day - first_day).days > 1:
            total += self._whole_days(first_day + timedelta(days=1), last_day)
        return total

    def _clipped(self, day: date, start: float, end: float) -> float:
        # A day's intervals lie between its own local midnights, so clipping the first
        # and the last day and adding whole days in between counts everything once.
        total = 0.0
        for interval_start, interval_end in self.intervals(day):
            low = start if start > interval_start else interval_start
            high = end if end < interval_end else interval_end
            if high > low:
                total += high - low
        return total

    def _whole_days(self, first: date, stop: date) -> float:
        """Working seconds of the days from `first` up to, not including, `stop`."""
        if first.year == stop.year:
            prefix = self._year_prefix(first.year)
            return prefix[stop.timetuple().tm_yday - 1] - prefix[first.timetuple().tm_yday - 1]
        head = self._year_prefix(first.year)
        total = head[-1] - head[first.timetuple().tm_yday - 1]
        for year in range(first.year + 1, stop.year):
            total += self._year_prefix(year)[-1]
        return total + self._year_prefix(stop.year)[stop.timetuple().tm_yday - 1]

    def _year_prefix(self, year: int) -> list[float]:
        """Cumulative working seconds at the start of each day of `year`; the last entry is the year's total."""
        cached = self._prefix_cache.get(year)
        if cached is not None:
            return cached
        prefix = [0.0]
        day = date(year, 1, 1)
        while day.year == year:
            prefix.append(prefix[-1] + sum(end - start for start, end in self.intervals(day)))
            day += timedelta(days=1)
        self._prefix_cache[year] = prefix
        return prefix

    def add_working_seconds(self, start: float, seconds: float) -> float:
        """Find the instant at which `seconds` of working time have passed after `start`.

        Zero seconds returns `start` itself. A target that ends exactly at the close of
        an interval returns that close (18:00), not the next morning's opening.
        Raises `CalendarError` when no working time is found within `MAX_SEARCH_DAYS`.
        """
        if seconds <= 0:
            return start
        remaining = seconds
        # The previous day's intervals end at the latest at this day's local midnight,
        # which is not after `start`, so the search begins on the local date of `start`.
        day = self.local_date(start)
        for _ in range(MAX_SEARCH_DAYS):
            for interval_start, interval_end in self.intervals(day):
                if interval_end <= start:
                    continue
                low = start if start > interval_start else interval_start
                available = interval_end - low
                if available >= remaining:
                    return low + remaining
                remaining -= available
            day += timedelta(days=1)
        raise CalendarError(
            f"calendar {self.name!r} has no working time in the {MAX_SEARCH_DAYS} days after "
            f"{datetime.fromtimestamp(start, timezone.utc).isoformat()}; add working hours or remove closed days"
        )

    def days_between(self, start: float, end: float) -> list[DayInfo]:
        """Describe every local date touched by `[start, end]`, with its kind."""
        first = self.local_date(start)
        last = self.local_date(max(start, end))
        days = []
        day = first
        while day <= last and len(days) < MAX_SEARCH_DAYS:
            days.append(self.day_info(day))
            day += timedelta(days=1)
        return days

    def estimated_between(self, start: float, end: float) -> bool:
        """True when any instant of `[start, end]` lies in a year the holiday source does not cover."""
        if self.covered_years is None:
            return False
        return start < self._covered_from or max(start, end) >= self._covered_until

    def with_overrides(
        self,
        closed_days: Mapping[date, str] | None = None,
        working_days: Mapping[date, str] | None = None,
        name: str | None = None,
    ) -> WorkCalendar:
        """Copy the calendar with extra tenant closed days and working days added."""
        return WorkCalendar(
            name or self.name,
            self.timezone_name,
            self.week,
            holidays=self.holidays,
            workdays=self.workdays,
            closed_days={**self.closed_days, **(closed_days or {})},
            working_days={**self.working_days, **(working_days or {})},
            makeup_hours=self.makeup_hours,
            covered_years=self.covered_years,
            source=self.source,
        )


def _local_timestamp(day: date, clock_time: time, zone: ZoneInfo) -> float:
    # fold=0 (PEP 495): a repeated wall-clock time maps to its first occurrence, and a
    # skipped one is read with the offset before the change, landing as far after the
    # gap as it was inside it (02:30 on a spring-forward night becomes 03:30).
    return datetime.combine(day, clock_time, tzinfo=zone).timestamp()


def standard_week(
    weekdays: Iterable[str] = ("09:00-18:00",),
    saturday: Iterable[str] = (),
    sunday: Iterable[str] = (),
) -> WeekPattern:
    """Build a week with the same hours Monday to Friday and the given weekend hours."""
    workday = parse_intervals(weekdays)
    return (workday,) * 5 + (parse_intervals(saturday), parse_intervals(sunday))


WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def week_from_mapping(hours: Mapping[str, Iterable[str]], default: Iterable[str] = ("09:00-18:00",)) -> WeekPattern:
    """Build a week from `{"monday": ["09:00-12:00", ...], ...}`; missing weekdays get
    `default` Monday to Friday and nothing at the weekend."""
    unknown = sorted(set(hours) - set(WEEKDAY_NAMES))
    if unknown:
        raise CalendarError(f"unknown weekday name(s) {unknown} in working hours; use {', '.join(WEEKDAY_NAMES)}")
    week = []
    for index, weekday in enumerate(WEEKDAY_NAMES):
        if weekday in hours:
            week.append(parse_intervals(hours[weekday]))
        elif index < 5:
            week.append(parse_intervals(default))
        else:
            week.append(())
    return tuple(week)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise CalendarError(f"day {text!r} is not a date; write it as YYYY-MM-DD, like 2025-02-08") from None
