"""`wenti db status|upgrade|downgrade`: the schema's migration state.

These commands open the store without `App.create`, which would migrate the
schema before `status` could show what is pending.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import inspect

from wenti.cli.base import CliError, Command, Group, option
from wenti.cli.output import echo_json, echo_table
from wenti.cli.state import CliState, pass_state
from wenti.i18n import N_
from wenti_sql.errors import i18n
from wenti_sql.store import SqlStore

_ = i18n.gettext


class _Translated:
    """Help texts from this plugin's catalog rather than the core one."""

    @property
    def help(self) -> str | None:
        raw = self.__dict__.get("_help_msgid")
        return i18n.gettext(raw) if raw else raw

    @help.setter
    def help(self, value: str | None) -> None:
        self.__dict__["_help_msgid"] = value


class DbCommand(_Translated, Command):
    pass


class DbGroup(_Translated, Group):
    pass


def _open(state: CliState) -> SqlStore:
    config = state.config()
    store = state.plugin_host().hooks.open_store(config)
    if not isinstance(store, SqlStore):
        store.close()
        raise CliError(_("The configured storage backend is not the SQL store, so it has no migrations to show."))
    return store


def _branches(store: SqlStore) -> list[dict[str, Any]]:
    """Describe each Alembic branch: its newest revision and whether the database has it."""
    # Alembic is imported here, not at the top: every `wenti` command loads this
    # module to register `wenti db`, and importing Alembic takes about 0.1 s.
    from alembic.script import ScriptDirectory

    from wenti_sql.migrations import alembic_config, applied_revisions

    script = ScriptDirectory.from_config(alembic_config(store.schemas()))
    applied = applied_revisions(store.engine, store.schemas())
    labels = sorted({label for revision in script.walk_revisions() for label in revision.branch_labels})
    branches = []
    for label in labels:
        [newest] = script.get_revisions(f"{label}@head")
        branches.append({"branch": label, "newest": newest.revision, "current": newest.revision in applied})
    return branches


def describe_difference(item: Any) -> str:
    """Summarize one Alembic autogenerate difference as `<operation> <object name>`."""
    # Column changes come as a list of tuples for one column; describe the first.
    if isinstance(item, list):
        item = item[0]
    operation = item[0]
    names = [getattr(part, "name", None) for part in item[1:]]
    names = [str(name) for name in names if name]
    if not names:
        names = [str(part) for part in item[1:4] if isinstance(part, str)]
    return f"{operation} {'.'.join(names)}".strip()


@click.group("db", cls=DbGroup, invoke_without_command=True, help=N_("Show and change the database schema's migration state (default: status)."))
@click.pass_context
def db_group(ctx: click.Context) -> None:
    if ctx.invoked_subcommand is None:
        ctx.invoke(db_status)


@db_group.command("status", cls=DbCommand, help=N_("Show each migration branch, whether the database is at its newest revision, and any drift from the tables' definitions."))
@option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
@pass_state
def db_status(state: CliState, as_json: bool = False) -> None:
    from wenti_sql.migrations import schema_differences

    store = _open(state)
    try:
        branches = _branches(store)
        has_tables = bool(inspect(store.engine).get_table_names())
        drift = [describe_difference(item) for item in schema_differences(store.engine, store.schemas())] if has_tables else []
        url = store.engine.url.render_as_string(hide_password=True)
    finally:
        store.close()

    if as_json:
        echo_json({"url": url, "branches": branches, "drift": drift})
        return
    click.echo(_("Database: {url}").format(url=url))
    rows = [[b["branch"], b["newest"], _("up to date") if b["current"] else _("needs upgrade")] for b in branches]
    echo_table([_("Branch"), _("Newest revision"), _("State")], rows)
    if drift:
        click.echo(_("The database differs from the tables' definitions in {count} places:").format(count=len(drift)))
        for item in drift:
            click.echo(f"  - {item}")


@db_group.command("upgrade", cls=DbCommand, help=N_("Migrate the core tables and every plugin's tables to their newest revision."))
@pass_state
def db_upgrade(state: CliState) -> None:
    store = _open(state)
    try:
        store.upgrade()
        branches = _branches(store)
    finally:
        store.close()
    click.echo(_("The database is at the newest revision of {count} branches.").format(count=len(branches)))


@db_group.command("downgrade", cls=DbCommand, help=N_("Migrate down to TARGET: base, BRANCH@base, BRANCH@-1 or a revision id. Tables and their rows are dropped."))
@click.argument("target")
@option("--yes", is_flag=True, help=N_("Confirm that the dropped tables' data may be lost."))
@pass_state
def db_downgrade(state: CliState, target: str, yes: bool = False) -> None:
    if not yes:
        raise CliError(
            _("Downgrading to {target} drops tables and their data. Back up the database, then run the command again with --yes.").format(target=target)
        )
    store = _open(state)
    try:
        store.downgrade(target)
    finally:
        store.close()
    click.echo(_("The database was migrated down to {target}.").format(target=target))
