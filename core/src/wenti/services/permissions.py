"""Role checks shared by every command, so the API, the UI and the command line agree.

Rules:

* reporters create issues as themselves, see only issues they reported and only
  public comments, comment publicly on their own issues, and take the workflow
  transitions that name the reporter role on their own issues;
* agents work on every issue of their tenant;
* queue managers also manage queues, teams and workflows;
* admins also manage users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wenti.domain import Issue, Role, Transition
from wenti.errors import NotFound, PermissionDenied
from wenti.i18n import N_

if TYPE_CHECKING:
    from wenti.app import Context


def require_role(ctx: Context, role: Role, action: str) -> None:
    if not ctx.user.role.includes(role):
        raise PermissionDenied(
            N_("{user} ({role}) may not {action}; this needs the {needed} role."),
            user=ctx.username,
            role=ctx.user.role.value,
            action=action,
            needed=role.value,
        )


def is_agent(ctx: Context) -> bool:
    return ctx.user.role.includes(Role.AGENT)


def require_visible(ctx: Context, issue: Issue | None, issue_id: int) -> Issue:
    """Return the issue if the actor may see it.

    A reporter asking for someone else's issue gets the same `NotFound` as for a
    missing one, so ids of other people's issues leak nothing.
    """
    if issue is None or (not is_agent(ctx) and issue.reporter != ctx.username):
        raise NotFound(N_("Issue {issue_id} does not exist."), issue_id=issue_id)
    return issue


def may_take(ctx: Context, transition: Transition, issue: Issue) -> bool:
    role = ctx.user.role
    if role is Role.ADMIN:
        return True
    if role is Role.REPORTER and issue.reporter != ctx.username:
        return False
    if not transition.allowed_roles:
        return role.includes(Role.AGENT)
    return role in transition.allowed_roles
