"""Issues, their transitions, assignment, comments, links and history under /api/v1."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import attrs
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from wenti.store import SORTABLE_FIELDS, IssueQuery

from wenti_web.threads import in_thread
from wenti_web.api.common import API_DEPENDENCIES, PROBLEM_RESPONSES, idempotent_post, reject_unknown_fields
from wenti_web.api.models import (
    AssignRequest,
    CommentCreate,
    CommentOut,
    EventOut,
    IssueCreate,
    IssueOut,
    IssuePage,
    IssuePatch,
    LinkCreate,
    LinkOut,
    TransitionOut,
    TransitionRequest,
)
from wenti_web.auth import Principal, wenti_app
from wenti_web.config import WebConfig
from wenti_web.preconditions import etag, expected_version
from wenti_web.problems import ApiProblem

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        description="Makes a retried POST safe: the same key and body return the first response.",
    ),
]
IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", required=False, description="The issue's ETag; required (428 without it)."),
]


def parse_sort(value: str | None) -> tuple[str, ...]:
    if not value:
        return ("-created_at",)
    fields = tuple(part.strip() for part in value.split(",") if part.strip())
    for field in fields:
        if field.lstrip("-") not in SORTABLE_FIELDS:
            raise ApiProblem(
                "validation-failed",
                "Cannot sort by {value!r}; sort by one of: {choices} (prefix - for descending).",
                value=field,
                choices=", ".join(SORTABLE_FIELDS),
            )
    return fields


def build_query(
    username: str,
    *,
    queue: list[str] | None,
    status: list[str] | None,
    status_category: list[str] | None,
    assignee: list[str] | None,
    reporter: str | None,
    priority: list[str] | None,
    category: list[str] | None,
    tag: str | None,
    q: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    sort: str | None,
    limit: int,
    cursor: str | None,
) -> IssueQuery:
    """Turn list filters into an `IssueQuery`; `me` names the caller, `none` means unassigned."""
    assignees = [username if name == "me" else name for name in (assignee or [])]
    unassigned = "none" in assignees
    assignees = [name for name in assignees if name != "none"]
    return IssueQuery(
        queue=tuple(queue or ()),
        status=tuple(status or ()),
        status_category=tuple(status_category or ()),
        assignee=tuple(assignees),
        unassigned=unassigned,
        reporter=username if reporter == "me" else reporter,
        priority=tuple(priority or ()),
        category=tuple(category or ()),
        tag=tag or None,
        text=q or None,
        created_from=created_from,
        created_to=created_to,
        sort=parse_sort(sort),
        limit=limit,
        after=cursor or None,
    )


def apply_plugin_filters(app, principal: Principal, chosen: list[str], query: IssueQuery) -> IssueQuery:
    """Restrict `query` to the issues matching every chosen `register_issue_filters` filter."""
    if not chosen:
        return query
    records = {record.name: record for record in app.hooks.issue_filters()}
    ids: set[int] | None = None
    for item in chosen:
        name, _, raw = item.partition("=")
        record = records.get(name)
        if record is None:
            raise ApiProblem(
                "validation-failed",
                "Unknown filter {value!r}; installed filters: {choices}.",
                value=name,
                choices=", ".join(sorted(records)) or "-",
            )
        value = None
        if record.value_kind == "number":
            try:
                value = float(raw)
            except ValueError:
                raise ApiProblem("validation-failed", "{field} must be a number, got {value!r}.", field=name, value=raw) from None
        matched = set(record.match(app, principal.ctx, value))
        ids = matched if ids is None else ids & matched
    return attrs.evolve(query, ids=tuple(sorted(ids or ())))


def issue_response(issue, status_code: int = 200, location: bool = False) -> Response[IssueOut]:
    headers = {"ETag": etag(issue)}
    if location:
        headers["Location"] = f"/api/v1/issues/{issue.id}"
    return Response(IssueOut.of(issue), status_code=status_code, headers=headers)


class IssueController(Controller):
    path = "/api/v1/issues"
    tags = ["issues"]
    dependencies = API_DEPENDENCIES

    @get("/", responses=PROBLEM_RESPONSES, summary="List issues")
    @in_thread
    def list_issues(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        queue: FromQuery[list[str] | None] = None,
        status: FromQuery[list[str] | None] = None,
        status_category: FromQuery[list[str] | None] = None,
        assignee: FromQuery[list[str] | None] = None,
        reporter: FromQuery[str | None] = None,
        priority: FromQuery[list[str] | None] = None,
        category: FromQuery[list[str] | None] = None,
        tag: FromQuery[str | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        created_from: FromQuery[datetime | None] = None,
        created_to: FromQuery[datetime | None] = None,
        sort: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=500)] = None,
        with_total: FromQuery[bool] = False,
        filter: Annotated[
            list[str] | None,
            QueryParameter(description="Plugin filters as `name` or `name=value` (e.g. SLA filters); repeat for several."),
        ] = None,
    ) -> IssuePage:
        """Filter, sort and page through issues. Pass `next_cursor` as `cursor` for the next page."""
        app = wenti_app(request)
        config: WebConfig = request.app.state["web_config"]
        query = build_query(
            principal.username,
            queue=queue,
            status=status,
            status_category=status_category,
            assignee=assignee,
            reporter=reporter,
            priority=priority,
            category=category,
            tag=tag,
            q=q,
            created_from=created_from,
            created_to=created_to,
            sort=sort,
            limit=min(limit, config.api_page_max),
            cursor=cursor,
        )
        query = apply_plugin_filters(app, principal, filter or [], query)
        try:
            page = app.issues.list(principal.ctx, query)
        except ValueError as error:
            raise ApiProblem("validation-failed", "Invalid list parameters: {error}", error=str(error)) from None
        total = app.issues.count(principal.ctx, attrs.evolve(query, after=None)) if with_total else None
        return IssuePage(items=[IssueOut.of(issue) for issue in page.items], next_cursor=page.next_cursor, total=total)

    @post("/", responses=PROBLEM_RESPONSES, summary="Create an issue", status_code=201)
    @in_thread
    def create_issue(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        data: JSONBody[IssueCreate],
        raw_body: NamedDependency[bytes],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[IssueOut]:
        """Create an issue. Send an `Idempotency-Key` to make retries safe."""
        reject_unknown_fields(raw_body, IssueCreate)
        app = wenti_app(request)

        def execute() -> Response:
            issue = app.issues.create(
                principal.ctx,
                title=data.title,
                queue=data.queue,
                description=data.description,
                priority=data.priority,
                category=data.category,
                tags=data.tags,
                custom_fields=data.custom_fields,
                assignee=data.assignee,
                reporter=data.reporter,
                source="api",
                external_id=data.external_id,
            )
            return issue_response(issue, 201, location=True)

        return idempotent_post(request, principal, idempotency_key, raw_body, execute)

    @get("/{issue_id:int}", responses=PROBLEM_RESPONSES, summary="Read an issue")
    @in_thread
    def get_issue(self, request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int]) -> Response[IssueOut]:
        """Return the issue with its current ETag."""
        return issue_response(wenti_app(request).issues.get(principal.ctx, issue_id))

    @patch("/{issue_id:int}", responses=PROBLEM_RESPONSES, summary="Change an issue's fields")
    @in_thread
    def update_issue(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        issue_id: FromPath[int],
        data: JSONBody[IssuePatch],
        raw_body: NamedDependency[bytes],
        if_match: IfMatch = None,
    ) -> Response[IssueOut]:
        """Change title, description, priority, category, tags or custom fields. Needs If-Match."""
        sent = reject_unknown_fields(raw_body, IssuePatch)
        app = wenti_app(request)
        version = _version(app, principal, issue_id, if_match)
        changes = {name: getattr(data, name) for name in sent}
        if not changes:
            raise ApiProblem("validation-failed", "The request changes nothing; send at least one field.")
        return issue_response(app.issues.update(principal.ctx, issue_id, version, **changes))

    @get("/{issue_id:int}/transitions", responses=PROBLEM_RESPONSES, summary="Transitions the caller may take")
    @in_thread
    def list_transitions(self, request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int]) -> list[TransitionOut]:
        app = wenti_app(request)
        issue = app.issues.get(principal.ctx, issue_id)
        return [TransitionOut.of(t, principal.ctx.locale) for t in app.issues.allowed_transitions(principal.ctx, issue)]

    @post("/{issue_id:int}/transitions", responses=PROBLEM_RESPONSES, summary="Take a workflow transition", status_code=200)
    @in_thread
    def transition_issue(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        issue_id: FromPath[int],
        data: JSONBody[TransitionRequest],
        raw_body: NamedDependency[bytes],
        if_match: IfMatch = None,
    ) -> Response[IssueOut]:
        """Move the issue along its workflow, setting required fields in the same change. Needs If-Match."""
        reject_unknown_fields(raw_body, TransitionRequest)
        app = wenti_app(request)
        version = _version(app, principal, issue_id, if_match)
        issue = app.issues.transition(principal.ctx, issue_id, version, data.transition, data.fields, data.comment)
        return issue_response(issue)

    @put("/{issue_id:int}/assignee", responses=PROBLEM_RESPONSES, summary="Assign or unassign")
    @in_thread
    def assign_issue(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        issue_id: FromPath[int],
        data: JSONBody[AssignRequest],
        raw_body: NamedDependency[bytes],
        if_match: IfMatch = None,
    ) -> Response[IssueOut]:
        """Set the assignee; `null` unassigns. Needs If-Match."""
        reject_unknown_fields(raw_body, AssignRequest)
        app = wenti_app(request)
        version = _version(app, principal, issue_id, if_match)
        return issue_response(app.issues.assign(principal.ctx, issue_id, version, data.assignee))

    @get("/{issue_id:int}/comments", responses=PROBLEM_RESPONSES, summary="List comments")
    @in_thread
    def list_comments(self, request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int]) -> list[CommentOut]:
        """Public replies and, for agents, internal notes, oldest first."""
        return [CommentOut.of(c) for c in wenti_app(request).issues.comments(principal.ctx, issue_id)]

    @post("/{issue_id:int}/comments", responses=PROBLEM_RESPONSES, summary="Add a comment", status_code=201)
    @in_thread
    def add_comment(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        issue_id: FromPath[int],
        data: JSONBody[CommentCreate],
        raw_body: NamedDependency[bytes],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CommentOut]:
        """Add a public reply or (agents only) an internal note."""
        reject_unknown_fields(raw_body, CommentCreate)
        if data.visibility not in ("public", "internal"):
            raise ApiProblem(
                "validation-failed", "Visibility {value!r} is invalid; use public or internal.", value=data.visibility
            )
        app = wenti_app(request)

        def execute() -> Response:
            comment = app.issues.comment(principal.ctx, issue_id, data.body, data.visibility, source="api")
            return Response(CommentOut.of(comment), status_code=201)

        return idempotent_post(request, principal, idempotency_key, raw_body, execute)

    @get("/{issue_id:int}/links", responses=PROBLEM_RESPONSES, summary="List links")
    @in_thread
    def list_links(self, request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int]) -> list[LinkOut]:
        return [LinkOut.of(link) for link in wenti_app(request).issues.links(principal.ctx, issue_id)]

    @post("/{issue_id:int}/links", responses=PROBLEM_RESPONSES, summary="Link to another issue", status_code=201)
    @in_thread
    def add_link(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        issue_id: FromPath[int],
        data: JSONBody[LinkCreate],
        raw_body: NamedDependency[bytes],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[LinkOut]:
        """Link this issue to another: duplicate_of, caused_by or related."""
        reject_unknown_fields(raw_body, LinkCreate)
        app = wenti_app(request)

        def execute() -> Response:
            link = app.issues.link(principal.ctx, issue_id, data.target_id, data.type)
            return Response(LinkOut.of(link), status_code=201)

        return idempotent_post(request, principal, idempotency_key, raw_body, execute)

    @get("/{issue_id:int}/history", responses=PROBLEM_RESPONSES, summary="History events")
    @in_thread
    def history(self, request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int]) -> list[EventOut]:
        return [EventOut.of(event) for event in wenti_app(request).issues.history(principal.ctx, issue_id)]


def _version(app, principal: Principal, issue_id: int, if_match: str | None) -> int:
    """Return the version that If-Match names, reading the current one for `*`."""
    version = expected_version(if_match, issue_id)
    if version is None:
        version = app.issues.get(principal.ctx, issue_id).version
    return version
