"""Errors the SQL backend raises besides `wenti.store.ConcurrencyConflict`."""

from __future__ import annotations

from pathlib import Path

from wenti.errors import WentiError
from wenti.i18n import Domain, N_

i18n = Domain("wenti_sql", Path(__file__).parent / "locale")


class DuplicateKey(WentiError, ValueError):
    """An insert collided with a unique key. The unit of work must be rolled back."""

    message_id = N_("{what} {value} already exists in tenant {tenant}.")


class RowNotFound(WentiError, LookupError):
    """An update named a row that does not exist in the unit of work's tenant."""

    message_id = N_("{what} {value} does not exist in tenant {tenant}.")


class UnsupportedQuery(WentiError, ValueError):
    """An `IssueQuery` or cursor that this backend cannot run."""

    message_id = N_("The issue query is invalid: {reason}")


class WrongTenant(WentiError, ValueError):
    """An object of one tenant was handed to a unit of work of another."""

    message_id = N_("{what} belongs to tenant {owner}, but this unit of work is for tenant {tenant}.")
