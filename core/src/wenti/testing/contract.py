"""The store contract: the tests every storage backend must pass.

A backend proves itself by running this suite against a real database. Subclass
`StoreContract` in a test module whose name pytest collects, and implement
`make_store`::

    from wenti.testing.contract import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self, tmp_path):
            return my_backend.open(f"mydb:///{tmp_path}/test.db", None)

`make_store` returns an open, empty-or-reused `wenti.store.Store`; the suite calls
`upgrade()` before each test and `close()` after it. Every test works in tenants
with fresh random ids, so a database shared by a whole test session is fine.

What the suite holds a backend to, beyond the signatures in `wenti.store`:

* Every repository reads and writes only the unit of work's tenant. An object
  whose `tenant_id` is another tenant's is rejected with `ValueError`, and ids of
  another tenant's rows behave as if they did not exist.
* `issues.update` is a compare-and-swap on `version`; a stale version, or an issue
  the tenant does not have, raises `ConcurrencyConflict` and changes nothing.
* Updating a user, team, queue or outbox message that does not exist raises
  `LookupError`; inserting a duplicate key (a username, a queue key, an issue's
  `(source, external_id)`) raises `ValueError`, after which the unit of work is
  rolled back.
* Leaving a unit of work without `commit()`, or with an exception, writes nothing.
* Issue lists are keyset-paginated: pages never repeat or skip an issue that
  existed when the first page was read, even while other transactions insert.
  A cursor made for one sort is rejected with `ValueError` under another.
* `priority` sorts by rank (critical first); `id` is the final tie-breaker.
* `outbox.add_many` ignores a repeated `(event_id, plugin)`; `claim` is a lease
  that exactly one of several concurrent dispatchers gets, and it counts the
  attempt (`attempts` goes up by one).
* Text round-trips byte for byte (Chinese, rare CJK extension characters, emoji),
  datetimes come back as aware UTC with microseconds, and a naive datetime is
  rejected with `ValueError`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest

from wenti.domain import (
    Attachment,
    AuditEntry,
    Change,
    Comment,
    CommentVisibility,
    CustomFieldDef,
    DeliveryStatus,
    Event,
    Issue,
    Link,
    LinkType,
    OutboxMessage,
    Priority,
    Queue,
    Role,
    State,
    StateCategory,
    Team,
    Tenant,
    Transition,
    User,
    Workflow,
)
from wenti.store import ConcurrencyConflict, IssueQuery, Store

T0 = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=timezone.utc)

# Simplified and traditional Chinese, full-width punctuation, a CJK Extension B
# character (four bytes in UTF-8), an emoji, and characters SQL LIKE treats specially.
CHINESE_TEXT = "打印机卡纸，无法打印。「財務系統」登錄失敗！𠀀 😀 50%_完成\\"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def make_issue(tenant_id: str, **fields: Any) -> Issue:
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "queue": "it",
        "title": "Printer jammed",
        "reporter": "alice",
        "status": "new",
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(fields)
    return Issue(**values)


def make_event(tenant_id: str, issue_id: int, **fields: Any) -> Event:
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "issue_id": issue_id,
        "type": "issue.updated",
        "actor": "alice",
        "at": T0,
        "id": uuid.uuid4().hex,
    }
    values.update(fields)
    return Event(**values)


def make_message(tenant_id: str, event_id: str, plugin: str = "notify", **fields: Any) -> OutboxMessage:
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "event_id": event_id,
        "hook": "issue_event",
        "plugin": plugin,
        "payload": {"event_id": event_id, "title": "打印机"},
        "created_at": T0,
        "next_attempt_at": T0,
    }
    values.update(fields)
    return OutboxMessage(**values)


class StoreContract:
    """Tests of the `wenti.store` protocol; subclass and implement `make_store`."""

    def make_store(self, tmp_path: Path) -> Store:
        raise NotImplementedError("a subclass of StoreContract must implement make_store(tmp_path) and return a Store")

    # -- fixtures ------------------------------------------------------------

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        store = self.make_store(tmp_path)
        store.upgrade()
        try:
            yield store
        finally:
            store.close()

    def _create_tenant(self, store: Store) -> str:
        tenant_id = new_id("t")
        with store.unit_of_work(tenant_id) as uow:
            uow.tenants.add(Tenant(id=tenant_id, name=f"租户 {tenant_id}", created_at=T0))
            uow.commit()
        return tenant_id

    @pytest.fixture
    def tenant(self, store: Store) -> str:
        return self._create_tenant(store)

    @pytest.fixture
    def other_tenant(self, store: Store) -> str:
        return self._create_tenant(store)

    def _add_issues(self, store: Store, tenant: str, issues: list[Issue]) -> list[Issue]:
        with store.unit_of_work(tenant) as uow:
            stored = uow.issues.add_many(issues)
            uow.commit()
        return stored

    # -- tenants ---------------------------------------------------------------

    def test_tenant_add_get_list(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow:
            found = uow.tenants.get(tenant)
            listed = [t.id for t in uow.tenants.list()]

        assert found is not None
        assert found.id == tenant
        assert found.name == f"租户 {tenant}"
        assert found.locale == "zh_CN"
        assert found.timezone == "Asia/Shanghai"
        assert found.created_at == T0
        assert tenant in listed

    def test_tenant_get_of_other_tenant_is_none(self, store: Store, tenant: str, other_tenant: str) -> None:
        with store.unit_of_work(other_tenant) as uow:
            assert uow.tenants.get(tenant) is None

    def test_tenant_add_of_other_tenant_rejected(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow, pytest.raises(ValueError):
            uow.tenants.add(Tenant(id=new_id("t"), name="x"))

    def test_readonly_unit_of_work_reads_committed_rows(self, store: Store, tenant: str) -> None:
        stored = self._add_issues(store, tenant, [Issue(tenant_id=tenant, queue="it", title="只读", reporter="li", status="new", created_at=T0)])

        with store.unit_of_work(tenant, readonly=True) as uow:
            found = uow.issues.get(stored[0].id)
            total = uow.issues.count(IssueQuery())

        assert found is not None
        assert found.title == "只读"
        assert total == 1

    # -- users, teams, queues, workflows ---------------------------------------

    def test_user_round_trip_and_update(self, store: Store, tenant: str) -> None:
        user = User(tenant_id=tenant, username="zhang.san", display_name="张三", role=Role.AGENT, email="z@example.com", created_at=T0)
        with store.unit_of_work(tenant) as uow:
            added = uow.users.add(user)
            uow.commit()
        assert added.id is not None

        with store.unit_of_work(tenant) as uow:
            found = uow.users.get("zhang.san")
            assert found == added
            found.role = Role.ADMIN
            found.active = False
            uow.users.update(found)
            uow.commit()

        with store.unit_of_work(tenant) as uow:
            again = uow.users.get("zhang.san")
            listed = uow.users.list()
        assert again is not None
        assert again.role is Role.ADMIN
        assert again.active is False
        assert [u.username for u in listed] == ["zhang.san"]

    def test_user_missing_and_duplicate(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow:
            assert uow.users.get("nobody") is None
            with pytest.raises(LookupError):
                uow.users.update(User(tenant_id=tenant, username="nobody", display_name="x"))
            uow.users.add(User(tenant_id=tenant, username="li", display_name="李四"))
            uow.commit()

        with store.unit_of_work(tenant) as uow, pytest.raises(ValueError):
            uow.users.add(User(tenant_id=tenant, username="li", display_name="另一个李四"))

    def test_team_round_trip_and_update(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow:
            team = uow.teams.add(Team(tenant_id=tenant, key="ops", name="运维组", members=["a", "b"]))
            uow.commit()
        assert team.id is not None

        with store.unit_of_work(tenant) as uow:
            found = uow.teams.get("ops")
            assert found == team
            found.members.append("c")
            uow.teams.update(found)
            with pytest.raises(LookupError):
                uow.teams.update(Team(tenant_id=tenant, key="none", name="x"))
            uow.commit()

        with store.unit_of_work(tenant) as uow:
            assert uow.teams.get("ops").members == ["a", "b", "c"]
            assert [t.key for t in uow.teams.list()] == ["ops"]
            assert uow.teams.get("none") is None

    def test_queue_custom_fields_round_trip(self, store: Store, tenant: str) -> None:
        fields = [
            CustomFieldDef(key="device", label="设备", kind="choice", choices=("打印机", "电脑"), required=True),
            CustomFieldDef(key="cost", label="金额", kind="number"),
        ]
        queue = Queue(tenant_id=tenant, key="it", name="IT 支持", team_key="ops", manager="wang", categories=["硬件", "网络"], custom_fields=fields)
        with store.unit_of_work(tenant) as uow:
            uow.queues.add(queue)
            uow.commit()

        with store.unit_of_work(tenant) as uow:
            found = uow.queues.get("it")
            assert found == queue
            found.name = "信息技术"
            uow.queues.update(found)
            with pytest.raises(LookupError):
                uow.queues.update(Queue(tenant_id=tenant, key="none", name="x"))
            uow.commit()

        with store.unit_of_work(tenant) as uow:
            assert uow.queues.get("it").name == "信息技术"
            assert uow.queues.get("it").custom_fields == fields
            assert [q.key for q in uow.queues.list()] == ["it"]

    def test_queue_duplicate_key_rejected(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow:
            uow.queues.add(Queue(tenant_id=tenant, key="hr", name="人事"))
            uow.commit()
        with store.unit_of_work(tenant) as uow, pytest.raises(ValueError):
            uow.queues.add(Queue(tenant_id=tenant, key="hr", name="人事 2"))

    def test_workflow_put_replaces(self, store: Store, tenant: str) -> None:
        workflow = Workflow(
            key="simple",
            name="简单流程",
            states=(State("new", "新建"), State("done", "完成", StateCategory.CLOSED)),
            transitions=(Transition("finish", "完成", "new", "done", (Role.AGENT, Role.ADMIN), ("resolution",)),),
            initial_state="new",
        )
        with store.unit_of_work(tenant) as uow:
            uow.workflows.put(workflow)
            uow.commit()
        with store.unit_of_work(tenant) as uow:
            assert uow.workflows.get("simple") == workflow
            replaced = attrs.evolve(workflow, name="新流程", states=(*workflow.states, State("wait", "等待", StateCategory.WAITING)))
            uow.workflows.put(replaced)
            uow.commit()
        with store.unit_of_work(tenant) as uow:
            assert uow.workflows.get("simple") == replaced
            assert uow.workflows.list() == [replaced]
            assert uow.workflows.get("missing") is None

    # -- issues: writes ----------------------------------------------------------

    def test_issue_add_and_get(self, store: Store, tenant: str) -> None:
        issue = make_issue(
            tenant,
            description="第二行\n第三行",
            priority=Priority.HIGH,
            category="硬件",
            tags=["打印机", "urgent"],
            custom_fields={"device": "HP 1020", "cost": 12.5, "nested": {"楼层": 3}},
            assignee="bob",
            source="email",
            external_id="<m1@example.com>",
            first_responded_at=T0 + timedelta(minutes=5),
            resolved_at=T0 + timedelta(hours=2),
            closed_at=T0 + timedelta(days=1),
            version=1,
        )
        with store.unit_of_work(tenant) as uow:
            added = uow.issues.add(issue)
            uow.commit()
        assert added.id is not None

        with store.unit_of_work(tenant) as uow:
            found = uow.issues.get(added.id)
            assert uow.issues.get(added.id + 10_000_000) is None
        assert found == added

    def test_issue_add_many_keeps_order(self, store: Store, tenant: str) -> None:
        issues = [make_issue(tenant, title=f"问题 {n}", external_id=f"x-{n}", source="import") for n in range(25)]
        stored = self._add_issues(store, tenant, issues)

        ids = [issue.id for issue in stored]
        assert len(set(ids)) == 25
        assert None not in ids
        with store.unit_of_work(tenant) as uow:
            for issue in stored:
                assert uow.issues.get(issue.id).title == issue.title

    def test_issue_update_compare_and_swap(self, store: Store, tenant: str) -> None:
        [issue] = self._add_issues(store, tenant, [make_issue(tenant, tags=["a"])])

        with store.unit_of_work(tenant) as uow:
            current = uow.issues.get(issue.id)
            current.status = "in_progress"
            current.assignee = "bob"
            current.tags = ["b", "c"]
            current.version = 1
            uow.issues.update(current, expected_version=0)
            uow.commit()

        with store.unit_of_work(tenant) as uow:
            stale = uow.issues.get(issue.id)
            stale.title = "stale write"
            stale.version = 1
            with pytest.raises(ConcurrencyConflict):
                uow.issues.update(stale, expected_version=0)

        with store.unit_of_work(tenant) as uow:
            stored = uow.issues.get(issue.id)
            tagged_b = uow.issues.count(IssueQuery(tag="b"))
            tagged_a = uow.issues.count(IssueQuery(tag="a"))
        assert stored.version == 1
        assert stored.status == "in_progress"
        assert stored.assignee == "bob"
        assert stored.title == "Printer jammed"
        assert tagged_b == 1
        assert tagged_a == 0

    def test_issue_update_of_missing_issue_conflicts(self, store: Store, tenant: str) -> None:
        ghost = make_issue(tenant, id=987_654_321, version=1)
        with store.unit_of_work(tenant) as uow, pytest.raises(ConcurrencyConflict):
            uow.issues.update(ghost, expected_version=0)

    def test_issue_external_id_unique_per_source_and_tenant(self, store: Store, tenant: str, other_tenant: str) -> None:
        self._add_issues(store, tenant, [make_issue(tenant, source="email", external_id="m-1")])

        with store.unit_of_work(tenant) as uow, pytest.raises(ValueError):
            uow.issues.add(make_issue(tenant, source="email", external_id="m-1", title="again"))

        self._add_issues(store, tenant, [make_issue(tenant, source="kingdee", external_id="m-1")])
        self._add_issues(store, other_tenant, [make_issue(other_tenant, source="email", external_id="m-1")])
        # Issues without an external id never collide.
        self._add_issues(store, tenant, [make_issue(tenant, source="email"), make_issue(tenant, source="email")])

        with store.unit_of_work(tenant) as uow:
            assert uow.issues.count(IssueQuery(source="email")) == 3
            assert uow.issues.find_by_external_id("email", "m-1").title == "Printer jammed"
            assert uow.issues.find_by_external_id("email", "m-2") is None

    def test_issue_add_many_with_duplicate_writes_nothing(self, store: Store, tenant: str) -> None:
        self._add_issues(store, tenant, [make_issue(tenant, source="csv", external_id="r-1")])
        batch = [make_issue(tenant, source="csv", external_id=f"r-{n}") for n in (2, 3, 1)]

        with store.unit_of_work(tenant) as uow, pytest.raises(ValueError):
            uow.issues.add_many(batch)

        with store.unit_of_work(tenant) as uow:
            assert uow.issues.count(IssueQuery(source="csv")) == 1

    def test_find_external_ids_in_batches(self, store: Store, tenant: str) -> None:
        stored = self._add_issues(store, tenant, [make_issue(tenant, source="jira", external_id=f"HADOOP-{n}") for n in (7, 700, 1500)])
        wanted = [f"HADOOP-{n}" for n in range(2000)]

        with store.unit_of_work(tenant) as uow:
            found = uow.issues.find_external_ids("jira", iter(wanted))
            other_source = uow.issues.find_external_ids("email", wanted)

        assert found == {issue.external_id: issue.id for issue in stored}
        assert other_source == {}

    def test_naive_datetime_rejected(self, store: Store, tenant: str) -> None:
        naive = make_issue(tenant, created_at=datetime(2026, 1, 1, 9, 0))
        with store.unit_of_work(tenant) as uow, pytest.raises(ValueError):
            uow.issues.add(naive)

    def test_datetimes_round_trip_as_utc(self, store: Store, tenant: str) -> None:
        shanghai = timezone(timedelta(hours=8))
        local = datetime(2026, 10, 1, 0, 0, 0, 654321, tzinfo=shanghai)
        [issue] = self._add_issues(store, tenant, [make_issue(tenant, created_at=local, updated_at=local, resolved_at=local)])

        with store.unit_of_work(tenant) as uow:
            found = uow.issues.get(issue.id)
        for value in (found.created_at, found.updated_at, found.resolved_at):
            assert value == local
            assert value.utcoffset() == timedelta(0)
            assert value.microsecond == 654321
            assert value.hour == 16
            assert value.day == 30

    def test_chinese_text_round_trips_byte_identical(self, store: Store, tenant: str) -> None:
        [issue] = self._add_issues(
            store,
            tenant,
            [make_issue(tenant, title=CHINESE_TEXT, description=CHINESE_TEXT * 3, category="网络故障", tags=[CHINESE_TEXT], custom_fields={"备注": CHINESE_TEXT})],
        )
        with store.unit_of_work(tenant) as uow:
            comment = uow.comments.add(Comment(tenant_id=tenant, issue_id=issue.id, author="张三", body=CHINESE_TEXT, created_at=T0))
            uow.events.add(make_event(tenant, issue.id, data={"说明": CHINESE_TEXT}, changes=(Change("title", "旧", CHINESE_TEXT),)))
            uow.commit()

        with store.unit_of_work(tenant) as uow:
            found = uow.issues.get(issue.id)
            [found_comment] = uow.comments.list(issue.id)
            [event] = uow.events.list(issue.id)

        expected = CHINESE_TEXT.encode("utf-8")
        assert found.title.encode("utf-8") == expected
        assert found.description.encode("utf-8") == expected * 3
        assert found.tags[0].encode("utf-8") == expected
        assert found.custom_fields["备注"].encode("utf-8") == expected
        assert found.category == "网络故障"
        assert found_comment.body.encode("utf-8") == expected
        assert found_comment.id == comment.id
        assert event.data["说明"].encode("utf-8") == expected
        assert event.changes[0].after.encode("utf-8") == expected

    # -- issues: queries ---------------------------------------------------------

    def _query_fixture(self, store: Store, tenant: str) -> dict[str, int]:
        issues = {
            "printer": make_issue(tenant, title="打印机卡纸", queue="it", status="new", priority=Priority.HIGH, category="硬件",
                                  assignee="bob", tags=["打印机"], source="web", created_at=T0),
            "vpn": make_issue(tenant, title="VPN cannot connect", description="100% packet loss", queue="it", status="in_progress",
                              priority=Priority.CRITICAL, category="网络", assignee="carol", reporter="dave", source="email",
                              created_at=T0 + timedelta(days=1)),
            "invoice": make_issue(tenant, title="发票金额错误", description="file name a_b.pdf", queue="finance", status="new",
                                  priority=Priority.LOW, category="财务", tags=["发票", "打印机"], source="kingdee",
                                  created_at=T0 + timedelta(days=2)),
            "laptop": make_issue(tenant, title="Laptop screen flickers", queue="it", status="resolved", priority=Priority.NORMAL,
                                 category="硬件", assignee="bob", source="web", created_at=T0 + timedelta(days=3),
                                 resolved_at=T0 + timedelta(days=4)),
        }
        stored = self._add_issues(store, tenant, list(issues.values()))
        return {name: issue.id for name, issue in zip(issues, stored)}

    def _ids(self, store: Store, tenant: str, **query: Any) -> set[int]:
        with store.unit_of_work(tenant) as uow:
            return {issue.id for issue in uow.issues.list(IssueQuery(**query)).items}

    def test_issue_list_filters(self, store: Store, tenant: str) -> None:
        ids = self._query_fixture(store, tenant)
        cases: list[tuple[dict[str, Any], set[str]]] = [
            ({}, {"printer", "vpn", "invoice", "laptop"}),
            ({"queue": ("finance",)}, {"invoice"}),
            ({"status": ("new", "resolved")}, {"printer", "invoice", "laptop"}),
            ({"assignee": ("bob",)}, {"printer", "laptop"}),
            ({"unassigned": True}, {"invoice"}),
            ({"assignee": ("carol",), "unassigned": True}, {"vpn", "invoice"}),
            ({"reporter": "dave"}, {"vpn"}),
            ({"priority": ("critical", "low")}, {"vpn", "invoice"}),
            ({"priority": (Priority.HIGH,)}, {"printer"}),
            ({"category": ("硬件",)}, {"printer", "laptop"}),
            ({"tag": "打印机"}, {"printer", "invoice"}),
            ({"tag": "无"}, set()),
            ({"source": "email"}, {"vpn"}),
            ({"text": "打印"}, {"printer"}),
            ({"text": "vpn"}, {"vpn"}),
            ({"text": "100%"}, {"vpn"}),
            ({"text": "%"}, {"vpn"}),
            ({"text": "a_b"}, {"invoice"}),
            ({"text": "_"}, {"invoice"}),
            ({"created_from": T0 + timedelta(days=1)}, {"vpn", "invoice", "laptop"}),
            ({"created_to": T0 + timedelta(days=1)}, {"printer"}),
            ({"created_from": T0 + timedelta(days=1), "created_to": T0 + timedelta(days=3)}, {"vpn", "invoice"}),
            ({"ids": (ids["vpn"], ids["laptop"])}, {"vpn", "laptop"}),
            ({"ids": ()}, set()),
            ({"queue": ("it",), "status": ("new",), "assignee": ("bob",)}, {"printer"}),
        ]
        for query, expected in cases:
            assert self._ids(store, tenant, **query) == {ids[name] for name in expected}, query

    def test_issue_list_sorts_priority_by_rank(self, store: Store, tenant: str) -> None:
        ids = self._query_fixture(store, tenant)
        with store.unit_of_work(tenant) as uow:
            urgent_first = [i.id for i in uow.issues.list(IssueQuery(sort=("priority",))).items]
            least_first = [i.id for i in uow.issues.list(IssueQuery(sort=("-priority",))).items]
            newest_first = [i.id for i in uow.issues.list(IssueQuery()).items]
            by_title = [i.title for i in uow.issues.list(IssueQuery(sort=("title",), queue=("it",))).items]

        assert urgent_first == [ids["vpn"], ids["printer"], ids["laptop"], ids["invoice"]]
        assert least_first == list(reversed(urgent_first))
        assert newest_first == [ids["laptop"], ids["invoice"], ids["vpn"], ids["printer"]]
        assert by_title == sorted(by_title)

    def test_issue_list_rejects_unknown_sort(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow, pytest.raises(ValueError):
            uow.issues.list(IssueQuery(sort=("password",)))

    def test_issue_pages_cover_all_without_duplicates(self, store: Store, tenant: str) -> None:
        # Equal priorities and timestamps force the id tie-breaker to do its work.
        issues = [
            make_issue(tenant, title=f"#{n}", priority=list(Priority)[n % 4], created_at=T0 + timedelta(hours=n // 3))
            for n in range(23)
        ]
        stored = self._add_issues(store, tenant, issues)
        for sort in (("priority", "-created_at"), ("-created_at",), ("title",), ("-resolved_at",), ("-id",)):
            seen: list[int] = []
            after = None
            pages = 0
            # Bounded, so a cursor that never ends fails instead of hanging.
            for _attempt in range(10):
                with store.unit_of_work(tenant) as uow:
                    page = uow.issues.list(IssueQuery(sort=sort, limit=5, after=after))
                seen.extend(issue.id for issue in page.items)
                pages += 1
                after = page.next_cursor
                if after is None:
                    break
            assert after is None, sort
            assert sorted(seen) == sorted(issue.id for issue in stored), sort
            assert len(seen) == len(set(seen)), sort
            assert pages == 5, sort

    def test_issue_pages_stable_under_concurrent_inserts(self, store: Store, tenant: str) -> None:
        original = self._add_issues(store, tenant, [make_issue(tenant, title=f"#{n}", created_at=T0 + timedelta(minutes=n)) for n in range(20)])
        seen: list[int] = []
        after = None
        round_number = 0
        for _attempt in range(30):
            with store.unit_of_work(tenant) as uow:
                page = uow.issues.list(IssueQuery(sort=("-created_at",), limit=4, after=after))
            seen.extend(issue.id for issue in page.items)
            after = page.next_cursor
            if after is None:
                break
            # Another transaction inserts issues that sort before, among and after
            # the ones already read.
            round_number += 1
            self._add_issues(
                store,
                tenant,
                [
                    make_issue(tenant, title=f"new-{round_number}-a", created_at=T0 + timedelta(days=1, minutes=round_number)),
                    make_issue(tenant, title=f"new-{round_number}-b", created_at=T0 + timedelta(minutes=10, seconds=round_number)),
                    make_issue(tenant, title=f"new-{round_number}-c", created_at=T0 - timedelta(days=1, minutes=round_number)),
                ],
            )
        assert after is None, "pagination did not end"

        assert len(seen) == len(set(seen))
        assert {issue.id for issue in original} <= set(seen)
        created = [issue.created_at for issue in self._issues_by_id(store, tenant, seen)]
        assert created == sorted(created, reverse=True)

    def _issues_by_id(self, store: Store, tenant: str, ids: list[int]) -> list[Issue]:
        with store.unit_of_work(tenant) as uow:
            return [uow.issues.get(issue_id) for issue_id in ids]

    def test_cursor_of_other_sort_rejected(self, store: Store, tenant: str) -> None:
        self._add_issues(store, tenant, [make_issue(tenant, title=f"#{n}") for n in range(3)])
        with store.unit_of_work(tenant) as uow:
            page = uow.issues.list(IssueQuery(sort=("title",), limit=1))
            assert page.next_cursor is not None
            with pytest.raises(ValueError):
                uow.issues.list(IssueQuery(sort=("-created_at",), limit=1, after=page.next_cursor))
            with pytest.raises(ValueError):
                uow.issues.list(IssueQuery(sort=("title",), limit=1, after="not-a-cursor"))

    def test_issue_count_and_count_by(self, store: Store, tenant: str) -> None:
        self._query_fixture(store, tenant)
        with store.unit_of_work(tenant) as uow:
            total = uow.issues.count(IssueQuery())
            it_total = uow.issues.count(IssueQuery(queue=("it",)))
            by_category_status = uow.issues.count_by(["category", "status"], IssueQuery())
            by_assignee_in_it = uow.issues.count_by(["assignee"], IssueQuery(queue=("it",)))
            by_priority = uow.issues.count_by(["priority"], IssueQuery())

        assert total == 4
        assert it_total == 3
        assert by_category_status == {("硬件", "new"): 1, ("硬件", "resolved"): 1, ("网络", "in_progress"): 1, ("财务", "new"): 1}
        assert by_assignee_in_it == {("bob",): 2, ("carol",): 1}
        assert by_priority == {("high",): 1, ("critical",): 1, ("low",): 1, ("normal",): 1}

    def test_issue_iter_all_in_sort_order(self, store: Store, tenant: str) -> None:
        stored = self._add_issues(store, tenant, [make_issue(tenant, title=f"{n:03d}") for n in range(17)])
        with store.unit_of_work(tenant) as uow:
            titles = [issue.title for issue in uow.issues.iter_all(IssueQuery(sort=("title",)), batch_size=4)]
        assert titles == sorted(issue.title for issue in stored)

    # -- comments, attachments, links ----------------------------------------------

    def test_comments_add_list_and_find(self, store: Store, tenant: str) -> None:
        [issue] = self._add_issues(store, tenant, [make_issue(tenant)])
        with store.unit_of_work(tenant) as uow:
            public = uow.comments.add(Comment(tenant_id=tenant, issue_id=issue.id, author="bob", body="已处理", created_at=T0))
            internal = uow.comments.add(
                Comment(tenant_id=tenant, issue_id=issue.id, author="bob", body="内部备注", visibility=CommentVisibility.INTERNAL,
                        created_at=T0 + timedelta(seconds=1), source="email", external_id="<r1@example.com>")
            )
            uow.commit()

        with store.unit_of_work(tenant) as uow:
            everything = uow.comments.list(issue.id)
            public_only = uow.comments.list(issue.id, include_internal=False)
            found = uow.comments.find_by_external_id("email", "<r1@example.com>")
            missing = uow.comments.find_by_external_id("email", "<r2@example.com>")

        assert public.id is not None
        assert everything == [public, internal]
        assert public_only == [public]
        assert found == internal
        assert missing is None

    def test_comment_on_missing_issue_rejected(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow, pytest.raises(LookupError):
            uow.comments.add(Comment(tenant_id=tenant, issue_id=987_654_321, author="bob", body="x", created_at=T0))

    def test_attachments_add_get_list(self, store: Store, tenant: str) -> None:
        [issue] = self._add_issues(store, tenant, [make_issue(tenant)])
        with store.unit_of_work(tenant) as uow:
            attachment = uow.attachments.add(
                Attachment(tenant_id=tenant, issue_id=issue.id, blob_id="sha256:abc", filename="截图 1.png",
                           content_type="image/png", size=5_000_000_000, uploaded_by="alice", created_at=T0)
            )
            uow.commit()
        with store.unit_of_work(tenant) as uow:
            assert attachment.id is not None
            assert uow.attachments.get(attachment.id) == attachment
            assert uow.attachments.list(issue.id) == [attachment]
            assert uow.attachments.get(attachment.id + 10_000_000) is None

    def test_links_listed_from_both_ends(self, store: Store, tenant: str) -> None:
        first, second, third = self._add_issues(store, tenant, [make_issue(tenant) for _ in range(3)])
        with store.unit_of_work(tenant) as uow:
            duplicate = uow.links.add(Link(tenant_id=tenant, source_id=second.id, target_id=first.id, type=LinkType.DUPLICATE_OF, created_by="bob", created_at=T0))
            related = uow.links.add(Link(tenant_id=tenant, source_id=first.id, target_id=third.id, type=LinkType.RELATED, created_by="bob", created_at=T0))
            uow.commit()
        with store.unit_of_work(tenant) as uow:
            assert uow.links.list(first.id) == [duplicate, related]
            assert uow.links.list(second.id) == [duplicate]
            assert uow.links.list(third.id) == [related]

    # -- events and audit --------------------------------------------------------

    def test_events_keep_order_and_changes(self, store: Store, tenant: str) -> None:
        [issue] = self._add_issues(store, tenant, [make_issue(tenant)])
        created = make_event(tenant, issue.id, type="issue.created", data={"queue": "it"})
        updates = [
            make_event(tenant, issue.id, changes=(Change("status", "new", "in_progress"), Change("assignee", None, "bob")), data={"n": n})
            for n in range(3)
        ]
        with store.unit_of_work(tenant) as uow:
            uow.events.add(created)
            uow.events.add_many(updates)
            uow.commit()

        with store.unit_of_work(tenant) as uow:
            history = uow.events.list(issue.id)
            found = uow.events.get(updates[1].id)
            missing = uow.events.get(uuid.uuid4().hex)

        assert history == [created, *updates]
        assert found == updates[1]
        assert missing is None

    def test_audit_list_filters_newest_first(self, store: Store, tenant: str) -> None:
        entries = [
            AuditEntry(tenant_id=tenant, actor="admin", action="user.create", object_type="user", object_id="zhang", at=T0, detail={"角色": "agent"}),
            AuditEntry(tenant_id=tenant, actor="admin", action="queue.update", object_type="queue", object_id="it", at=T0),
            AuditEntry(tenant_id=tenant, actor="bob", action="issue.update", object_type="issue", object_id="42", at=T0),
        ]
        with store.unit_of_work(tenant) as uow:
            uow.audit.add(entries[0])
            uow.audit.add_many(entries[1:])
            uow.commit()

        with store.unit_of_work(tenant) as uow:
            newest_first = uow.audit.list()
            users = uow.audit.list(object_type="user")
            issue_42 = uow.audit.list(object_type="issue", object_id="42")
            limited = uow.audit.list(limit=2)

        assert [e.action for e in newest_first] == ["issue.update", "queue.update", "user.create"]
        assert all(e.id is not None for e in newest_first)
        assert [e.detail for e in users] == [{"角色": "agent"}]
        assert [e.actor for e in issue_42] == ["bob"]
        assert len(limited) == 2

    # -- outbox --------------------------------------------------------------------

    def test_outbox_ignores_duplicates(self, store: Store, tenant: str) -> None:
        event_id = uuid.uuid4().hex
        with store.unit_of_work(tenant) as uow:
            uow.outbox.add_many([make_message(tenant, event_id, "mail"), make_message(tenant, event_id, "mail"), make_message(tenant, event_id, "wecom")])
            uow.commit()
        with store.unit_of_work(tenant) as uow:
            uow.outbox.add_many([make_message(tenant, event_id, "mail", payload={"second": True})])
            uow.commit()

        with store.unit_of_work(tenant) as uow:
            messages = uow.outbox.list()
        assert sorted(m.plugin for m in messages) == ["mail", "wecom"]
        assert all(m.payload == {"event_id": event_id, "title": "打印机"} for m in messages)

    def test_outbox_due_respects_next_attempt(self, store: Store, tenant: str) -> None:
        now = T0 + timedelta(minutes=10)
        with store.unit_of_work(tenant) as uow:
            uow.outbox.add_many(
                [
                    make_message(tenant, "e-later", created_at=T0, next_attempt_at=now + timedelta(minutes=1)),
                    make_message(tenant, "e-second", created_at=T0 + timedelta(seconds=2), next_attempt_at=now),
                    make_message(tenant, "e-first", created_at=T0 + timedelta(seconds=1), next_attempt_at=T0),
                ]
            )
            uow.commit()
        with store.unit_of_work(tenant) as uow:
            due = [m.event_id for m in uow.outbox.due(now)]
            limited = uow.outbox.due(now, limit=1)
        assert due == ["e-first", "e-second"]
        assert [m.event_id for m in limited] == ["e-first"]

    def test_outbox_claim_is_a_lease(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow:
            uow.outbox.add_many([make_message(tenant, "e-lease")])
            uow.commit()
            [message] = uow.outbox.list()

        now = T0 + timedelta(minutes=1)
        with store.unit_of_work(tenant) as uow:
            assert uow.outbox.claim(message.id, now, now + timedelta(seconds=30)) is True
            uow.commit()
        with store.unit_of_work(tenant) as uow:
            assert uow.outbox.claim(message.id, now + timedelta(seconds=10), now + timedelta(seconds=40)) is False
            assert uow.outbox.due(now + timedelta(seconds=10)) == []
            # The first dispatcher died: once its lease runs out, another may claim.
            assert uow.outbox.claim(message.id, now + timedelta(seconds=31), now + timedelta(seconds=61)) is True
            uow.commit()
        with store.unit_of_work(tenant) as uow:
            assert uow.outbox.get(message.id).attempts == 2

    def test_outbox_claim_race_has_one_winner(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow:
            uow.outbox.add_many([make_message(tenant, "e-race")])
            uow.commit()
            [message] = uow.outbox.list()

        now = T0 + timedelta(minutes=1)
        start = threading.Barrier(4)
        results: list[bool] = []
        errors: list[BaseException] = []

        def dispatcher() -> None:
            try:
                start.wait(timeout=10)
                with store.unit_of_work(tenant) as uow:
                    won = uow.outbox.claim(message.id, now, now + timedelta(minutes=5))
                    uow.commit()
                results.append(won)
            except BaseException as error:  # reported by the assert below
                errors.append(error)

        threads = [threading.Thread(target=dispatcher) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert errors == []
        assert sorted(results) == [False, False, False, True]

    def test_outbox_delivery_failure_and_retry(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow:
            uow.outbox.add_many([make_message(tenant, "e-ok"), make_message(tenant, "e-bad")])
            uow.commit()
            by_event = {m.event_id: m for m in uow.outbox.list()}

        now = T0 + timedelta(minutes=1)
        later = now + timedelta(minutes=5)
        with store.unit_of_work(tenant) as uow:
            uow.outbox.mark_delivered(by_event["e-ok"].id, now)
            uow.outbox.mark_failed(by_event["e-bad"].id, "HTTP 500 服务器错误", later, dead=False)
            uow.commit()
        with store.unit_of_work(tenant) as uow:
            delivered = uow.outbox.get(by_event["e-ok"].id)
            failed = uow.outbox.get(by_event["e-bad"].id)
            due_now = uow.outbox.due(now)
            due_later = uow.outbox.due(later)
            assert uow.outbox.retry(failed.id, now) is False
        assert delivered.status is DeliveryStatus.DELIVERED
        assert delivered.delivered_at == now
        assert failed.status is DeliveryStatus.PENDING
        assert failed.last_error == "HTTP 500 服务器错误"
        assert failed.next_attempt_at == later
        assert due_now == []
        assert [m.event_id for m in due_later] == ["e-bad"]

        with store.unit_of_work(tenant) as uow:
            uow.outbox.mark_failed(failed.id, "gave up", None, dead=True)
            uow.commit()
        with store.unit_of_work(tenant) as uow:
            assert [m.event_id for m in uow.outbox.list(status="dead")] == ["e-bad"]
            assert uow.outbox.due(later + timedelta(days=1)) == []
            assert uow.outbox.retry(failed.id, later) is True
            uow.commit()
        with store.unit_of_work(tenant) as uow:
            requeued = uow.outbox.get(failed.id)
            assert requeued.status is DeliveryStatus.PENDING
            assert [m.event_id for m in uow.outbox.due(later)] == ["e-bad"]
            with pytest.raises(LookupError):
                uow.outbox.mark_delivered(987_654_321, now)

    # -- transactions ------------------------------------------------------------

    def test_exception_rolls_back_everything(self, store: Store, tenant: str) -> None:
        with pytest.raises(RuntimeError, match="boom"):
            with store.unit_of_work(tenant) as uow:
                issue = uow.issues.add(make_issue(tenant, title="half-written"))
                uow.events.add(make_event(tenant, issue.id))
                uow.audit.add(AuditEntry(tenant_id=tenant, actor="a", action="issue.create", object_type="issue", object_id=str(issue.id), at=T0))
                uow.outbox.add_many([make_message(tenant, "e-rollback")])
                raise RuntimeError("boom")

        self._assert_empty(store, tenant)

    def test_leaving_without_commit_rolls_back(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow:
            uow.issues.add(make_issue(tenant))
            uow.users.add(User(tenant_id=tenant, username="ghost", display_name="幽灵"))
        with store.unit_of_work(tenant) as uow:
            uow.issues.add(make_issue(tenant))
            uow.rollback()
        self._assert_empty(store, tenant)
        with store.unit_of_work(tenant) as uow:
            assert uow.users.get("ghost") is None

    def _assert_empty(self, store: Store, tenant: str) -> None:
        with store.unit_of_work(tenant) as uow:
            assert uow.issues.count(IssueQuery()) == 0
            assert uow.audit.list() == []
            assert uow.outbox.list() == []

    # -- tenant isolation ------------------------------------------------------------

    def test_tenant_isolation_of_reads(self, store: Store, tenant: str, other_tenant: str) -> None:
        ids = self._query_fixture(store, tenant)
        issue_id = ids["printer"]
        event = make_event(tenant, issue_id)
        with store.unit_of_work(tenant) as uow:
            uow.users.add(User(tenant_id=tenant, username="bob", display_name="Bob"))
            uow.teams.add(Team(tenant_id=tenant, key="ops", name="运维"))
            uow.queues.add(Queue(tenant_id=tenant, key="it", name="IT"))
            uow.workflows.put(Workflow(key="wf", name="wf", states=(State("new", "新建"),), transitions=(), initial_state="new"))
            comment = uow.comments.add(Comment(tenant_id=tenant, issue_id=issue_id, author="bob", body="x", created_at=T0, source="email", external_id="c-1"))
            attachment = uow.attachments.add(Attachment(tenant_id=tenant, issue_id=issue_id, blob_id="b", filename="f", content_type="text/plain", size=1, uploaded_by="bob"))
            uow.links.add(Link(tenant_id=tenant, source_id=issue_id, target_id=ids["vpn"], type=LinkType.RELATED, created_by="bob"))
            uow.events.add(event)
            uow.audit.add(AuditEntry(tenant_id=tenant, actor="bob", action="a", object_type="issue", object_id=str(issue_id), at=T0))
            uow.outbox.add_many([make_message(tenant, event.id)])
            uow.commit()
            [message] = uow.outbox.list()

        with store.unit_of_work(other_tenant) as uow:
            assert uow.users.get("bob") is None
            assert uow.users.list() == []
            assert uow.teams.get("ops") is None
            assert uow.teams.list() == []
            assert uow.queues.get("it") is None
            assert uow.queues.list() == []
            assert uow.workflows.get("wf") is None
            assert uow.workflows.list() == []
            assert uow.issues.get(issue_id) is None
            assert uow.issues.list(IssueQuery()).items == []
            assert uow.issues.count(IssueQuery()) == 0
            assert uow.issues.count_by(["status"], IssueQuery()) == {}
            assert list(uow.issues.iter_all(IssueQuery())) == []
            assert uow.issues.find_external_ids("web", ["x"]) == {}
            assert uow.comments.list(issue_id) == []
            assert uow.comments.find_by_external_id("email", "c-1") is None
            assert uow.attachments.get(attachment.id) is None
            assert uow.attachments.list(issue_id) == []
            assert uow.links.list(issue_id) == []
            assert uow.events.list(issue_id) == []
            assert uow.events.get(event.id) is None
            assert uow.audit.list() == []
            assert uow.outbox.list() == []
            assert uow.outbox.get(message.id) is None
            assert uow.outbox.due(T0 + timedelta(days=1)) == []
        assert comment.id is not None

    def test_tenant_isolation_of_writes(self, store: Store, tenant: str, other_tenant: str) -> None:
        [issue] = self._add_issues(store, tenant, [make_issue(tenant, source="email", external_id="m-iso")])
        with store.unit_of_work(tenant) as uow:
            uow.users.add(User(tenant_id=tenant, username="bob", display_name="Bob"))
            uow.teams.add(Team(tenant_id=tenant, key="ops", name="运维"))
            uow.queues.add(Queue(tenant_id=tenant, key="it", name="IT"))
            uow.outbox.add_many([make_message(tenant, "e-iso")])
            uow.commit()
            [message] = uow.outbox.list()

        later = T0 + timedelta(minutes=1)
        with store.unit_of_work(other_tenant) as uow:
            # Objects that name the other tenant are rejected outright.
            with pytest.raises(ValueError):
                uow.issues.add(make_issue(tenant))
            with pytest.raises(ValueError):
                uow.users.add(User(tenant_id=tenant, username="eve", display_name="Eve"))
            with pytest.raises(ValueError):
                uow.issues.update(attrs.evolve(issue, title="hijacked", version=1), expected_version=0)
            with pytest.raises(ValueError):
                uow.events.add(make_event(tenant, issue.id))
            with pytest.raises(ValueError):
                uow.outbox.add_many([make_message(tenant, "e-evil")])
            # Rows of the other tenant addressed by id or key behave as missing.
            with pytest.raises(ConcurrencyConflict):
                uow.issues.update(attrs.evolve(issue, tenant_id=other_tenant, title="hijacked", version=1), expected_version=0)
            with pytest.raises(LookupError):
                uow.users.update(User(tenant_id=other_tenant, username="bob", display_name="hijacked"))
            with pytest.raises(LookupError):
                uow.teams.update(Team(tenant_id=other_tenant, key="ops", name="hijacked"))
            with pytest.raises(LookupError):
                uow.queues.update(Queue(tenant_id=other_tenant, key="it", name="hijacked"))
            assert uow.outbox.claim(message.id, later, later + timedelta(minutes=1)) is False
            assert uow.outbox.retry(message.id, later) is False
            with pytest.raises(LookupError):
                uow.outbox.mark_delivered(message.id, later)
            with pytest.raises(LookupError):
                uow.outbox.mark_failed(message.id, "x", None, dead=True)

        with store.unit_of_work(other_tenant) as uow:
            with pytest.raises(LookupError):
                uow.comments.add(Comment(tenant_id=other_tenant, issue_id=issue.id, author="eve", body="x", created_at=T0))
        with store.unit_of_work(other_tenant) as uow:
            with pytest.raises(LookupError):
                uow.links.add(Link(tenant_id=other_tenant, source_id=issue.id, target_id=issue.id, type=LinkType.RELATED, created_by="eve"))
        # The other tenant may use the same keys for its own rows.
        with store.unit_of_work(other_tenant) as uow:
            uow.users.add(User(tenant_id=other_tenant, username="bob", display_name="Other Bob"))
            uow.issues.add(make_issue(other_tenant, source="email", external_id="m-iso"))
            uow.commit()

        with store.unit_of_work(tenant) as uow:
            assert uow.issues.get(issue.id) == issue
            assert uow.users.get("bob").display_name == "Bob"
            assert uow.teams.get("ops").name == "运维"
            assert uow.queues.get("it").name == "IT"
            assert uow.outbox.get(message.id).attempts == 0
            assert uow.outbox.get(message.id).status is DeliveryStatus.PENDING
            assert uow.comments.list(issue.id) == []
            assert uow.issues.count(IssueQuery()) == 1
