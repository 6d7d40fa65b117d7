"""`wenti serve` and the `wenti web` commands (passwords, sessions, API tokens)."""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

import click
from wenti.cli.base import CliError, Command, Group, option
from wenti.cli.state import CliState
from wenti.errors import WentiError
from wenti.i18n import N_

from wenti_web import accounts
from wenti_web.config import web_config
from wenti_web.translation import _

log = logging.getLogger(__name__)

pass_state = click.make_pass_decorator(CliState)


def _first_run_logins(app: Any, tenant_id: str) -> list[tuple[str, str]]:
    """Give every active user of a tenant without any password a generated one.

    Runs only while no user of the tenant has a password, so a fresh instance (or
    the demo) can be signed in to, and an instance in use is never touched.
    """
    from sqlalchemy import func, select

    from wenti_web.tables import credentials

    with app.uow(tenant_id) as uow:
        tenant = uow.tenants.get(tenant_id)
        if tenant is None:
            return []
        count = uow.sql_connection().execute(
            select(func.count()).select_from(credentials).where(credentials.c.tenant_id == tenant_id)
        ).scalar_one()
        if count:
            return []
        users = [user for user in uow.users.list() if user.active]
    logins = []
    for user in users:
        password = secrets.token_urlsafe(12)
        accounts.set_password(app, tenant_id, user.username, password, end_sessions=False)
        logins.append((user.username, password))
    return logins


# uvicorn (0.55) rewrites the client address from X-Forwarded-For for peers in
# FORWARDED_ALLOW_IPS (127.0.0.1 and ::1 by default). The app does that itself from
# `[plugins.web] trusted_proxies`, so uvicorn must pass the socket peer through unchanged.
UVICORN_OPTIONS = {"log_level": "warning", "access_log": False, "proxy_headers": False}


@click.command("serve", cls=Command, help=N_("Serve the web app and the REST API."))
@option("--host", metavar="ADDRESS", help=N_("Address to listen on (default: [plugins.web] host, 127.0.0.1)."))
@option("--port", type=int, metavar="PORT", help=N_("TCP port (default: [plugins.web] port, 8000)."))
@option("--workers", type=int, metavar="N", help=N_("Worker processes (default: [plugins.web] workers, 1)."))
@pass_state
def serve(state: CliState, host: str | None, port: int | None, workers: int | None) -> None:
    import uvicorn

    app = state.app()
    config = web_config(app)
    host = host or config.host
    port = port or config.port
    workers = workers or config.workers
    if workers < 1:
        raise CliError(_("--workers must be 1 or more, got {value}.").format(value=workers), 2)

    logins = _first_run_logins(app, config.default_tenant)
    if logins:
        click.echo(_("First start: these sign-in passwords were generated. They are shown only now; change them after signing in."))
        for username, password in logins:
            click.echo(f"  {username}: {password}")
    click.echo(_("Serving wenti on http://{host}:{port}/ (API docs at /api/schema). Stop with Ctrl-C.").format(host=host, port=port))

    if workers == 1:
        from wenti_web.server import create_app

        litestar_app = create_app(app, config)
        app.outbox.start()
        try:
            uvicorn.run(litestar_app, host=host, port=port, **UVICORN_OPTIONS)
        finally:
            app.outbox.stop()
        return

    # Several workers each build their own app from the same config file.
    if app.config.path is not None:
        os.environ["WENTI_CONFIG"] = str(app.config.path)
    state.close()
    uvicorn.run(
        "wenti_web.asgi:create_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **UVICORN_OPTIONS,
    )


@click.group("web", cls=Group, help=N_("Manage web sign-in: passwords, sessions and API tokens."))
def web_group() -> None:
    pass


@web_group.command("set-password", help=N_("Set a user's web password (asks for it, or reads it from $WENTI_PASSWORD)."))
@click.argument("username")
@pass_state
def set_password(state: CliState, username: str) -> None:
    password = os.environ.get("WENTI_PASSWORD") or click.prompt(_("New password"), hide_input=True, confirmation_prompt=True)
    try:
        accounts.set_password(state.app(), state.tenant, username, password)
    except WentiError as error:
        raise CliError.from_error(error) from None
    click.echo(_("Password of {user} set; their sessions were ended.").format(user=username))


@web_group.command("end-sessions", help=N_("End every web session of a user."))
@click.argument("username")
@pass_state
def end_sessions(state: CliState, username: str) -> None:
    count = accounts.end_sessions(state.app(), state.tenant, username)
    click.echo(_("Ended {count} sessions of {user}.").format(count=count, user=username))


@web_group.command("create-token", help=N_("Create an API token for a user and print it once."))
@click.argument("username")
@option("--name", default="cli", show_default=True, help=N_("Label shown in the token list."))
@option("--scope", "scopes", multiple=True, default=("read", "write"), show_default=True, help=N_("read, write or admin; repeat for several."))
@pass_state
def create_token(state: CliState, username: str, name: str, scopes: tuple[str, ...]) -> None:
    from wenti_web import tokens

    bad = [scope for scope in scopes if scope not in tokens.SCOPES]
    if bad:
        raise CliError(_("Invalid scope {value}; use read, write or admin.").format(value=", ".join(bad)), 2)
    app = state.app()
    app.context(state.tenant, username)
    with app.uow(state.tenant) as uow:
        text, _token = tokens.create(uow.sql_connection(), state.tenant, username, name, tuple(scopes), app.clock.now())
        uow.commit()
    click.echo(text)
