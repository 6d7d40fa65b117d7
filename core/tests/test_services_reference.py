"""The reference cache: admin changes show at once, other writers after the TTL."""

from __future__ import annotations

import pytest

from wenti.errors import ValidationFailed
from wenti.services.reference import ReferenceCache


def test_cache_returns_loaded_value_until_invalidated():
    cache = ReferenceCache(ttl_seconds=60)
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    first = cache.get("queue", "t1", "it", load)
    second = cache.get("queue", "t1", "it", load)
    cache.invalidate("t1")
    third = cache.get("queue", "t1", "it", load)

    assert (first, second, third) == (1, 1, 2)


def test_cache_expires_after_ttl():
    cache = ReferenceCache(ttl_seconds=0)
    values = iter(["old", "new"])

    assert cache.get("user", "t1", "li", lambda: next(values)) == "old"
    assert cache.get("user", "t1", "li", lambda: next(values)) == "new"


def test_invalidate_keeps_other_tenants():
    cache = ReferenceCache(ttl_seconds=60)
    cache.get("queue", "t1", "it", lambda: "t1-it")
    cache.get("queue", "t2", "it", lambda: "t2-it")

    cache.invalidate("t1")

    assert cache.get("queue", "t2", "it", lambda: "reloaded") == "t2-it"
    assert cache.get("queue", "t1", "it", lambda: "reloaded") == "reloaded"


def test_deactivated_assignee_rejected_at_once(wenti_app):
    admin = wenti_app.context("default", "admin")
    agent = wenti_app.context("default", "agent")
    wenti_app.admin.create_user(admin, "wang", "王工", "agent")
    first = wenti_app.issues.create(agent, title="缓存预热", assignee="wang")

    wenti_app.admin.update_user(admin, "wang", active=False)

    assert first.assignee == "wang"
    with pytest.raises(ValidationFailed):
        wenti_app.issues.create(agent, title="不应指派给停用的用户", assignee="wang")


def test_new_queue_usable_at_once(wenti_app):
    admin = wenti_app.context("default", "admin")
    with pytest.raises(ValidationFailed):
        wenti_app.issues.create(admin, title="x", queue="hr")

    wenti_app.admin.create_queue(admin, "hr", "人事")
    issue = wenti_app.issues.create(admin, title="入职手续", queue="hr")

    assert issue.queue == "hr"
