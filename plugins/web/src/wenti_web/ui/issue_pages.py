"""The issue list, saved views, the issue page and its actions, and the new-issue form."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import attrs
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy import and_, delete, insert, select
from wenti.domain import Issue, Priority, Role
from wenti.errors import WentiError
from wenti.store import IssueQuery

from wenti_web.threads import in_thread
from wenti_web.api.attachments import download_response, store_attachment
from wenti_web.api.issues import parse_sort
from wenti_web.auth import Principal, check_csrf, wenti_app
from wenti_web.problems import ApiProblem
from wenti_web.rendering import Translator, render, template_blocks
from wenti_web.tables import saved_views
from wenti_web.ui.common import (
    UI_DEPENDENCIES,
    FormData,
    MultipartData,
    checked_form,
    form_value,
    parse_int,
    see_other,
)
from wenti_web.uploads import UploadRejected

log = logging.getLogger(__name__)

PAGE_SIZE = 25
STATUS_CATEGORIES = ("open", "waiting", "resolved", "closed")
LIST_FILTERS = ("queue", "status_category", "assignee", "priority", "q", "sort", "reporter")
SORT_CHOICES = ("-created_at", "created_at", "-updated_at", "priority", "title")


def _error_text(error: Exception, locale: str) -> str:
    translator = Translator(locale)
    if isinstance(error, WentiError):
        text = translator(error.message_id, **error.params)
        reasons = getattr(error, "reasons", None)
        if reasons and "{reasons}" not in error.message_id:
            text += " " + "; ".join(translator(r) for r in reasons)
        return text
    if isinstance(error, (ApiProblem, UploadRejected)):
        return translator(error.message_id, **error.params)
    raise error


# -- list ------------------------------------------------------------------------


def _list_filters(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "") for name in LIST_FILTERS if request.query_params.get(name)}


def _query_from_filters(principal: Principal, filters: dict[str, str], cursor: str | None) -> IssueQuery:
    assignee = filters.get("assignee", "")
    category = filters.get("status_category", "")
    return IssueQuery(
        queue=(filters["queue"],) if filters.get("queue") else (),
        status_category=tuple(category.split(",")) if category else (),
        assignee=(principal.username if assignee == "me" else assignee,) if assignee and assignee != "none" else (),
        unassigned=assignee == "none",
        reporter=principal.username if filters.get("reporter") == "me" else (filters.get("reporter") or None),
        priority=(filters["priority"],) if filters.get("priority") else (),
        text=filters.get("q") or None,
        sort=parse_sort(filters.get("sort")),
        limit=PAGE_SIZE,
        after=cursor,
    )


def _saved_views(app: Any, principal: Principal) -> list[Any]:
    with app.uow(principal.ctx.tenant_id) as uow:
        return list(
            uow.sql_connection().execute(
                select(saved_views)
                .where(and_(saved_views.c.tenant_id == principal.ctx.tenant_id, saved_views.c.username == principal.username))
                .order_by(saved_views.c.name)
            )
        )


def _queue_counts(app: Any, principal: Principal) -> dict[str, int]:
    counts = app.issues.count_by(principal.ctx, ["queue"], IssueQuery(status_category=("open", "waiting")))
    return {key[0]: count for key, count in counts.items()}


@get("/", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def home(request: Request, principal: NamedDependency[Principal]) -> Response:
    """My open work: assigned to me (agents) or reported by me (reporters)."""
    if principal.role.includes(Role.AGENT):
        return see_other("/issues?" + urlencode({"assignee": "me", "status_category": "open,waiting"}))
    return see_other("/issues?" + urlencode({"reporter": "me"}))


@get("/issues", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def issue_list(request: Request, principal: NamedDependency[Principal]) -> Response:
    app = wenti_app(request)
    filters = _list_filters(request)
    plugin_filters = app.hooks.issue_filters()
    cursor = request.query_params.get("cursor") or None
    try:
        query = _query_from_filters(principal, filters, cursor)
        query = _apply_plugin_filters(request, app, principal, plugin_filters, filters, query)
        page = app.issues.list(principal.ctx, query)
        total = app.issues.count(principal.ctx, attrs.evolve(query, after=None))
    except (ValueError, WentiError, ApiProblem) as error:
        message = str(error) if isinstance(error, ValueError) else _error_text(error, principal.ctx.locale)
        return render(request, "error.html", status_code=400, status=400, message=message)
    queues = app.admin.list_queues(principal.ctx)
    translator = Translator(principal.ctx.locale)
    state_names = {
        state.key: translator(state.name) for workflow in app.admin.list_workflows(principal.ctx) for state in workflow.states
    }
    next_url = "/issues?" + urlencode({**filters, "cursor": page.next_cursor}) if page.next_cursor else None
    return render(
        request,
        "issue_list.html",
        issues=page.items,
        total=total,
        state_names=state_names,
        badges=_badges_by_issue(app, principal, page.items),
        plugin_filters=plugin_filters,
        filters=filters,
        next_url=next_url,
        queues=queues,
        queue_counts=_queue_counts(app, principal),
        views=_saved_views(app, principal),
        priorities=[p.value for p in Priority],
        status_categories=STATUS_CATEGORIES,
        sort_choices=SORT_CHOICES,
        query_string=urlencode(filters),
        users=app.admin.list_users(principal.ctx) if principal.role.includes(Role.AGENT) else [],
        blocks=template_blocks(request, principal, ("issue_list.top",), {"issues": list(page.items), "total": total, "filters": dict(filters)}),
    )


def _apply_plugin_filters(request: Request, app: Any, principal: Principal, records: list[Any], filters: dict[str, str], query: IssueQuery) -> IssueQuery:
    """Restrict `query` to the issues that the chosen plugin filters match (e.g. SLA breached)."""
    ids: set[int] | None = None
    for record in records:
        raw = request.query_params.get(f"filter_{record.name}")
        if not raw:
            continue
        filters[f"filter_{record.name}"] = raw
        value: Any = None
        if record.value_kind == "number":
            try:
                value = float(raw)
            except ValueError:
                raise ApiProblem("validation-failed", "{field} must be a number, got {value!r}.", field=record.name, value=raw) from None
        matched = set(record.match(app, principal.ctx, value))
        ids = matched if ids is None else ids & matched
    return query if ids is None else attrs.evolve(query, ids=tuple(sorted(ids)))


def _badges_by_issue(app: Any, principal: Principal, issues: list[Issue]) -> dict[int, list[Any]]:
    """Badges that plugins show next to issues (SLA state and the like), by issue id."""
    grouped: dict[int, list[Any]] = {}
    if not issues:
        return grouped
    for badge in app.hooks.issue_badges(list(issues), principal.ctx, app):
        grouped.setdefault(badge.issue_id, []).append(badge)
    return grouped


@post("/views", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def save_view(request: Request, principal: NamedDependency[Principal], data: FormData) -> Response:
    checked_form(request, principal, data)
    name = form_value(data, "name").strip()[:100]
    query = form_value(data, "query")[:2000]
    if not name:
        raise ApiProblem("validation-failed", "Give the view a name.")
    app = wenti_app(request)
    with app.uow(principal.ctx.tenant_id) as uow:
        uow.sql_connection().execute(
            insert(saved_views).values(
                tenant_id=principal.ctx.tenant_id, username=principal.username, name=name, query=query, created_at=app.clock.now()
            )
        )
        uow.commit()
    return see_other("/issues?" + query)


@post("/views/{view_id:int}/delete", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def delete_view(request: Request, principal: NamedDependency[Principal], view_id: FromPath[int], data: FormData) -> Response:
    checked_form(request, principal, data)
    app = wenti_app(request)
    with app.uow(principal.ctx.tenant_id) as uow:
        uow.sql_connection().execute(
            delete(saved_views).where(
                and_(
                    saved_views.c.id == view_id,
                    saved_views.c.tenant_id == principal.ctx.tenant_id,
                    saved_views.c.username == principal.username,
                )
            )
        )
        uow.commit()
    return see_other("/issues")


# -- issue page ------------------------------------------------------------------


def _field_label(name: str, queue: Any, translator: Translator) -> str:
    from wenti_web.rendering import FIELD_LABELS

    for field in queue.custom_fields if queue else ():
        if field.key == name:
            return field.label
    return translator(FIELD_LABELS[name]) if name in FIELD_LABELS else name


def issue_page(request: Request, principal: Principal, issue_id: int, *, error: str = "", status: int = 200) -> Response:
    app = wenti_app(request)
    ctx = principal.ctx
    issue = app.issues.get(ctx, issue_id)
    queue = next((q for q in app.admin.list_queues(ctx) if q.key == issue.queue), None)
    workflow = app.issues.workflow_of(ctx, issue)
    translator = Translator(ctx.locale)
    state = workflow.state(issue.status)
    transitions = [
        {
            "key": t.key,
            "name": translator(t.name),
            "target": t.target,
            "fields": [{"name": f, "label": _field_label(f, queue, translator)} for f in t.required_fields],
        }
        for t in app.issues.allowed_transitions(ctx, issue)
    ]
    return render(
        request,
        "issue.html",
        status_code=status,
        issue=issue,
        queue=queue,
        state_name=translator(state.name) if state else issue.status,
        state_names={s.key: translator(s.name) for s in workflow.states},
        state_category=state.category.value if state else "open",
        comments=app.issues.comments(ctx, issue_id),
        history=app.issues.history(ctx, issue_id),
        links=app.issues.links(ctx, issue_id),
        attachments=app.issues.attachments(ctx, issue_id),
        transitions=transitions,
        agents=[u for u in app.admin.list_users(ctx) if u.role.includes(Role.AGENT) and u.active]
        if principal.role.includes(Role.AGENT)
        else [],
        is_agent=principal.role.includes(Role.AGENT),
        error=error,
        custom_field_labels={f.key: f.label for f in (queue.custom_fields if queue else [])},
        badges=_badges_by_issue(app, principal, [issue]).get(issue.id, []),
        blocks=template_blocks(request, principal, ("issue.sidebar", "issue.after_description"), {"issue": issue, "queue": queue}),
    )


@get("/issues/{issue_id:int}", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def show_issue(request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int]) -> Response:
    return issue_page(request, principal, issue_id)


def _act(request: Request, principal: Principal, issue_id: int, action: Any) -> Response:
    """Run one change; on a refused change show the issue page again with the reason."""
    try:
        action()
    except (WentiError, ApiProblem, UploadRejected) as error:
        status = getattr(error, "status", None) or 400
        if isinstance(error, WentiError):
            from wenti_web.problems import from_wenti_error

            status = from_wenti_error(error).status
            if status == 404:
                raise
        return issue_page(request, principal, issue_id, error=_error_text(error, principal.ctx.locale), status=status)
    return see_other(f"/issues/{issue_id}")


@post("/issues/{issue_id:int}/comments", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def add_comment(request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int], data: FormData) -> Response:
    checked_form(request, principal, data)
    app = wenti_app(request)
    visibility = "internal" if form_value(data, "visibility") == "internal" else "public"
    return _act(request, principal, issue_id, lambda: app.issues.comment(principal.ctx, issue_id, form_value(data, "body"), visibility))


@post("/issues/{issue_id:int}/transition", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def transition(request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int], data: FormData) -> Response:
    checked_form(request, principal, data)
    app = wenti_app(request)
    version = parse_int(form_value(data, "version"), "version")
    fields = {key[len("field_"):]: form_value(data, key) for key in data if key.startswith("field_")}
    comment = form_value(data, "comment").strip() or None
    key = form_value(data, "transition")
    return _act(request, principal, issue_id, lambda: app.issues.transition(principal.ctx, issue_id, version, key, fields, comment))


@post("/issues/{issue_id:int}/assign", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def assign(request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int], data: FormData) -> Response:
    checked_form(request, principal, data)
    app = wenti_app(request)
    version = parse_int(form_value(data, "version"), "version")
    assignee = form_value(data, "assignee") or None
    return _act(request, principal, issue_id, lambda: app.issues.assign(principal.ctx, issue_id, version, assignee))


@post("/issues/{issue_id:int}/links", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def add_link(request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int], data: FormData) -> Response:
    checked_form(request, principal, data)
    app = wenti_app(request)
    target_text = form_value(data, "target").strip()
    # Accept "IT-42" as well as "42".
    target_id = parse_int(target_text.rsplit("-", 1)[-1], "target")
    link_type = form_value(data, "type")
    return _act(request, principal, issue_id, lambda: app.issues.link(principal.ctx, issue_id, target_id, link_type))


@post("/issues/{issue_id:int}/attachments", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def upload(request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int], data: MultipartData) -> Response:
    check_csrf(request, principal, form_value(data, "csrf_token"))
    upload_file = data.get("file")
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        translator = Translator(principal.ctx.locale)
        return issue_page(request, principal, issue_id, error=translator("Choose a file to upload."), status=400)
    app = wenti_app(request)
    return _act(request, principal, issue_id, lambda: store_attachment(app, request, principal, issue_id, upload_file))


@get("/attachments/{attachment_id:int}", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def download(request: Request, principal: NamedDependency[Principal], attachment_id: FromPath[int]) -> Response:
    attachment = wenti_app(request).issues.attachment(principal.ctx, attachment_id)
    return download_response(request, attachment)


# -- new issue -------------------------------------------------------------------


def _new_form(request: Request, principal: Principal, *, values: dict[str, Any] | None = None, error: str = "", status: int = 200) -> Response:
    app = wenti_app(request)
    queues = app.admin.list_queues(principal.ctx)
    return render(
        request,
        "issue_new.html",
        status_code=status,
        queues=queues,
        priorities=[p.value for p in Priority],
        values=values or {},
        error=error,
        blocks=template_blocks(request, principal, ("issue_new.form_end",), {"queues": queues, "values": dict(values or {})}),
    )


@get("/issues/new", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def new_issue_form(request: Request, principal: NamedDependency[Principal]) -> Response:
    return _new_form(request, principal, values={"queue": request.query_params.get("queue", "")})


@post("/issues/new", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def create_issue(request: Request, principal: NamedDependency[Principal], data: MultipartData) -> Response:
    check_csrf(request, principal, form_value(data, "csrf_token"))
    app = wenti_app(request)
    values = {key: form_value(data, key) for key in data if key != "file" and key != "csrf_token"}
    queue_key = values.get("queue") or None
    queue = next((q for q in app.admin.list_queues(principal.ctx) if q.key == queue_key), None)
    custom_fields = {}
    for field in queue.custom_fields if queue else ():
        value = values.get(f"cf_{queue.key}_{field.key}", "").strip()
        if value:
            custom_fields[field.key] = value
    upload_file = data.get("file")
    has_file = isinstance(upload_file, UploadFile) and bool(upload_file.filename)

    # An unacceptable file is refused before the issue is created, so nothing is stored half-way.
    if has_file:
        from wenti_web.uploads import check_upload

        limit = request.app.state["max_upload_bytes"]
        head = upload_file.file.read(limit + 1)
        upload_file.file.seek(0)
        try:
            check_upload(head, upload_file.filename, upload_file.content_type, limit)
        except UploadRejected as error:
            return _new_form(request, principal, values=values, error=_error_text(error, principal.ctx.locale), status=error.status)

    try:
        issue = app.issues.create(
            principal.ctx,
            title=values.get("title", ""),
            queue=queue_key,
            description=values.get("description", ""),
            priority=values.get("priority") or "normal",
            category=values.get("category") or None,
            custom_fields=custom_fields,
            source="web",
        )
    except WentiError as error:
        status = 403 if error.__class__.__name__ == "PermissionDenied" else 422
        return _new_form(request, principal, values=values, error=_error_text(error, principal.ctx.locale), status=status)
    if has_file:
        try:
            store_attachment(app, request, principal, issue.id, upload_file)
        except (WentiError, UploadRejected) as error:
            log.warning("attachment of new issue %s failed: %s", issue.id, error)
            return issue_page(request, principal, issue.id, error=_error_text(error, principal.ctx.locale), status=400)
    return see_other(f"/issues/{issue.id}")


@post("/issues/suggestions", include_in_schema=False, dependencies=UI_DEPENDENCIES, status_code=200)
@in_thread
def suggestions(request: Request, principal: NamedDependency[Principal], data: FormData) -> Response:
    """Classification suggestions and similar issues for the new-issue form, as JSON.

    Advisory: with no classifier or similar-issue plugin installed both lists are
    empty and the form shows nothing.
    """
    checked_form(request, principal, data)
    app = wenti_app(request)
    draft = Issue(
        tenant_id=principal.ctx.tenant_id,
        queue=form_value(data, "queue") or "",
        title=form_value(data, "title")[:500],
        reporter=principal.username,
        status="",
        description=form_value(data, "description")[:5000],
    )
    if len(draft.title.strip()) < 2:
        return Response({"suggestions": [], "similar": []})
    found = app.hooks.classify_issue(draft, app)
    similar = app.hooks.similar_issues(draft, app, 5)
    visible = []
    for item in similar:
        # Reporters see only their own issues, so similar issues are filtered through the service layer.
        if item.get("kind") == "issue":
            try:
                app.issues.get(principal.ctx, int(item["id"]))
            except (WentiError, ValueError, TypeError):
                continue
        visible.append({k: item.get(k) for k in ("kind", "id", "title", "score", "url")})
    payload = {
        "suggestions": [
            {"field": s.field, "value": str(s.value), "confidence": round(float(s.confidence), 3), "explanation": s.explanation}
            for s in found
        ],
        "similar": visible,
    }
    return Response(json.loads(json.dumps(payload, default=str)))


ISSUE_HANDLERS = [
    home,
    issue_list,
    save_view,
    delete_view,
    show_issue,
    add_comment,
    transition,
    assign,
    add_link,
    upload,
    download,
    new_issue_form,
    create_issue,
    suggestions,
]
