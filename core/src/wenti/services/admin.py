"""Tenants, users, teams, queues and workflows.

`ensure_tenant` is the bootstrap path (`wenti init`, tests): it needs no acting user
because none exists yet. Everything else takes a `Context` and checks its role:
queue managers manage queues, teams and workflows; admins also manage users.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from wenti.domain import CustomFieldDef, Queue, Role, Team, Tenant, User, Workflow
from wenti.errors import NotFound, ValidationFailed
from wenti.i18n import N_, normalize_locale
from wenti.services.permissions import require_role
from wenti.services.writes import audit_entry
from wenti.workflows import DEFAULT_WORKFLOW_KEY, default_workflow

if TYPE_CHECKING:
    from wenti.app import App, Context

log = logging.getLogger(__name__)

_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_USERNAME_PATTERN = re.compile(r"^[\w.@+-]{1,64}$")


def _check_key(kind: str, key: str) -> str:
    if not _KEY_PATTERN.match(key or ""):
        raise ValidationFailed(
            N_("{kind} key {value!r} is invalid; use 1-32 lower-case letters, digits, - or _, starting with a letter."),
            kind=kind,
            value=key,
        )
    return key


def _parse_role(role: Any) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ValidationFailed(
            N_("Unknown role {value!r}; use one of: {choices}."), value=role, choices=", ".join(r.value for r in Role)
        ) from None


class AdminService:
    def __init__(self, app: App) -> None:
        self.app = app

    def ensure_tenant(
        self,
        tenant_id: str,
        name: str | None = None,
        *,
        locale: str = "zh_CN",
        timezone: str = "Asia/Shanghai",
        admin_username: str | None = None,
        admin_display_name: str | None = None,
        default_queue: tuple[str, str] | None = ("general", "General"),
    ) -> Tenant:
        """Create the tenant, the default workflow, a first queue and an admin if missing.

        Safe to call again: existing rows are left as they are.
        """
        _check_key("tenant", tenant_id)
        now = self.app.clock.now()
        with self.app.uow(tenant_id) as uow:
            tenant = uow.tenants.get(tenant_id)
            if tenant is None:
                tenant = Tenant(tenant_id, name or tenant_id, locale, timezone, now)
                uow.tenants.add(tenant)
            if uow.workflows.get(DEFAULT_WORKFLOW_KEY) is None:
                uow.workflows.put(default_workflow())
            if default_queue and not uow.queues.list():
                uow.queues.add(Queue(tenant_id, default_queue[0], default_queue[1]))
            if admin_username and uow.users.get(admin_username) is None:
                uow.users.add(
                    User(tenant_id, admin_username, admin_display_name or admin_username, Role.ADMIN, created_at=now)
                )
            uow.audit.add(audit_entry(tenant_id, admin_username or "system", "tenant.ensure", "tenant", tenant_id, now))
            uow.commit()
            self.app.references.invalidate(uow.tenant_id)
        return tenant

    # -- users -----------------------------------------------------------------

    def create_user(
        self,
        ctx: Context,
        username: str,
        display_name: str | None = None,
        role: Role | str = Role.REPORTER,
        email: str | None = None,
        locale: str | None = None,
    ) -> User:
        require_role(ctx, Role.ADMIN, N_("manage users"))
        if not _USERNAME_PATTERN.match(username or ""):
            raise ValidationFailed(
                N_("Username {value!r} is invalid; use up to 64 letters, digits or . @ + - _."), value=username
            )
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            if uow.users.get(username) is not None:
                raise ValidationFailed(N_("User {user} already exists."), user=username)
            user = uow.users.add(
                User(ctx.tenant_id, username, display_name or username, _parse_role(role), email, locale, created_at=now)
            )
            uow.audit.add(audit_entry(ctx.tenant_id, ctx.username, "user.create", "user", username, now, {"role": user.role.value}))
            uow.commit()
            self.app.references.invalidate(uow.tenant_id)
        return user

    def update_user(self, ctx: Context, username: str, **changes: Any) -> User:
        require_role(ctx, Role.ADMIN, N_("manage users"))
        allowed = {"display_name", "role", "email", "locale", "active"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ValidationFailed(
                N_("Field {field} cannot be changed this way; change one of: {choices}."),
                field=", ".join(unknown),
                choices=", ".join(sorted(allowed)),
            )
        if "role" in changes:
            changes["role"] = _parse_role(changes["role"])
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            user = uow.users.get(username)
            if user is None:
                raise NotFound(N_("User {user} does not exist in tenant {tenant}; check the user name, or ask an admin to create the user."), user=username, tenant=ctx.tenant_id)
            updated = attrs.evolve(user, **changes)
            uow.users.update(updated)
            uow.audit.add(
                audit_entry(ctx.tenant_id, ctx.username, "user.update", "user", username, now, {k: str(v) for k, v in changes.items()})
            )
            uow.commit()
            self.app.references.invalidate(uow.tenant_id)
        return updated

    def update_own_profile(
        self,
        ctx: Context,
        *,
        display_name: str | None = None,
        email: str | None = None,
        locale: str | None = None,
    ) -> User:
        """Change the acting user's own name, e-mail or language; any role may do this."""
        changes: dict[str, Any] = {}
        if display_name is not None:
            if not display_name.strip():
                raise ValidationFailed(N_("The display name is empty; enter the name colleagues know you by."))
            changes["display_name"] = display_name.strip()
        if email is not None:
            changes["email"] = email.strip() or None
        if locale is not None:
            changes["locale"] = normalize_locale(locale)
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            user = uow.users.get(ctx.username)
            if user is None:
                raise NotFound(N_("User {user} does not exist in tenant {tenant}; check the user name, or ask an admin to create the user."), user=ctx.username, tenant=ctx.tenant_id)
            updated = attrs.evolve(user, **changes)
            if changes:
                uow.users.update(updated)
                uow.audit.add(
                    audit_entry(ctx.tenant_id, ctx.username, "user.update_own", "user", ctx.username, now, {k: str(v) for k, v in changes.items()})
                )
                uow.commit()
                self.app.references.invalidate(uow.tenant_id)
        return updated

    def list_users(self, ctx: Context) -> list[User]:
        require_role(ctx, Role.AGENT, N_("list users"))
        with self.app.uow(ctx.tenant_id) as uow:
            return uow.users.list()

    # -- teams, queues, workflows ----------------------------------------------

    def create_team(self, ctx: Context, key: str, name: str, members: Iterable[str] = ()) -> Team:
        require_role(ctx, Role.QUEUE_MANAGER, N_("manage teams"))
        _check_key("team", key)
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            existing = uow.teams.get(key)
            if existing is not None:
                return existing
            for member in members:
                if uow.users.get(member) is None:
                    raise ValidationFailed(N_("User {user} does not exist in this tenant; check the user name, or ask an admin to create the user."), user=member)
            team = uow.teams.add(Team(ctx.tenant_id, key, name, list(members)))
            uow.audit.add(audit_entry(ctx.tenant_id, ctx.username, "team.create", "team", key, now))
            uow.commit()
            self.app.references.invalidate(uow.tenant_id)
        return team

    def update_team(self, ctx: Context, key: str, **changes: Any) -> Team:
        require_role(ctx, Role.QUEUE_MANAGER, N_("manage teams"))
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            team = uow.teams.get(key)
            if team is None:
                raise NotFound(N_("Team {team} does not exist."), team=key)
            updated = attrs.evolve(team, **changes)
            uow.teams.update(updated)
            uow.audit.add(audit_entry(ctx.tenant_id, ctx.username, "team.update", "team", key, now))
            uow.commit()
            self.app.references.invalidate(uow.tenant_id)
        return updated

    def list_teams(self, ctx: Context) -> list[Team]:
        require_role(ctx, Role.AGENT, N_("list teams"))
        with self.app.uow(ctx.tenant_id) as uow:
            return uow.teams.list()

    def create_queue(
        self,
        ctx: Context,
        key: str,
        name: str,
        workflow_key: str = DEFAULT_WORKFLOW_KEY,
        team_key: str | None = None,
        manager: str | None = None,
        categories: Iterable[str] = (),
        custom_fields: Iterable[CustomFieldDef] = (),
    ) -> Queue:
        require_role(ctx, Role.QUEUE_MANAGER, N_("manage queues"))
        _check_key("queue", key)
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            existing = uow.queues.get(key)
            if existing is not None:
                return existing
            if workflow_key != DEFAULT_WORKFLOW_KEY and uow.workflows.get(workflow_key) is None:
                raise ValidationFailed(
                    N_("Workflow {workflow} does not exist; create it before the queue that uses it."), workflow=workflow_key
                )
            queue = uow.queues.add(
                Queue(ctx.tenant_id, key, name, workflow_key, team_key, manager, list(categories), list(custom_fields))
            )
            uow.audit.add(audit_entry(ctx.tenant_id, ctx.username, "queue.create", "queue", key, now))
            uow.commit()
            self.app.references.invalidate(uow.tenant_id)
        return queue

    def update_queue(self, ctx: Context, key: str, **changes: Any) -> Queue:
        require_role(ctx, Role.QUEUE_MANAGER, N_("manage queues"))
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            queue = uow.queues.get(key)
            if queue is None:
                raise NotFound(N_("Queue {queue} does not exist."), queue=key)
            updated = attrs.evolve(queue, **changes)
            uow.queues.update(updated)
            uow.audit.add(audit_entry(ctx.tenant_id, ctx.username, "queue.update", "queue", key, now))
            uow.commit()
            self.app.references.invalidate(uow.tenant_id)
        return updated

    def list_queues(self, ctx: Context) -> list[Queue]:
        with self.app.uow(ctx.tenant_id) as uow:
            return uow.queues.list()

    def put_workflow(self, ctx: Context, workflow: Workflow) -> Workflow:
        require_role(ctx, Role.QUEUE_MANAGER, N_("manage workflows"))
        _check_workflow(workflow)
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            uow.workflows.put(workflow)
            uow.audit.add(audit_entry(ctx.tenant_id, ctx.username, "workflow.put", "workflow", workflow.key, now))
            uow.commit()
            self.app.references.invalidate(uow.tenant_id)
        return workflow

    def list_workflows(self, ctx: Context) -> list[Workflow]:
        with self.app.uow(ctx.tenant_id) as uow:
            workflows = uow.workflows.list()
        if not any(w.key == DEFAULT_WORKFLOW_KEY for w in workflows):
            workflows.insert(0, default_workflow())
        return workflows


def _check_workflow(workflow: Workflow) -> None:
    _check_key("workflow", workflow.key)
    keys = {state.key for state in workflow.states}
    if workflow.initial_state not in keys:
        raise ValidationFailed(
            N_("Workflow {workflow}: initial state {value!r} is not one of its states."),
            workflow=workflow.key,
            value=workflow.initial_state,
        )
    for transition in workflow.transitions:
        for end in (transition.source, transition.target):
            if end != "*" and end not in keys:
                raise ValidationFailed(
                    N_("Workflow {workflow}: transition {transition} names unknown state {value!r}."),
                    workflow=workflow.key,
                    transition=transition.key,
                    value=end,
                )
