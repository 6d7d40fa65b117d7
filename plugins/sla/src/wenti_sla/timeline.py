"""The SLA timeline of an issue: the facts from its history that SLA clocks depend on.

A fact is `(timestamp, kind, value)`. The timeline is extracted from history events
without looking at any policy, so a changed policy or calendar is applied by computing
again from the same facts. Kinds:

* `status` — the issue entered the workflow state `value` (the first one is creation);
* `priority`, `queue` — the field took `value` (also recorded at creation);
* `public_reply`, `internal_note` — someone other than the reporter commented;
* `reporter_reply` — the reporter added a public comment;
* `assigned` — the issue got an assignee (`value` is the username).

States named in `IMPORTED_STATES` stand for the known times of an imported issue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from wenti.domain import Event, EventType, Issue

Fact = tuple[float, str, str]

_FIELD_KINDS = {"status": "status", "priority": "priority", "queue": "queue"}


# An imported issue arrives with one `issue.imported` event and its times as fields,
# not with a history of transitions. Its timeline uses these state names, whose
# categories are fixed, at its creation, resolution and closing times.
IMPORTED_STATES = {"imported:open": "open", "imported:resolved": "resolved", "imported:closed": "closed"}


def extract_facts(events: Iterable[Event], reporter: str, issue: Issue | None = None) -> list[Fact]:
    """Turn history events into a sorted SLA timeline. Unrelated events are skipped.

    `issue` supplies the times of an imported issue (first response, resolution,
    closing), which its `issue.imported` event does not carry.
    """
    facts: list[Fact] = []
    for event in events:
        at = event.at.timestamp()
        if event.type == EventType.IMPORTED.value and issue is not None and not event.changes:
            facts.extend(_imported_facts(issue, at))
        elif event.type in (EventType.CREATED.value, EventType.IMPORTED.value):
            facts.extend(_creation_facts(event, at))
        elif event.type == EventType.COMMENTED.value:
            facts.append((at, _comment_kind(event, reporter), event.actor))
        else:
            facts.extend(_change_facts(event, at))
    facts.sort(key=lambda fact: fact[0])
    return facts


def _creation_facts(event: Event, at: float) -> list[Fact]:
    # `status` goes first so that the clock starts before any other fact of the instant.
    by_field = {change.field: change.after for change in event.changes}
    facts = []
    for field in ("status", "priority", "queue"):
        value = by_field.get(field, event.data.get(field))
        if value is not None:
            facts.append((at, field, str(value)))
    if by_field.get("assignee"):
        facts.append((at, "assigned", str(by_field["assignee"])))
    return facts


def _imported_facts(issue: Issue, at: float) -> list[Fact]:
    # NOTE: the times come from the issue as it is now. An imported issue that was
    # resolved and later reopened in wenti has lost its imported resolution time, so
    # its clock counts the imported resolved period as open.
    facts: list[Fact] = [
        (at, "status", "imported:open"),
        (at, "priority", _plain(issue.priority)),
        (at, "queue", issue.queue),
    ]
    if issue.first_responded_at is not None:
        facts.append((issue.first_responded_at.timestamp(), "public_reply", "import"))
    if issue.resolved_at is not None:
        facts.append((issue.resolved_at.timestamp(), "status", "imported:resolved"))
    if issue.closed_at is not None:
        facts.append((issue.closed_at.timestamp(), "status", "imported:closed"))
    return facts


def _plain(value: object) -> str:
    return str(getattr(value, "value", value))


def _change_facts(event: Event, at: float) -> list[Fact]:
    facts = []
    for change in event.changes:
        kind = _FIELD_KINDS.get(change.field)
        if kind is not None and change.after is not None:
            facts.append((at, kind, str(change.after)))
        elif change.field == "assignee" and change.after:
            facts.append((at, "assigned", str(change.after)))
    return facts


def _comment_kind(event: Event, reporter: str) -> str:
    visibility = event.data.get("visibility", "public")
    if visibility != "public":
        return "internal_note"
    if event.actor == reporter and not event.data.get("first_response"):
        return "reporter_reply"
    return "public_reply"


def facts_to_json(facts: Sequence[Fact]) -> list[list[Any]]:
    return [[round(at, 3), kind, value] for at, kind, value in facts]


def facts_from_json(raw: Sequence[Sequence[Any]]) -> list[Fact]:
    return [(float(at), str(kind), str(value)) for at, kind, value in raw]


def current_value(facts: Sequence[Fact], kind: str, default: str = "") -> str:
    """Return the last value of `kind` in the timeline, which is the issue's current status, priority or queue."""
    for _at, fact_kind, value in reversed(facts):
        if fact_kind == kind:
            return value
    return default
