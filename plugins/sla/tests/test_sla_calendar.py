"""Working-time arithmetic on business calendars, including China's holidays and 调休."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wenti_sla.calendar import (
    CalendarError,
    DayKind,
    WorkCalendar,
    parse_intervals,
    standard_week,
    week_from_mapping,
)
from wenti_sla.china import china_calendar, package_coverage

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0


def ts(year, month, day, hour=0, minute=0, zone=SHANGHAI) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


def local(timestamp: float, zone=SHANGHAI) -> datetime:
    return datetime.fromtimestamp(timestamp, zone).replace(tzinfo=None)


@pytest.fixture(scope="module")
def china():
    return china_calendar(week=standard_week(["09:00-18:00"]))


def test_makeup_saturday_counts_as_workday(china):
    due = china.add_working_seconds(ts(2025, 2, 7, 17), 8 * HOUR)

    assert local(due) == datetime(2025, 2, 8, 16, 0)
    assert china.day_info(date(2025, 2, 8)).kind is DayKind.MAKEUP_WORKDAY


def test_spring_festival_holiday_is_skipped(china):
    due = china.add_working_seconds(ts(2025, 1, 27, 17), 8 * HOUR)

    assert local(due) == datetime(2025, 2, 5, 16, 0)
    for day in range(28, 32):
        assert china.day_info(date(2025, 1, day)).kind is DayKind.HOLIDAY
    assert china.day_info(date(2025, 2, 4)).kind is DayKind.HOLIDAY


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Days off and worked weekends from the State Council notices for 2024-2026.
        (date(2024, 2, 4), True),
        (date(2024, 2, 9), True),
        (date(2024, 2, 16), False),
        (date(2024, 2, 18), True),
        (date(2024, 5, 11), True),
        (date(2024, 9, 14), True),
        (date(2024, 10, 12), True),
        (date(2025, 1, 26), True),
        (date(2025, 4, 27), True),
        (date(2025, 10, 8), False),
        (date(2025, 10, 11), True),
        (date(2026, 1, 2), False),
        (date(2026, 1, 4), True),
        (date(2026, 2, 14), True),
        (date(2026, 2, 23), False),
        (date(2026, 2, 28), True),
        (date(2026, 5, 9), True),
        (date(2026, 9, 20), True),
        (date(2026, 10, 10), True),
    ],
)
def test_official_schedule_days(china, day, working):
    assert china.day_info(day).kind.is_working is working


def test_uncovered_year_is_estimated_weekdays(china):
    _, last_year = package_coverage()
    monday = date(last_year + 1, 1, 1)
    while monday.weekday() != 0:
        monday += timedelta(days=1)

    info = china.day_info(monday)
    saturday = china.day_info(monday + timedelta(days=5))

    assert info.estimated is True
    assert info.kind is DayKind.WORKDAY
    assert saturday.kind is DayKind.WEEKEND
    assert china.day_info(date(2025, 2, 8)).estimated is False
    assert china.estimated_between(ts(last_year, 12, 31, 17), ts(last_year + 1, 1, 5, 12)) is True
    assert china.estimated_between(ts(2025, 1, 2), ts(2025, 1, 3)) is False


def test_lunch_break_is_not_counted():
    calendar = WorkCalendar("lunch", "Asia/Shanghai", standard_week(["09:00-12:00", "13:30-18:00"]))

    due = calendar.add_working_seconds(ts(2025, 3, 3, 11), 2 * HOUR)
    worked = calendar.working_seconds(ts(2025, 3, 3, 11), ts(2025, 3, 3, 15))

    assert local(due) == datetime(2025, 3, 3, 14, 30)
    assert worked == pytest.approx(2.5 * HOUR)


def test_issue_created_on_holiday_starts_next_workday(china):
    due = china.add_working_seconds(ts(2025, 10, 3, 10), 2 * HOUR)

    assert local(due) == datetime(2025, 10, 9, 11, 0)


def test_target_ending_at_close_is_not_moved(china):
    due = china.add_working_seconds(ts(2025, 3, 3, 9), 9 * HOUR)

    assert local(due) == datetime(2025, 3, 3, 18, 0)


def test_berlin_daylight_saving_change():
    calendar = WorkCalendar("berlin", "Europe/Berlin", standard_week(["00:00-24:00"], ["00:00-24:00"], ["00:00-24:00"]))
    start = ts(2025, 3, 29, 12, zone=BERLIN)
    end = ts(2025, 3, 30, 12, zone=BERLIN)

    # The night of 30 March 2025 skips 02:00-03:00, so the local day is 23 hours long.
    assert calendar.working_seconds(start, end) == pytest.approx(23 * HOUR)
    assert local(calendar.add_working_seconds(start, 24 * HOUR), BERLIN) == datetime(2025, 3, 30, 13, 0)


def test_berlin_office_hours_across_autumn_change():
    calendar = WorkCalendar("berlin", "Europe/Berlin", standard_week(["08:00-17:00"]))
    friday_noon = ts(2025, 10, 24, 12, zone=BERLIN)

    due = calendar.add_working_seconds(friday_noon, 9 * HOUR)

    # Friday 12:00-17:00 (5 h), then Monday 08:00 after the 26 October change + 4 h.
    assert local(due, BERLIN) == datetime(2025, 10, 27, 12, 0)
    assert calendar.working_seconds(friday_noon, due) == pytest.approx(9 * HOUR)


def test_tenant_closed_day_moves_due_time(china):
    closed = china.with_overrides(closed_days={date(2025, 3, 4): "company day"})

    before = china.add_working_seconds(ts(2025, 3, 3, 17), 4 * HOUR)
    after = closed.add_working_seconds(ts(2025, 3, 3, 17), 4 * HOUR)

    assert local(before) == datetime(2025, 3, 4, 12, 0)
    assert local(after) == datetime(2025, 3, 5, 12, 0)
    assert closed.day_info(date(2025, 3, 4)).kind is DayKind.TENANT_CLOSED


def test_tenant_extra_working_day(china):
    extra = china.with_overrides(working_days={date(2025, 3, 8): "stocktaking"})

    due = extra.add_working_seconds(ts(2025, 3, 7, 17), 2 * HOUR)

    assert local(due) == datetime(2025, 3, 8, 10, 0)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (["9:00"], "needs a start and an end"),
        (["18:00-09:00"], "ends before it starts"),
        (["09:00-12:00", "11:00-13:00"], "overlap"),
        (["09:00-25:00"], "out of range"),
        (["nine-ten"], "not HH:MM"),
    ],
)
def test_bad_working_hours_are_rejected(spec, fragment):
    with pytest.raises(CalendarError, match=fragment):
        parse_intervals(spec)


def test_unknown_weekday_and_zone_are_rejected():
    with pytest.raises(CalendarError, match="unknown weekday"):
        week_from_mapping({"funday": ["09:00-10:00"]})
    with pytest.raises(CalendarError, match="time zone 'Mars/Base' is unknown"):
        WorkCalendar("x", "Mars/Base", standard_week())


def test_calendar_without_working_time_stops():
    calendar = WorkCalendar(
        "closed",
        "UTC",
        standard_week(["09:00-10:00"]),
        closed_days={date(2025, 1, 1) + timedelta(days=n): "closed" for n in range(4000)},
    )

    with pytest.raises(CalendarError, match="no working time"):
        calendar.add_working_seconds(ts(2025, 1, 1, zone=timezone.utc), HOUR)


# -- properties -----------------------------------------------------------------------

slots = st.lists(st.sampled_from(["00:00-06:00", "07:00-09:30", "10:00-12:00", "13:00-18:00", "19:00-24:00"]), unique=True)


@st.composite
def calendars(draw):
    week = tuple(parse_intervals(draw(slots)) for _ in range(7))
    if not any(week):
        week = (parse_intervals(["09:00-17:00"]),) + week[1:]
    zone = draw(st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"]))
    closed = draw(st.sets(st.dates(date(2025, 1, 1), date(2025, 12, 31)), max_size=20))
    working = draw(st.sets(st.dates(date(2025, 1, 1), date(2025, 12, 31)), max_size=10))
    return WorkCalendar("random", zone, week, closed_days=dict.fromkeys(closed, "c"), working_days=dict.fromkeys(working, "w"))


moments = st.floats(min_value=ts(2025, 1, 1), max_value=ts(2025, 12, 1), allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(calendars(), moments, st.floats(min_value=0, max_value=40 * 86400.0), st.floats(0, 1))
def test_working_time_properties(calendar, start, span, split):
    end = start + span
    middle = start + span * split

    total = calendar.working_seconds(start, end)

    assert total >= 0
    assert total <= end - start + 1e-6
    assert total == pytest.approx(calendar.working_seconds(start, middle) + calendar.working_seconds(middle, end), abs=1e-3)


@settings(max_examples=60, deadline=None)
@given(calendars(), moments, st.floats(min_value=1, max_value=200 * HOUR))
def test_add_then_measure_round_trips(calendar, start, seconds):
    due = calendar.add_working_seconds(start, seconds)

    assert due >= start
    assert calendar.working_seconds(start, due) == pytest.approx(seconds, abs=1e-3)


def test_multi_year_span_matches_day_by_day(china):
    start = ts(2024, 6, 1, 10, 30)
    end = ts(2026, 6, 1, 15, 15)
    day = date(2024, 6, 1)
    naive = 0.0
    while day <= date(2026, 6, 1):
        for interval_start, interval_end in china.intervals(day):
            naive += max(0.0, min(end, interval_end) - max(start, interval_start))
        day += timedelta(days=1)

    assert china.working_seconds(start, end) == pytest.approx(naive)
    assert china.working_seconds(start, end) == pytest.approx(
        china.working_seconds(start, ts(2025, 1, 1)) + china.working_seconds(ts(2025, 1, 1), end)
    )
