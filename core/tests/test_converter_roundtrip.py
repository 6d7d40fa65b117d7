"""The one cattrs converter: datetimes, enums, frozen tuples, secrets, strict mode."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import attrs
import cattrs
import pytest

from wenti.config import Secret
from wenti.converter import converter, from_dict, make_converter, to_dict
from wenti.domain import Change, Event, Issue, Priority, Queue, CustomFieldDef
from wenti.workflows import default_workflow

BEIJING = timezone(timedelta(hours=8))


def test_datetime_unstructures_to_utc_iso():
    value = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)

    assert converter.unstructure(value) == "2026-03-02T01:00:00+00:00"


def test_datetime_structures_aware_as_utc():
    parsed = converter.structure("2026-03-02T09:00:00+08:00", datetime)

    assert parsed == datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
    assert parsed.utcoffset() == timedelta(0)


def test_naive_datetime_rejected_both_ways():
    with pytest.raises(ValueError, match="time zone"):
        converter.structure("2026-03-02T09:00:00", datetime)
    with pytest.raises(ValueError, match="time zone"):
        converter.unstructure(datetime(2026, 3, 2, 9, 0))


def test_date_round_trip():
    assert converter.unstructure(date(2026, 2, 14)) == "2026-02-14"
    assert converter.structure("2026-02-14", date) == date(2026, 2, 14)


def test_issue_round_trip_with_enum_and_times():
    issue = Issue(
        tenant_id="default",
        queue="it",
        title="服务器宕机",
        reporter="reporter",
        status="new",
        priority=Priority.CRITICAL,
        tags=["机房", "紧急"],
        custom_fields={"楼层": 3},
        created_at=datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc),
        id=42,
    )

    data = to_dict(issue)

    assert data["priority"] == "critical"
    assert data["created_at"] == "2026-03-02T01:00:00+00:00"
    assert from_dict(Issue, data) == issue


def test_workflow_tuples_round_trip():
    workflow = default_workflow()

    data = to_dict(workflow)
    back = from_dict(type(workflow), data)

    assert isinstance(data["states"], (list, tuple))
    assert data["states"][0]["category"] == "open"
    assert back == workflow
    assert isinstance(back.transitions, tuple)
    assert isinstance(back.transitions[0].allowed_roles, tuple)


def test_event_changes_round_trip():
    event = Event(
        tenant_id="default",
        issue_id=1,
        type="issue.updated",
        actor="agent",
        at=datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc),
        changes=(Change("priority", "normal", "high"), Change("title", "旧", "新")),
        data={"source": "web"},
        id="e1",
    )

    assert from_dict(Event, to_dict(event)) == event


def test_queue_with_custom_field_defs_round_trip():
    queue = Queue("default", "it", "IT 支持", custom_fields=[CustomFieldDef("floor", "楼层", "choice", ("1", "2"))])

    assert from_dict(Queue, to_dict(queue)) == queue


def test_bad_enum_value_reports_path():
    data = to_dict(Issue("default", "it", "t", "r", "new"))
    data["priority"] = "urgent"

    with pytest.raises(cattrs.ClassValidationError) as caught:
        from_dict(Issue, data)

    assert any("priority" in line for line in cattrs.transform_error(caught.value))


def test_secret_from_env_reference(monkeypatch):
    monkeypatch.setenv("WENTI_TEST_TOKEN", "t0ken")

    secret = converter.structure({"env": "WENTI_TEST_TOKEN"}, Secret)

    assert secret.reveal() == "t0ken"
    assert converter.unstructure(secret) == {"env": "WENTI_TEST_TOKEN"}


def test_literal_secret_unstructures_redacted():
    assert converter.unstructure(Secret("plain")) == "***"


def test_strict_converter_rejects_extra_keys_and_coercion():
    @attrs.define
    class Settings:
        port: int = 25
        verbose: bool = False

    strict = make_converter(strict=True)

    assert strict.structure({"port": 2525}, Settings) == Settings(2525)
    with pytest.raises(cattrs.ClassValidationError):
        strict.structure({"port": 25, "extra": 1}, Settings)
    with pytest.raises(cattrs.ClassValidationError):
        strict.structure({"port": "25"}, Settings)
    with pytest.raises(cattrs.ClassValidationError):
        strict.structure({"port": True}, Settings)
    with pytest.raises(cattrs.ClassValidationError):
        strict.structure({"verbose": "false"}, Settings)
    # The lenient converter coerces, as storage rows need.
    assert converter.structure({"port": "25"}, Settings) == Settings(25)
