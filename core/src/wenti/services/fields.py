"""Checks and normalisation of issue field values, shared by create, update and import."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from wenti.domain import CustomFieldDef, Issue, Priority, Queue, StateCategory, Workflow
from wenti.errors import ValidationFailed
from wenti.i18n import N_

TITLE_MAX_LENGTH = 200
UPDATABLE_FIELDS = ("title", "description", "priority", "category", "tags", "custom_fields")

# Unicode general category Cc: exactly U+0000 to U+001F and U+007F to U+009F.
CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def parse_priority(value: Any) -> Priority:
    if isinstance(value, Priority):
        return value
    try:
        return Priority(str(value).strip().lower())
    except ValueError:
        raise ValidationFailed(
            N_("Unknown priority {value!r}; use one of: {choices}."),
            value=value,
            choices=", ".join(p.value for p in Priority),
        ) from None


def check_title(title: Any) -> str:
    text = str(title or "").strip()
    if not text:
        raise ValidationFailed(N_("The title is empty; give the issue a short title."))
    # Control characters (tabs, line breaks, escape codes) break one-line displays
    # and terminals; a title is one line of text.
    control = CONTROL_CHARACTER.search(text)
    if control is not None:
        raise ValidationFailed(
            N_("The title contains the control character {code} at position {position}; remove it."),
            code=f"U+{ord(control.group()):04X}",
            position=control.start() + 1,
        )
    if len(text) > TITLE_MAX_LENGTH:
        raise ValidationFailed(
            N_("The title has {length} characters; shorten it to at most {limit}."),
            length=len(text),
            limit=TITLE_MAX_LENGTH,
        )
    return text


def check_tags(tags: Iterable[Any]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        text = str(tag).strip()
        if text and text not in cleaned:
            cleaned.append(text)
    return cleaned


def check_category(queue: Queue, category: str | None) -> str | None:
    if category in (None, ""):
        return None
    if queue.categories and category not in queue.categories:
        raise ValidationFailed(
            N_("Category {value!r} is not offered by queue {queue}; use one of: {choices}."),
            value=category,
            queue=queue.key,
            choices=", ".join(queue.categories),
        )
    return category


def check_custom_fields(queue: Queue, values: dict[str, Any] | None) -> dict[str, Any]:
    """Check choice fields against their choices; unknown keys are kept as free-form data."""
    if not values:
        return {}
    result = dict(values)
    definitions = {field.key: field for field in queue.custom_fields}
    for key, value in result.items():
        definition = definitions.get(key)
        if definition is not None:
            _check_custom_value(definition, value)
    return result


def _check_custom_value(definition: CustomFieldDef, value: Any) -> None:
    if value in (None, ""):
        return
    if definition.kind == "choice" and definition.choices and value not in definition.choices:
        raise ValidationFailed(
            N_("Field {field} does not accept {value!r}; use one of: {choices}."),
            field=definition.key,
            value=value,
            choices=", ".join(definition.choices),
        )
    if definition.kind == "number":
        try:
            float(value)
        except (TypeError, ValueError):
            raise ValidationFailed(
                N_("Field {field} needs a number, got {value!r}."), field=definition.key, value=value
            ) from None


def missing_required_custom_fields(queue: Queue, issue: Issue) -> list[str]:
    return [
        field.key
        for field in queue.custom_fields
        if field.required and issue.custom_fields.get(field.key) in (None, "")
    ]


def field_value(issue: Issue, name: str) -> Any:
    """Value of a built-in field or, failing that, a custom field."""
    if name in ("title", "description", "priority", "category", "tags", "assignee", "reporter"):
        return getattr(issue, name)
    return issue.custom_fields.get(name)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def check_status(workflow: Workflow, status: str) -> None:
    if workflow.state(status) is None:
        raise ValidationFailed(
            N_("Status {value!r} does not exist in workflow {workflow}; use one of: {choices}."),
            value=status,
            workflow=workflow.key,
            choices=", ".join(state.key for state in workflow.states),
        )


def category_of(workflow: Workflow, status: str) -> StateCategory:
    state = workflow.state(status)
    return state.category if state is not None else StateCategory.OPEN

