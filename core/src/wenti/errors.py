"""Exceptions a caller can catch. Messages a person reads are translated by the caller
from `message_id` and `params`, so these carry both a key and an English fallback."""

from __future__ import annotations

from typing import Any

from wenti.i18n import N_


class WentiError(Exception):
    """Base class. `message_id` is a gettext msgid with `{name}` placeholders."""

    message_id: str = N_("An error occurred.")

    # `message_id` is positional-only so a parameter of the same name can fill a placeholder.
    def __init__(self, message_id: str | None = None, /, **params: Any) -> None:
        self.message_id = message_id or self.message_id
        self.params = params
        super().__init__(self.message_id.format(**params) if params else self.message_id)

    def translated(self, gettext: Any) -> str:
        """Return the message in the language of `gettext`, with parameters filled in."""
        text = gettext(self.message_id)
        return text.format(**self.params) if self.params else text


class NotFound(WentiError):
    message_id = N_("Not found.")


class PermissionDenied(WentiError):
    message_id = N_("Permission denied.")


class ValidationFailed(WentiError):
    """Raised when input or a validation hook rejects a change; `reasons` lists why."""

    message_id = N_("The change was rejected: {reasons}")

    def __init__(self, message_id: str | None = None, /, reasons: list[str] | None = None, **params: Any) -> None:
        self.reasons = list(reasons or [])
        if message_id is None:
            params.setdefault("reasons", "; ".join(self.reasons))
        super().__init__(message_id, **params)


class Conflict(WentiError):
    """A write based on a stale version; nothing was changed."""

    message_id = N_("Issue {key} was changed by someone else (you had version {expected}, it is now {actual}). Reload it and try again.")


class ConfigError(WentiError):
    message_id = N_("{file}: [{table}] {key} = {value!r} is invalid: {expected}")


class PluginError(WentiError):
    message_id = N_("Plugin {plugin} ({dist} {version}) failed: {error}")
