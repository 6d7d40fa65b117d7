"""Errors the SQL backend raises besides `wenti.store.ConcurrencyConflict`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wenti.errors import WentiError
from wenti.i18n import Domain, N_

i18n = Domain("wenti_sql", Path(__file__).parent / "locale")


# The kinds of row an error can name, translated with the message.
ROW_KINDS = (
    N_("tenant"), N_("user"), N_("team"), N_("queue"), N_("workflow"), N_("issue"), N_("comment"),
    N_("attachment"), N_("link"), N_("event"), N_("audit entry"), N_("outbox message"),
)


class SqlStoreError(WentiError):
    """Base class whose messages live in the `wenti_sql` catalog."""

    def translated(self, gettext: Any) -> str:
        """Translate the message with `gettext`, falling back to this plugin's catalog."""
        params = dict(self.params)
        if "what" in params:
            params["what"] = _translate(gettext, str(params["what"]))
        text = _translate(gettext, self.message_id)
        return text.format(**params) if params else text


def _translate(gettext: Any, message: str) -> str:
    # A caller usually hands over its own catalog's gettext, which does not hold
    # this plugin's messages; those come from the wenti_sql catalog instead.
    translated = gettext(message)
    if translated == message:
        translated = i18n.gettext(message)
    return translated


class DuplicateKey(SqlStoreError, ValueError):
    """An insert collided with a unique key. The unit of work must be rolled back."""

    message_id = N_("{what} {value} already exists in tenant {tenant}.")


class RowNotFound(SqlStoreError, LookupError):
    """An update named a row that does not exist in the unit of work's tenant."""

    message_id = N_("{what} {value} does not exist in tenant {tenant}.")


class UnsupportedQuery(SqlStoreError, ValueError):
    """An `IssueQuery` or cursor that this backend cannot run."""

    message_id = N_("The issue query is invalid: {reason}")


class WrongTenant(SqlStoreError, ValueError):
    """An object of one tenant was handed to a unit of work of another."""

    message_id = N_("{what} belongs to tenant {owner}, but this unit of work is for tenant {tenant}.")


class UnknownRevision(SqlStoreError, RuntimeError):
    """The database is at a migration revision that no loaded plugin provides."""

    message_id = N_(
        "The database has migration revision {revision}, which no loaded plugin provides. "
        "Enable the plugin that created it, or downgrade that plugin's branch while it is still enabled."
    )
