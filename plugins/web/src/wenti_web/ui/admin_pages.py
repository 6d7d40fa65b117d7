"""Admin pages: users and teams, queues and workflows, plugins, outbox dead letters."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from wenti.domain import Role
from wenti.errors import PermissionDenied, WentiError
from wenti.i18n import N_

from wenti_web import accounts, passwords
from wenti_web.threads import in_thread
from wenti_web.auth import Principal, wenti_app
from wenti_web.rendering import Translator, render
from wenti_web.ui.common import UI_DEPENDENCIES, FormData, checked_form, form_value, parse_int, see_other


_ADMIN_PAGES_ACTION = N_("open the admin pages")


def _require(principal: Principal, role: Role) -> None:
    # The service layer checks every change again; this only keeps the pages from
    # showing forms a user cannot use.
    if not principal.role.includes(role):
        raise PermissionDenied(
            "{user} ({role}) may not {action}; this needs the {needed} role.",
            user=principal.username,
            role=principal.role.value,
            action=Translator(principal.ctx.locale)(_ADMIN_PAGES_ACTION),
            needed=role.value,
        )


def _error(error: Exception, locale: str) -> str:
    translator = Translator(locale)
    if isinstance(error, WentiError):
        return translator(error.message_id, **error.params)
    return str(error)


def _users_page(request: Request, principal: Principal, *, error: str = "", message: str = "", status: int = 200) -> Response:
    app = wenti_app(request)
    return render(
        request,
        "admin_users.html",
        status_code=status,
        users=app.admin.list_users(principal.ctx),
        teams=app.admin.list_teams(principal.ctx),
        roles=[r.value for r in Role],
        error=error,
        message=message,
        is_admin=principal.role is Role.ADMIN,
    )


@get("/admin", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def admin_home(request: Request, principal: NamedDependency[Principal]) -> Response:
    _require(principal, Role.QUEUE_MANAGER)
    return see_other("/admin/users")


@get("/admin/users", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def users_page(request: Request, principal: NamedDependency[Principal]) -> Response:
    _require(principal, Role.QUEUE_MANAGER)
    return _users_page(request, principal)


@post("/admin/users", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def create_user(request: Request, principal: NamedDependency[Principal], data: FormData) -> Response:
    checked_form(request, principal, data)
    _require(principal, Role.ADMIN)
    app = wenti_app(request)
    username = form_value(data, "username").strip()
    password = form_value(data, "password")
    translator = Translator(principal.ctx.locale)
    if password:
        problem = passwords.policy_problem(password, username)
        if problem:
            return _users_page(request, principal, error=translator(problem), status=400)
    try:
        app.admin.create_user(
            principal.ctx,
            username,
            form_value(data, "display_name").strip() or None,
            form_value(data, "role") or "reporter",
            form_value(data, "email").strip() or None,
        )
        if password:
            accounts.set_password(app, principal.ctx.tenant_id, username, password)
    except WentiError as error:
        return _users_page(request, principal, error=_error(error, principal.ctx.locale), status=400)
    return see_other("/admin/users")


@post("/admin/users/{username:str}", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def update_user(request: Request, principal: NamedDependency[Principal], username: FromPath[str], data: FormData) -> Response:
    checked_form(request, principal, data)
    _require(principal, Role.ADMIN)
    app = wenti_app(request)
    translator = Translator(principal.ctx.locale)
    password = form_value(data, "password")
    active = form_value(data, "active") == "on"
    try:
        if password:
            problem = passwords.policy_problem(password, username)
            if problem:
                return _users_page(request, principal, error=translator(problem), status=400)
        app.admin.update_user(principal.ctx, username, role=form_value(data, "role"), active=active)
        if password:
            accounts.set_password(app, principal.ctx.tenant_id, username, password)
        if not active:
            accounts.end_sessions(app, principal.ctx.tenant_id, username)
    except WentiError as error:
        return _users_page(request, principal, error=_error(error, principal.ctx.locale), status=400)
    return _users_page(request, principal, message=translator("User {user} saved.", user=username))


@post("/admin/teams", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def create_team(request: Request, principal: NamedDependency[Principal], data: FormData) -> Response:
    checked_form(request, principal, data)
    _require(principal, Role.QUEUE_MANAGER)
    app = wenti_app(request)
    members = [m.strip() for m in form_value(data, "members").replace("，", ",").split(",") if m.strip()]
    try:
        app.admin.create_team(principal.ctx, form_value(data, "key").strip(), form_value(data, "name").strip(), members)
    except WentiError as error:
        return _users_page(request, principal, error=_error(error, principal.ctx.locale), status=400)
    return see_other("/admin/users")


@get("/admin/queues", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def queues_page(request: Request, principal: NamedDependency[Principal]) -> Response:
    _require(principal, Role.QUEUE_MANAGER)
    return _queues_page(request, principal)


def _queues_page(request: Request, principal: Principal, *, error: str = "", status: int = 200) -> Response:
    app = wenti_app(request)
    return render(
        request,
        "admin_queues.html",
        status_code=status,
        queues=app.admin.list_queues(principal.ctx),
        workflows=app.admin.list_workflows(principal.ctx),
        teams=app.admin.list_teams(principal.ctx),
        error=error,
    )


@post("/admin/queues", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def create_queue(request: Request, principal: NamedDependency[Principal], data: FormData) -> Response:
    checked_form(request, principal, data)
    _require(principal, Role.QUEUE_MANAGER)
    app = wenti_app(request)
    categories = [c.strip() for c in form_value(data, "categories").replace("，", ",").split(",") if c.strip()]
    try:
        app.admin.create_queue(
            principal.ctx,
            form_value(data, "key").strip(),
            form_value(data, "name").strip(),
            workflow_key=form_value(data, "workflow") or "default",
            team_key=form_value(data, "team") or None,
            categories=categories,
        )
    except WentiError as error:
        return _queues_page(request, principal, error=_error(error, principal.ctx.locale), status=400)
    return see_other("/admin/queues")


@get("/admin/plugins", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def plugins_page(request: Request, principal: NamedDependency[Principal]) -> Response:
    _require(principal, Role.ADMIN)
    app = wenti_app(request)
    return render(request, "admin_plugins.html", statuses=app.plugins.statuses)


@get("/admin/outbox", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def outbox_page(request: Request, principal: NamedDependency[Principal]) -> Response:
    _require(principal, Role.ADMIN)
    app = wenti_app(request)
    return render(request, "admin_outbox.html", messages=app.outbox.list(principal.ctx, status="dead"))


@post("/admin/outbox/{message_id:int}/retry", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def retry_delivery(request: Request, principal: NamedDependency[Principal], message_id: FromPath[int], data: FormData) -> Response:
    checked_form(request, principal, data)
    _require(principal, Role.ADMIN)
    wenti_app(request).outbox.retry(principal.ctx, parse_int(str(message_id), "message_id"))
    return see_other("/admin/outbox")


ADMIN_HANDLERS = [
    admin_home,
    users_page,
    create_user,
    update_user,
    create_team,
    queues_page,
    create_queue,
    plugins_page,
    outbox_page,
    retry_delivery,
]
