"""Queues, workflows, users, teams, the current user and API tokens under /api/v1."""

from __future__ import annotations

from datetime import timedelta

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from wenti.domain import Role
from wenti.errors import NotFound, PermissionDenied

from wenti_web import accounts, tokens
from wenti_web.threads import in_thread
from wenti_web.api.common import API_DEPENDENCIES, PROBLEM_RESPONSES, idempotent_post, reject_unknown_fields
from wenti_web.api.issues import IdempotencyKey
from wenti_web.api.models import (
    MeOut,
    QueueOut,
    TeamCreate,
    TeamOut,
    TeamPatch,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserPatch,
    WorkflowOut,
)
from wenti_web.auth import Principal, require_admin_scope, wenti_app
from wenti_web.problems import ApiProblem
from wenti_web.token_cache import token_cache


def _token_out(token: tokens.ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        scopes=list(token.scopes),
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )



class DirectoryController(Controller):
    path = "/api/v1"
    dependencies = API_DEPENDENCIES

    # -- queues and workflows --------------------------------------------------

    @get("/queues", responses=PROBLEM_RESPONSES, tags=["queues"], summary="List queues")
    @in_thread
    def list_queues(self, request: Request, principal: NamedDependency[Principal]) -> list[QueueOut]:
        return [QueueOut.of(q) for q in wenti_app(request).admin.list_queues(principal.ctx)]

    @get("/queues/{key:str}", responses=PROBLEM_RESPONSES, tags=["queues"], summary="Read a queue")
    @in_thread
    def get_queue(self, request: Request, principal: NamedDependency[Principal], key: FromPath[str]) -> QueueOut:
        for queue in wenti_app(request).admin.list_queues(principal.ctx):
            if queue.key == key:
                return QueueOut.of(queue)
        raise NotFound("Queue {queue} does not exist.", queue=key)

    @get("/workflows", responses=PROBLEM_RESPONSES, tags=["workflows"], summary="List workflows")
    @in_thread
    def list_workflows(self, request: Request, principal: NamedDependency[Principal]) -> list[WorkflowOut]:
        workflows = wenti_app(request).admin.list_workflows(principal.ctx)
        return [WorkflowOut.of(w, principal.ctx.locale) for w in workflows]

    @get("/workflows/{key:str}", responses=PROBLEM_RESPONSES, tags=["workflows"], summary="Read a workflow")
    @in_thread
    def get_workflow(self, request: Request, principal: NamedDependency[Principal], key: FromPath[str]) -> WorkflowOut:
        for workflow in wenti_app(request).admin.list_workflows(principal.ctx):
            if workflow.key == key:
                return WorkflowOut.of(workflow, principal.ctx.locale)
        raise NotFound("Workflow {workflow} does not exist.", workflow=key)

    # -- users and teams -------------------------------------------------------

    @get("/users", responses=PROBLEM_RESPONSES, tags=["users"], summary="List users (agents and above)")
    @in_thread
    def list_users(self, request: Request, principal: NamedDependency[Principal]) -> list[UserOut]:
        return [UserOut.of(u) for u in wenti_app(request).admin.list_users(principal.ctx)]

    @post("/users", responses=PROBLEM_RESPONSES, tags=["users"], summary="Create a user (admin)", status_code=201)
    @in_thread
    def create_user(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        data: JSONBody[UserCreate],
        raw_body: NamedDependency[bytes],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[UserOut]:
        """Create a user; with `password`, they can sign in to the web app at once."""
        reject_unknown_fields(raw_body, UserCreate)
        require_admin_scope(principal)
        app = wenti_app(request)
        if data.password is not None and principal.role is not Role.ADMIN:
            raise PermissionDenied("Only admins set passwords of other users.")

        def execute() -> Response:
            user = app.admin.create_user(principal.ctx, data.username, data.display_name, data.role, data.email, data.locale)
            if data.password is not None:
                accounts.set_password(app, principal.ctx.tenant_id, user.username, data.password)
            return Response(UserOut.of(user), status_code=201, headers={"Location": f"/api/v1/users/{user.username}"})

        if data.password is not None:
            # Check the policy before anything is written, so a weak password stores no user.
            from wenti_web.passwords import policy_problem

            problem = policy_problem(data.password, data.username)
            if problem:
                raise ApiProblem("validation-failed", problem)
        return idempotent_post(request, principal, idempotency_key, raw_body, execute)

    @patch("/users/{username:str}", responses=PROBLEM_RESPONSES, tags=["users"], summary="Change a user (admin)")
    @in_thread
    def update_user(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        username: FromPath[str],
        data: JSONBody[UserPatch],
        raw_body: NamedDependency[bytes],
    ) -> UserOut:
        """Change role, name, e-mail, language or active flag, or set a new password.

        Deactivating a user or setting their password ends all their sessions.
        """
        sent = reject_unknown_fields(raw_body, UserPatch)
        require_admin_scope(principal)
        app = wenti_app(request)
        if principal.role is not Role.ADMIN:
            raise PermissionDenied("Only admins change users.")
        password = data.password if "password" in sent else None
        if password is not None:
            from wenti_web.passwords import policy_problem

            problem = policy_problem(password, username)
            if problem:
                raise ApiProblem("validation-failed", problem)
        changes = {name: getattr(data, name) for name in sent if name != "password"}
        user = app.admin.update_user(principal.ctx, username, **changes) if changes else None
        if password is not None:
            accounts.set_password(app, principal.ctx.tenant_id, username, password)
        if changes.get("active") is False:
            accounts.end_sessions(app, principal.ctx.tenant_id, username)
        if user is None:
            user = next((u for u in app.admin.list_users(principal.ctx) if u.username == username), None)
            if user is None:
                raise NotFound("User {user} does not exist in tenant {tenant}.", user=username, tenant=principal.ctx.tenant_id)
        return UserOut.of(user)

    @get("/teams", responses=PROBLEM_RESPONSES, tags=["teams"], summary="List teams")
    @in_thread
    def list_teams(self, request: Request, principal: NamedDependency[Principal]) -> list[TeamOut]:
        if not principal.role.includes(Role.AGENT):
            raise PermissionDenied("Reporters cannot list teams.")
        return [TeamOut.of(t) for t in wenti_app(request).admin.list_teams(principal.ctx)]

    @post("/teams", responses=PROBLEM_RESPONSES, tags=["teams"], summary="Create a team (queue manager)", status_code=201)
    @in_thread
    def create_team(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        data: JSONBody[TeamCreate],
        raw_body: NamedDependency[bytes],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TeamOut]:
        reject_unknown_fields(raw_body, TeamCreate)
        require_admin_scope(principal)
        app = wenti_app(request)

        def execute() -> Response:
            team = app.admin.create_team(principal.ctx, data.key, data.name, data.members)
            return Response(TeamOut.of(team), status_code=201)

        return idempotent_post(request, principal, idempotency_key, raw_body, execute)

    @patch("/teams/{key:str}", responses=PROBLEM_RESPONSES, tags=["teams"], summary="Change a team (queue manager)")
    @in_thread
    def update_team(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        key: FromPath[str],
        data: JSONBody[TeamPatch],
        raw_body: NamedDependency[bytes],
    ) -> TeamOut:
        sent = reject_unknown_fields(raw_body, TeamPatch)
        require_admin_scope(principal)
        changes = {name: getattr(data, name) for name in sent}
        if not changes:
            raise ApiProblem("validation-failed", "The request changes nothing; send at least one field.")
        return TeamOut.of(wenti_app(request).admin.update_team(principal.ctx, key, **changes))

    # -- the caller ------------------------------------------------------------

    @get("/me", responses=PROBLEM_RESPONSES, tags=["me"], summary="The current user")
    @in_thread
    def me(self, principal: NamedDependency[Principal]) -> MeOut:
        ctx = principal.ctx
        return MeOut(
            tenant_id=ctx.tenant_id,
            user=UserOut.of(ctx.user),
            locale=ctx.locale,
            timezone=ctx.timezone,
            authenticated_by="token" if principal.token else "session",
        )

    @get("/me/tokens", responses=PROBLEM_RESPONSES, tags=["me"], summary="List my API tokens")
    @in_thread
    def list_tokens(self, request: Request, principal: NamedDependency[Principal]) -> list[TokenOut]:
        app = wenti_app(request)
        with app.uow(principal.ctx.tenant_id) as uow:
            found = tokens.list_for_user(uow.sql_connection(), principal.ctx.tenant_id, principal.username)
        return [_token_out(t) for t in found]

    @post("/me/tokens", responses=PROBLEM_RESPONSES, tags=["me"], summary="Create an API token", status_code=201)
    @in_thread
    def create_token(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        data: JSONBody[TokenCreate],
        raw_body: NamedDependency[bytes],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TokenCreated]:
        """Create a token with `read`, `write` and/or `admin` scope. The token text is shown only once."""
        reject_unknown_fields(raw_body, TokenCreate)
        scopes = tuple(dict.fromkeys(data.scopes))
        bad = [s for s in scopes if s not in tokens.SCOPES]
        if bad or not scopes:
            raise ApiProblem(
                "validation-failed",
                "Invalid scopes {value}; use one or more of: {choices}.",
                value=", ".join(bad) or "[]",
                choices=", ".join(tokens.SCOPES),
            )
        if not data.name.strip() or len(data.name) > 100:
            raise ApiProblem("validation-failed", "The token name must have 1 to 100 characters.")
        if data.expires_in_days is not None and not 1 <= data.expires_in_days <= 3650:
            raise ApiProblem("validation-failed", "expires_in_days must be between 1 and 3650.")
        if principal.token is not None and not set(scopes) <= set(principal.token.scopes):
            raise PermissionDenied("A token can only create tokens with the same or fewer scopes.")
        app = wenti_app(request)

        def execute() -> Response:
            now = app.clock.now()
            expires_at = now + timedelta(days=data.expires_in_days) if data.expires_in_days else None
            with app.uow(principal.ctx.tenant_id) as uow:
                text, token = tokens.create(
                    uow.sql_connection(), principal.ctx.tenant_id, principal.username, data.name.strip(), scopes, now, expires_at
                )
                uow.commit()
            return Response(TokenCreated(token=text, info=_token_out(token)), status_code=201)

        return idempotent_post(request, principal, idempotency_key, raw_body, execute)

    @delete("/me/tokens/{token_id:str}", responses=PROBLEM_RESPONSES, tags=["me"], summary="Revoke an API token", status_code=204)
    @in_thread
    def revoke_token(self, request: Request, principal: NamedDependency[Principal], token_id: FromPath[str]) -> None:
        app = wenti_app(request)
        with app.uow(principal.ctx.tenant_id) as uow:
            conn = uow.sql_connection()
            token = tokens.get(conn, principal.ctx.tenant_id, token_id)
            if token is None or token.username != principal.username:
                raise NotFound("API token {token} does not exist.", token=token_id)
            tokens.revoke(conn, principal.ctx.tenant_id, token_id, app.clock.now())
            uow.commit()
        token_cache(app).invalidate(principal.ctx.tenant_id, token_id)
