"""The built-in default workflow, used by queues that name no other.

State and transition names are English msgids; the UI and the command line
translate them when they show them.
"""

from __future__ import annotations

from wenti.domain import Role, State, StateCategory, Transition, Workflow
from wenti.i18n import N_

DEFAULT_WORKFLOW_KEY = "default"

_AGENTS = (Role.AGENT, Role.QUEUE_MANAGER, Role.ADMIN)
_AGENTS_AND_REPORTER = (Role.REPORTER, *_AGENTS)


def default_workflow() -> Workflow:
    """New → in progress ⇄ waiting on reporter → resolved → closed, with reopen."""
    states = (
        State("new", N_("New"), StateCategory.OPEN),
        State("in_progress", N_("In progress"), StateCategory.OPEN),
        State("waiting", N_("Waiting on reporter"), StateCategory.WAITING),
        State("resolved", N_("Resolved"), StateCategory.RESOLVED),
        State("closed", N_("Closed"), StateCategory.CLOSED),
    )
    transitions = (
        Transition("start", N_("Start work"), "new", "in_progress", _AGENTS),
        Transition("wait", N_("Wait on reporter"), "new", "waiting", _AGENTS),
        Transition("wait", N_("Wait on reporter"), "in_progress", "waiting", _AGENTS),
        Transition("resume", N_("Resume"), "waiting", "in_progress", _AGENTS_AND_REPORTER),
        Transition("resolve", N_("Resolve"), "new", "resolved", _AGENTS, ("resolution",)),
        Transition("resolve", N_("Resolve"), "in_progress", "resolved", _AGENTS, ("resolution",)),
        Transition("resolve", N_("Resolve"), "waiting", "resolved", _AGENTS, ("resolution",)),
        Transition("close", N_("Close"), "resolved", "closed", _AGENTS_AND_REPORTER),
        Transition("reopen", N_("Reopen"), "resolved", "in_progress", _AGENTS_AND_REPORTER),
        Transition("reopen", N_("Reopen"), "closed", "in_progress", (Role.QUEUE_MANAGER, Role.ADMIN)),
    )
    return Workflow(
        key=DEFAULT_WORKFLOW_KEY,
        name=N_("Default workflow"),
        states=states,
        transitions=transitions,
        initial_state="new",
    )
