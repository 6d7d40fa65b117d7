"""Admin pages of the tables that plugins register with `register_admin_views`.

Each view gets `/admin/views/<name>`: its rows as an escaped table, an optional
status filter, and a CSRF-protected POST button per action and row. The view's
own `rows` and `run` receive the signed-in user's `Context` and check the role
again, so these pages only decide what to show.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from wenti.domain import Role
from wenti.errors import PermissionDenied, WentiError
from wenti.i18n import N_, translate
from wenti.records import AdminAction, AdminView

from wenti_web.auth import Principal, wenti_app
from wenti_web.problems import ApiProblem, from_wenti_error
from wenti_web.rendering import Translator, format_time, render
from wenti_web.threads import in_thread
from wenti_web.ui.common import UI_DEPENDENCIES, FormData, checked_form, form_value

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

_OPEN_VIEW_ACTION = N_("open this admin page")


def _required_role(view: AdminView) -> Role | None:
    try:
        return Role(view.required_role)
    except ValueError:
        log.warning("admin view %s of plugin %s has an invalid required_role %r, so it is hidden", view.name, view.plugin, view.required_role)
        return None


def _allowed(principal: Principal, view: AdminView) -> bool:
    needed = _required_role(view)
    return needed is not None and principal.role.includes(needed)


def visible_views(request: Request, principal: Principal | None) -> list[dict[str, str]]:
    """Return the name and translated title of each admin view the user may open, for the admin navigation."""
    if principal is None:
        return []
    views = wenti_app(request).hooks.admin_views()
    locale = principal.ctx.locale
    return [{"name": view.name, "title": _view_text(view, view.title, locale)} for view in views if _allowed(principal, view)]


def _view_text(view: AdminView, message: str, locale: str) -> str:
    if view.translate is not None:
        return view.translate(message, locale)
    return translate(message, locale)


def _find_view(request: Request, principal: Principal, name: str) -> AdminView:
    for view in wenti_app(request).hooks.admin_views():
        if view.name == name:
            if not _allowed(principal, view):
                raise PermissionDenied(
                    "{user} ({role}) may not {action}; this needs the {needed} role.",
                    user=principal.username,
                    role=principal.role.value,
                    action=Translator(principal.ctx.locale)(_OPEN_VIEW_ACTION),
                    needed=view.required_role,
                )
            return view
    raise ApiProblem("not-found", "No admin page named {name}.", name=name)


def _find_action(view: AdminView, name: str) -> AdminAction:
    for action in view.actions:
        if action.name == name:
            return action
    raise ApiProblem("not-found", "The admin page {view} has no action named {name}.", view=view.name, name=name)


def _status_filter(view: AdminView, status: str | None) -> str | None:
    if not status:
        return None
    if status not in view.statuses:
        raise ApiProblem(
            "validation-failed",
            "Invalid status {value!r} for this page. Choose one of: {choices}.",
            value=status,
            choices=", ".join(view.statuses) or "-",
        )
    return status


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiProblem(
            "validation-failed", "limit must be a whole number from 1 to {max}, got {value!r}.", max=MAX_LIMIT, value=value
        )
    return limit


def _cell(view: AdminView, key: str, value: Any, principal: Principal, translator: Translator) -> str:
    locale = principal.ctx.locale
    if value is None:
        return ""
    if isinstance(value, bool):
        return translator("Yes") if value else translator("No")
    if isinstance(value, datetime):
        return format_time(value, principal.ctx.timezone, locale)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if key == "status" and isinstance(value, str):
        return _view_text(view, value, locale)
    return str(value)


def _table_rows(view: AdminView, rows: list[dict[str, Any]], principal: Principal, translator: Translator) -> list[dict[str, Any]]:
    table = []
    for row in rows:
        row_id = row.get("id")
        actions = [
            action
            for action in view.actions
            if row_id is not None and (not action.statuses or row.get("status") in action.statuses)
        ]
        cells = [_cell(view, column.key, row.get(column.key), principal, translator) for column in view.columns]
        table.append({"id": "" if row_id is None else str(row_id), "cells": cells, "actions": actions})
    return table


def _view_page(
    request: Request,
    principal: Principal,
    view: AdminView,
    status: str | None,
    limit: int,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    app = wenti_app(request)
    locale = principal.ctx.locale
    translator = Translator(locale)
    rows = view.rows(principal.ctx, app, status=status, limit=limit)
    return render(
        request,
        "admin_view.html",
        status_code=status_code,
        view=view,
        title=_view_text(view, view.title, locale),
        columns=[_view_text(view, column.label, locale) for column in view.columns],
        statuses=[(value, _view_text(view, value, locale)) for value in view.statuses],
        action_labels={action.name: _view_text(view, action.label, locale) for action in view.actions},
        rows=_table_rows(view, list(rows), principal, translator),
        selected_status=status or "",
        message=message,
        error=error,
    )


@get("/admin/views/{name:str}", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def admin_view_page(
    request: Request,
    principal: NamedDependency[Principal],
    name: FromPath[str],
    status: FromQuery[str | None] = None,
    limit: FromQuery[str | None] = None,
) -> Response:
    view = _find_view(request, principal, name)
    return _view_page(request, principal, view, _status_filter(view, status), _limit(limit))


@post("/admin/views/{name:str}/actions/{action:str}", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def run_admin_action(
    request: Request,
    principal: NamedDependency[Principal],
    name: FromPath[str],
    action: FromPath[str],
    data: FormData,
) -> Response:
    checked_form(request, principal, data)
    view = _find_view(request, principal, name)
    chosen = _find_action(view, action)
    status = _status_filter(view, form_value(data, "status"))
    row_id = form_value(data, "row_id").strip()
    if not row_id:
        raise ApiProblem("validation-failed", "The form is missing row_id. Reload the page and press the button again.")

    try:
        message = chosen.run(principal.ctx, wenti_app(request), row_id)
    except PermissionDenied:
        raise
    except WentiError as failure:
        problem = from_wenti_error(failure)
        text = problem.detail(principal.ctx.locale)
        log.info("admin action failed view=%s action=%s row=%s by=%s error=%s", view.name, chosen.name, row_id, principal.username, failure)
        return _view_page(request, principal, view, status, DEFAULT_LIMIT, error=text, status_code=problem.status)

    log.info("admin action view=%s action=%s row=%s by=%s tenant=%s", view.name, chosen.name, row_id, principal.username, principal.ctx.tenant_id)
    return _view_page(request, principal, view, status, DEFAULT_LIMIT, message=str(message or ""))


ADMIN_VIEW_HANDLERS = [admin_view_page, run_admin_action]
