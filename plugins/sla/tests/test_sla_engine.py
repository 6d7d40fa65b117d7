"""SLA clocks replayed from timelines: targets, pauses, reopen, priority changes, properties."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wenti_sla.calendar import WorkCalendar, standard_week
from wenti_sla.china import china_calendar
from wenti_sla.engine import BREACHED, MET, PAUSED, RUNNING, compute_clocks
from wenti_sla.policy import PolicyError, parse_duration, parse_policy, select_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0
CATEGORIES = {"new": "open", "in_progress": "open", "waiting": "waiting", "resolved": "resolved", "closed": "closed"}


def ts(year, month, day, hour=0, minute=0, zone=SHANGHAI) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


def local(timestamp, zone=SHANGHAI) -> datetime:
    return datetime.fromtimestamp(timestamp, zone).replace(tzinfo=None)


def policy(**overrides):
    raw = {
        "key": "standard",
        "targets": {
            "high": {"first_response": "2h", "resolution": "8h", "next_response": "4h"},
            "normal": {"first_response": "4h", "resolution": "16h"},
            "critical": {"first_response": "30m", "resolution": "4h"},
        },
        "warn_at": [0.5, 0.75],
    }
    raw.update(overrides)
    return parse_policy(raw, 0)


def created(at, priority="high", status="new", queue="it"):
    return [(at, "status", status), (at, "priority", priority), (at, "queue", queue)]


@pytest.fixture(scope="module")
def china():
    return china_calendar(week=standard_week(["09:00-18:00"]))


def clocks(facts, calendar, now, **policy_overrides):
    return compute_clocks(facts, policy(**policy_overrides), calendar, CATEGORIES.__getitem__, now, explain=True).clocks


def test_makeup_workday_due_time(china):
    facts = created(ts(2025, 2, 7, 17))

    resolution = clocks(facts, china, ts(2025, 2, 7, 17, 30))["resolution"]

    assert local(resolution.due_at) == datetime(2025, 2, 8, 16, 0)
    assert resolution.status == RUNNING


def test_spring_festival_due_time(china):
    facts = created(ts(2025, 1, 27, 17))

    resolution = clocks(facts, china, ts(2025, 1, 27, 17))["resolution"]

    assert local(resolution.due_at) == datetime(2025, 2, 5, 16, 0)


def test_pause_adds_no_working_time(china):
    start = ts(2025, 3, 7, 9)
    facts = created(start, "normal") + [(ts(2025, 3, 7, 17), "status", "waiting"), (ts(2025, 3, 10, 10), "status", "in_progress")]
    unpaused = clocks(created(start, "normal"), china, ts(2025, 3, 7, 17))["resolution"]

    resumed = clocks(facts, china, ts(2025, 3, 10, 10))["resolution"]
    while_waiting = clocks(facts, china, ts(2025, 3, 8, 12))["resolution"]

    assert resumed.elapsed == pytest.approx(8 * HOUR)
    assert while_waiting.status == PAUSED
    assert while_waiting.due_at is None
    assert while_waiting.elapsed == pytest.approx(8 * HOUR)
    # Without the pause 16 h from Friday 09:00 are due Monday 16:00; the pause covered
    # Friday 17:00-18:00 and Monday 09:00-10:00, so the due time moves by exactly 2 h.
    assert local(unpaused.due_at) == datetime(2025, 3, 10, 16, 0)
    assert local(resumed.due_at) == datetime(2025, 3, 10, 18, 0)
    assert china.working_seconds(unpaused.due_at, resumed.due_at) == pytest.approx(2 * HOUR)


def test_first_public_reply_stops_first_response(china):
    facts = created(ts(2025, 3, 3, 9)) + [
        (ts(2025, 3, 3, 9, 30), "internal_note", "agent"),
        (ts(2025, 3, 3, 10), "public_reply", "agent"),
    ]

    first = clocks(facts, china, ts(2025, 3, 3, 15))["first_response"]

    assert first.status == MET
    assert first.elapsed == pytest.approx(HOUR)
    assert local(first.stopped_at) == datetime(2025, 3, 3, 10, 0)


def test_internal_note_stop_is_configurable(china):
    facts = created(ts(2025, 3, 3, 9)) + [(ts(2025, 3, 3, 9, 30), "internal_note", "agent")]

    first = clocks(facts, china, ts(2025, 3, 3, 15), first_response_stop=["public_reply", "internal_note"])["first_response"]

    assert first.status == MET
    assert first.elapsed == pytest.approx(0.5 * HOUR)


def test_late_reply_is_breached_with_time(china):
    facts = created(ts(2025, 3, 3, 9)) + [(ts(2025, 3, 3, 14), "public_reply", "agent")]

    first = clocks(facts, china, ts(2025, 3, 3, 15))["first_response"]

    assert first.status == BREACHED
    assert local(first.breached_at) == datetime(2025, 3, 3, 11, 0)
    assert first.stopped_at is not None


def test_reply_exactly_at_due_time_meets(china):
    facts = created(ts(2025, 3, 3, 9)) + [(ts(2025, 3, 3, 11), "public_reply", "agent")]

    first = clocks(facts, china, ts(2025, 3, 3, 15))["first_response"]

    assert first.status == MET


def test_running_clock_breaches_at_due_time(china):
    facts = created(ts(2025, 3, 3, 9))

    before = clocks(facts, china, ts(2025, 3, 3, 10, 59))["first_response"]
    at_due = clocks(facts, china, ts(2025, 3, 3, 11))["first_response"]

    assert before.status == RUNNING
    assert at_due.status == BREACHED


def test_warning_times_follow_shares(china):
    facts = created(ts(2025, 3, 3, 9))

    resolution = clocks(facts, china, ts(2025, 3, 3, 9))["resolution"]

    assert local(resolution.warning_at(0.5)) == datetime(2025, 3, 3, 13, 0)
    assert local(resolution.warning_at(0.75)) == datetime(2025, 3, 3, 15, 0)


def test_reopen_resumes_resolution_clock(china):
    facts = created(ts(2025, 3, 3, 9)) + [
        (ts(2025, 3, 3, 12), "status", "resolved"),
        (ts(2025, 3, 4, 9), "status", "in_progress"),
    ]

    resolved = clocks(facts[:4], china, ts(2025, 3, 3, 17))["resolution"]
    reopened = clocks(facts, china, ts(2025, 3, 4, 10))["resolution"]

    assert resolved.status == MET
    assert resolved.elapsed == pytest.approx(3 * HOUR)
    assert reopened.status == RUNNING
    assert reopened.reopened == 1
    assert reopened.elapsed == pytest.approx(4 * HOUR)
    assert local(reopened.due_at) == datetime(2025, 3, 4, 14, 0)


def test_priority_change_recompute_from_creation(china):
    facts = created(ts(2025, 3, 3, 9), "normal") + [(ts(2025, 3, 3, 10), "priority", "critical")]

    state = clocks(facts, china, ts(2025, 3, 3, 10))

    # Critical: 4 h resolution counted from creation at 09:00.
    assert local(state["resolution"].due_at) == datetime(2025, 3, 3, 13, 0)
    assert state["first_response"].status == BREACHED


def test_priority_change_restart_clock(china):
    facts = created(ts(2025, 3, 3, 9), "normal") + [(ts(2025, 3, 3, 10), "priority", "critical")]

    state = clocks(facts, china, ts(2025, 3, 3, 10), on_priority_change="restart")

    assert local(state["resolution"].due_at) == datetime(2025, 3, 3, 14, 0)
    assert state["resolution"].elapsed == pytest.approx(0)
    assert local(state["first_response"].due_at) == datetime(2025, 3, 3, 10, 30)
    assert any(segment.kind == "restart" for segment in state["resolution"].segments)


def test_next_response_cycle(china):
    facts = created(ts(2025, 3, 3, 9)) + [
        (ts(2025, 3, 3, 9, 30), "public_reply", "agent"),
        (ts(2025, 3, 3, 10), "reporter_reply", "reporter"),
    ]

    state = clocks(facts, china, ts(2025, 3, 3, 11))

    assert state["next_response"].status == RUNNING
    assert local(state["next_response"].due_at) == datetime(2025, 3, 3, 14, 0)
    answered = clocks(facts + [(ts(2025, 3, 3, 12), "public_reply", "agent")], china, ts(2025, 3, 3, 13))
    assert answered["next_response"].status == MET


def test_lunch_break_and_holiday_creation():
    calendar = china_calendar(week=standard_week(["09:00-12:00", "13:30-18:00"]))
    facts = created(ts(2025, 10, 3, 10))

    state = clocks(facts, calendar, ts(2025, 10, 3, 10))

    # Created during the National Day holiday: the clock starts on Thursday 9 October.
    assert local(state["first_response"].due_at) == datetime(2025, 10, 9, 11, 0)
    # 8 h resolution: 09:00-12:00 and 13:30-18:00 give 7.5 h on 9 October, 0.5 h on the 10th.
    assert local(state["resolution"].due_at) == datetime(2025, 10, 10, 9, 30)


def test_berlin_tenant_across_dst():
    calendar = WorkCalendar("berlin", "Europe/Berlin", standard_week(["08:00-17:00"]))
    facts = created(ts(2025, 3, 28, 16, zone=BERLIN))

    state = clocks(facts, calendar, ts(2025, 3, 28, 16, zone=BERLIN))

    # Friday 16:00-17:00, then Monday 31 March (after the switch to CEST) 08:00 + 7 h.
    assert local(state["resolution"].due_at, BERLIN) == datetime(2025, 3, 31, 15, 0)


def test_calendar_change_moves_due_time(china):
    facts = created(ts(2025, 3, 3, 17))
    closed = china.with_overrides(closed_days={date(2025, 3, 4): "company day"})

    before = clocks(facts, china, ts(2025, 3, 3, 17))["resolution"]
    after = clocks(facts, closed, ts(2025, 3, 3, 17))["resolution"]

    assert local(before.due_at) == datetime(2025, 3, 4, 16, 0)
    assert local(after.due_at) == datetime(2025, 3, 5, 16, 0)


def test_estimated_flag_for_uncovered_year(china):
    facts = created(ts(2030, 3, 4, 9))

    state = clocks(facts, china, ts(2030, 3, 4, 9))

    assert state["resolution"].estimated is True
    assert clocks(created(ts(2025, 3, 4, 9)), china, ts(2025, 3, 4, 9))["resolution"].estimated is False


def test_policy_selection_and_errors():
    it_policy = parse_policy({"key": "it", "queues": ["it"], "targets": {"high": {"resolution": "8h"}}}, 0)
    fallback = parse_policy({"key": "all", "targets": {"*": {"resolution": 90}}}, 1)

    assert select_policy([it_policy, fallback], "t", "it", "high") is it_policy
    assert select_policy([it_policy, fallback], "t", "it", "low") is fallback
    assert select_policy([it_policy], "t", "hr", "high") is None
    assert parse_duration("1h30m", "x") == 5400
    assert parse_duration(90, "x") == 5400
    with pytest.raises(PolicyError, match="'2 days' is not a duration"):
        parse_duration("2 days", "targets.high.resolution")
    with pytest.raises(PolicyError, match="on_priority_change = 'later' is invalid"):
        parse_policy({"key": "x", "targets": {"high": {"resolution": "1h"}}, "on_priority_change": "later"}, 0)
    with pytest.raises(PolicyError, match="unknown metric"):
        parse_policy({"key": "x", "targets": {"high": {"solve": "1h"}}}, 0)
    with pytest.raises(PolicyError, match="action = 'page' is unknown"):
        parse_policy({"key": "x", "targets": {"high": {"resolution": "1h"}}, "escalations": [{"on": "breached", "action": "page"}]}, 0)


# -- properties over random calendars and event sequences ------------------------------

slot = st.sampled_from(["00:00-05:00", "08:00-12:00", "13:00-17:30", "20:00-24:00"])


@st.composite
def scenarios(draw):
    week = tuple(tuple(sorted(draw(st.sets(slot, max_size=3)))) for _ in range(7))
    from wenti_sla.calendar import parse_intervals

    parsed = tuple(parse_intervals(day) for day in week)
    if not any(parsed):
        parsed = (parse_intervals(["09:00-17:00"]),) + parsed[1:]
    zone = draw(st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "UTC"]))
    calendar = WorkCalendar("random", zone, parsed)
    start = draw(st.floats(ts(2025, 1, 1), ts(2025, 11, 1)))
    steps = draw(
        st.lists(
            st.tuples(
                st.floats(0, 5 * 86400.0),
                st.sampled_from(
                    [
                        ("status", "waiting"), ("status", "in_progress"), ("status", "resolved"), ("status", "closed"),
                        ("public_reply", "a"), ("internal_note", "a"), ("reporter_reply", "r"), ("priority", "critical"),
                        ("priority", "normal"), ("assigned", "a"),
                    ]
                ),
            ),
            max_size=12,
        )
    )
    facts = created(start, draw(st.sampled_from(["high", "normal", "critical"])))
    at = start
    for gap, (kind, value) in steps:
        at += gap
        facts.append((at, kind, value))
    mode = draw(st.sampled_from(["recompute", "restart"]))
    return calendar, facts, mode, start, at


@settings(max_examples=80, deadline=None)
@given(scenarios(), st.floats(0, 20 * 86400.0), st.floats(0, 1))
def test_clock_properties(scenario, extra, split):
    calendar, facts, mode, start, last = scenario
    now = last + extra
    earlier = start + (now - start) * split

    late = clocks(facts, calendar, now, on_priority_change=mode)
    early = clocks(facts, calendar, earlier, on_priority_change=mode)

    for metric, clock in late.items():
        counted = sum(segment.working for segment in clock.segments if segment.kind == "counted" and segment.start >= clock.started_at)
        assert clock.elapsed >= 0
        assert clock.elapsed <= now - clock.started_at + 1e-6
        assert clock.elapsed == pytest.approx(counted, abs=1e-3)
        if clock.due_at is not None and clock.status == RUNNING:
            assert clock.due_at >= now
        if metric in early and early[metric].started_at == clock.started_at and mode == "recompute":
            assert early[metric].elapsed <= clock.elapsed + 1e-6
