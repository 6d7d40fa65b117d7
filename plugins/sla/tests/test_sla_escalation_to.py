"""The `to` of a notify escalation is checked when the policy is read."""

from __future__ import annotations

import pytest

from wenti_sla.policy import PolicyError, parse_policy

TARGETS = {"high": {"resolution": "8h"}}


def escalation_policy(to):
    return parse_policy({"key": "x", "targets": TARGETS, "escalations": [{"on": "breached", "action": "notify", "to": to}]}, 0)


@pytest.mark.parametrize("to", ["assignee", "reporter", "queue_manager", "user:wang", "role:admin", "role:queue_manager"])
def test_known_recipients_are_kept(to):
    assert escalation_policy(to).escalations[0].to == to


@pytest.mark.parametrize("to", ["manager", "user:", "role:boss", "team:ops", 3])
def test_unknown_recipient_names_the_forms(to):
    with pytest.raises(PolicyError, match=r"escalations\[0\]\.to = .* is invalid; use assignee, reporter, queue_manager"):
        escalation_policy(to)
