"""The notify service: routes committed events into the delivery queue and runs the dispatcher.

One `NotifyService` exists per running `App` (see `service_for`). Its tables are
reached through the unit of work's SQL connection, so they live in the instance's
own database.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from wenti.clock import to_local
from wenti.domain import Event, Role
from wenti.errors import PermissionDenied
from wenti.i18n import N_

from wenti_notify import queue
from wenti_notify.config import NotifyConfig
from wenti_notify.dispatcher import Dispatcher, DispatcherThread, DispatchSettings
from wenti_notify.routing import AGENT, Person, Preference, RoutingInput, Target, event_kind, route
from wenti_notify.schema import preferences, watchers
from wenti_notify.templates import Facts, render

log = logging.getLogger(__name__)

_services: weakref.WeakKeyDictionary[Any, NotifyService] = weakref.WeakKeyDictionary()
_services_lock = threading.Lock()


def service_for(app: Any) -> NotifyService:
    """Return the notify service of `app`, making it on first use."""
    with _services_lock:
        service = _services.get(app)
        if service is None:
            service = NotifyService(app)
            _services[app] = service
        return service


class NotifyService:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.config: NotifyConfig = app.plugin_config("notify")
        self._thread: DispatcherThread | None = None

    # -- storage --------------------------------------------------------------

    @contextmanager
    def transaction(self, tenant_id: str) -> Iterator[Connection]:
        """Open one unit of work as a SQLAlchemy connection and commit when the block succeeds.

        An empty `tenant_id` (the dispatcher reading across tenants) opens the
        `default` tenant's unit of work; only this plugin's tables are read then.
        """
        with self.app.uow(tenant_id or "default") as uow:
            yield uow.sql_connection()
            uow.commit()

    # -- channels ---------------------------------------------------------------

    def channels(self) -> dict[str, Any]:
        """Enabled channel name -> `send` callable.

        A channel whose `send` has an `is_enabled(app)` method is left out while it
        returns False, so an installed but unconfigured channel queues nothing.
        """
        enabled = {}
        for record in self.app.hooks.notifiers():
            check = getattr(record.send, "is_enabled", None)
            if check is None or check(self.app):
                enabled[record.name] = record.send
        return enabled

    def dispatcher(self) -> Dispatcher:
        settings = DispatchSettings(
            batch_size=self.config.batch_size,
            lease_seconds=self.config.lease_seconds,
            digest_max_items=self.config.digest_max_items,
        )
        return Dispatcher(
            transaction=self.transaction,
            channels=self.channels(),
            clock=self.app.clock,
            app=self.app,
            settings=settings,
        )

    def start(self) -> None:
        """Run the dispatcher in a background thread, if any channel is enabled."""
        if not self.channels():
            log.info("no notification channel is enabled; the dispatcher is not started")
            return
        if self._thread is None:
            self._thread = DispatcherThread(self.dispatcher(), self.config.interval_seconds)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()

    # -- routing ------------------------------------------------------------------

    def route_event(self, event: Event) -> int:
        """Queue the deliveries of one committed event; return how many rows were added.

        Safe to call again for the same event: existing rows are kept as they are.
        Reading and writing use two units of work because broadcast channels open
        their own to read their subscriptions, and SQLite allows one writer.
        """
        channels = self.channels()
        if not channels:
            return 0
        personal = [name for name, send in channels.items() if getattr(send, "personal", False)]
        broadcast = {name: send for name, send in channels.items() if hasattr(send, "targets")}

        snapshot = self._snapshot(event)
        if snapshot is None:
            return 0
        data, issue, people, status_name, comment = snapshot

        subscribers = {name: list(send.targets(data.kind, event, self.app)) for name, send in broadcast.items()}
        targets = route(data, self.config, personal_channels=personal, subscribers=subscribers)
        items = [
            self._delivery(event, data.kind, issue, target, people, data.assignee, status_name, comment)
            for target in targets
        ]

        now = self.app.clock.now()
        with self.transaction(event.tenant_id) as conn:
            if data.kind in ("commented", "note"):
                _add_watcher(conn, event.tenant_id, issue.id, event.actor, now)
            added = queue.enqueue(conn, items, now)
        log.info("routed tenant=%s event=%s kind=%s targets=%d added=%d", event.tenant_id, event.id, data.kind, len(targets), added)
        return added

    def _snapshot(self, event: Event) -> tuple[RoutingInput, Any, dict[str, Person], str, tuple[str, str] | None] | None:
        """Read what routing needs; return None for an event kind that notifies no one."""
        with self.app.uow(event.tenant_id) as uow:
            conn = uow.sql_connection()
            issue = uow.issues.get(event.issue_id)
            if issue is None:
                log.warning("event for a missing issue tenant=%s event=%s issue=%s", event.tenant_id, event.id, event.issue_id)
                return None
            queue_record = uow.queues.get(issue.queue)
            workflow = uow.workflows.get(queue_record.workflow_key) if queue_record is not None else None
            target_state = str(event.data.get("target_state") or issue.status)
            state = workflow.state(target_state) if workflow is not None else None
            kind = event_kind(event.type, event.data, state.category.value if state is not None else None)
            if kind is None:
                return None

            members: tuple[str, ...] = ()
            if queue_record is not None and queue_record.team_key:
                team = uow.teams.get(queue_record.team_key)
                members = tuple(team.members) if team is not None else ()
            tenant = uow.tenants.get(event.tenant_id)
            assignee = _assignee_of(event, issue.assignee)
            manager = queue_record.manager if queue_record is not None else None
            issue_watchers = tuple(_watchers(conn, event.tenant_id, issue.id))
            escalation_to: tuple[str, ...] = ()
            if kind in ("sla_warning", "sla_breached"):
                escalation_to = tuple(_escalation_people(uow, event, issue.reporter, assignee, manager, members))
            # Only the people around this issue are read, not the tenant's whole directory.
            names = {event.actor, issue.reporter, assignee, manager, *members, *issue_watchers, *escalation_to} - {None, ""}
            people = {}
            for username in sorted(names):
                user = uow.users.get(username)
                if user is not None:
                    people[username] = _person(user)
            data = RoutingInput(
                kind=kind,
                queue=issue.queue,
                actor=event.actor,
                reporter=issue.reporter,
                assignee=assignee,
                manager=manager,
                queue_members=members,
                watchers=issue_watchers,
                people=people,
                preferences=_preferences(conn, event.tenant_id, sorted(names)),
                tenant_locale=tenant.locale if tenant is not None else "zh_CN",
                escalation_to=escalation_to,
            )
            comment = _comment_of(uow, event)
        status_name = state.name if state is not None else issue.status
        return data, issue, people, status_name, comment

    def _delivery(
        self,
        event: Event,
        kind: str,
        issue: Any,
        target: Target,
        people: dict[str, Person],
        assignee: str | None,
        status_name: str,
        comment: tuple[str, str] | None,
    ) -> queue.NewDelivery:
        base_url = self.config.base_url or str(getattr(self.app.config.instance, "base_url", "") or "")
        link = self.config.issue_url.format(base_url=base_url.rstrip("/"), key=issue.key, id=issue.id)
        comment_text = None
        if comment is not None:
            body, visibility = comment
            if visibility == "public" or (target.audience == AGENT and target.include_internal):
                comment_text = body

        facts = Facts(
            kind=kind,
            key=issue.key,
            title=issue.title,
            queue=issue.queue,
            status=status_name,
            priority=getattr(issue.priority, "value", str(issue.priority)),
            reporter=_display(people, issue.reporter),
            assignee=_display(people, assignee) if assignee else "",
            actor=_display(people, event.actor),
            url=link,
            comment=comment_text,
            sla_metric=str(event.data["metric"]) if kind.startswith("sla_") and event.data.get("metric") else None,
            sla_due=_local_time(event.data.get("due_at"), self._timezone(event.tenant_id)) if kind.startswith("sla_") else None,
        )
        rendered = render(facts, target.locale)
        message: dict[str, Any] = {
            "tenant_id": event.tenant_id,
            "event_id": event.id,
            "event_type": event.type,
            "kind": kind,
            "channel": target.channel,
            "recipient": target.recipient,
            "audience": target.audience,
            "locale": target.locale,
            "link": link,
            "thread": f"{event.tenant_id}.{issue.id}",
            "issue": {
                "id": issue.id,
                "key": issue.key,
                "title": issue.title,
                "queue": issue.queue,
                "status": issue.status,
                "priority": facts.priority,
                "reporter": issue.reporter,
                "assignee": assignee,
                "url": link,
            },
            "event": {
                "id": event.id,
                "type": event.type,
                "kind": kind,
                "actor": event.actor,
                "at": event.at.isoformat(),
                "changed_fields": [change.field for change in event.changes],
                "data": _plain(event.data),
            },
            "to": None,
            **rendered,
        }
        if target.person is not None:
            message["to"] = {
                "username": target.person.username,
                "display_name": target.person.display_name,
                "email": target.person.email,
            }
        return queue.NewDelivery(
            tenant_id=event.tenant_id,
            event_id=event.id,
            event_type=event.type,
            issue_id=issue.id,
            channel=target.channel,
            recipient=target.recipient,
            message=message,
        )

    def _timezone(self, tenant_id: str) -> str:
        with self.app.uow(tenant_id) as uow:
            tenant = uow.tenants.get(tenant_id)
        return tenant.timezone if tenant is not None else "Asia/Shanghai"

    # -- watchers and preferences -------------------------------------------------

    def watch(self, ctx: Any, issue_id: int, username: str | None = None) -> None:
        """Add `username` (default: the acting user) to the issue's watchers."""
        self.app.issues.get(ctx, issue_id)
        with self.transaction(ctx.tenant_id) as conn:
            _add_watcher(conn, ctx.tenant_id, issue_id, username or ctx.username, self.app.clock.now())

    def unwatch(self, ctx: Any, issue_id: int, username: str | None = None) -> None:
        with self.transaction(ctx.tenant_id) as conn:
            conn.execute(
                delete(watchers).where(
                    watchers.c.tenant_id == ctx.tenant_id,
                    watchers.c.issue_id == issue_id,
                    watchers.c.username == (username or ctx.username),
                )
            )

    def watchers(self, ctx: Any, issue_id: int) -> list[str]:
        with self.transaction(ctx.tenant_id) as conn:
            return _watchers(conn, ctx.tenant_id, issue_id)

    def set_preference(
        self,
        ctx: Any,
        *,
        channels: list[str] | None = None,
        muted: list[str] | None = None,
        opted_out: bool = False,
        username: str | None = None,
    ) -> None:
        """Store a user's channels, muted event kinds and opt-out; others need the admin role."""
        target_user = username or ctx.username
        if target_user != ctx.username:
            _require_admin(ctx)
        with self.transaction(ctx.tenant_id) as conn:
            values = {
                "channels": json.dumps(list(channels or [])),
                "muted": json.dumps(list(muted or [])),
                "opted_out": opted_out,
                "updated_at": self.app.clock.now(),
            }
            key = (preferences.c.tenant_id == ctx.tenant_id, preferences.c.username == target_user)
            exists = conn.execute(select(preferences.c.username).where(*key)).first()
            if exists:
                conn.execute(preferences.update().where(*key).values(**values))
            else:
                conn.execute(preferences.insert().values(tenant_id=ctx.tenant_id, username=target_user, **values))

    def preference(self, ctx: Any, username: str | None = None) -> Preference:
        """Return a user's stored preference (the defaults when none is stored)."""
        target_user = username or ctx.username
        if target_user != ctx.username:
            _require_admin(ctx)
        with self.transaction(ctx.tenant_id) as conn:
            return _preferences(conn, ctx.tenant_id, [target_user]).get(target_user, Preference())

    # -- admin: the delivery log --------------------------------------------------

    def list_deliveries(self, ctx: Any, **filters: Any) -> list[queue.Delivery]:
        """Deliveries of the tenant, newest first (admins and queue managers only)."""
        _require_admin(ctx)
        with self.transaction(ctx.tenant_id) as conn:
            return queue.list_deliveries(conn, ctx.tenant_id, **filters)

    def counts(self, ctx: Any) -> dict[str, int]:
        _require_admin(ctx)
        with self.transaction(ctx.tenant_id) as conn:
            return queue.count_by_status(conn, ctx.tenant_id)

    def retry(self, ctx: Any, delivery_id: int) -> bool:
        """Send a dead or waiting delivery again now, with a fresh series of attempts."""
        _require_admin(ctx)
        with self.transaction(ctx.tenant_id) as conn:
            done = queue.retry(conn, ctx.tenant_id, delivery_id, self.app.clock.now())
        log.info("retry requested tenant=%s delivery=%s by=%s queued=%s", ctx.tenant_id, delivery_id, ctx.username, done)
        return done


def _require_admin(ctx: Any) -> None:
    role = ctx.user.role if isinstance(ctx.user.role, Role) else Role(ctx.user.role)
    if not role.includes(Role.QUEUE_MANAGER):
        raise PermissionDenied(
            N_("Only queue managers and admins can see and retry notification deliveries; {user} is a {role}."),
            user=ctx.username,
            role=role.value,
        )


def _person(user: Any) -> Person:
    role = getattr(user.role, "value", user.role)
    return Person(user.username, user.display_name, str(role), user.email, user.locale, user.active)


def _escalation_people(
    uow: Any, event: Event, reporter: str, assignee: str | None, manager: str | None, members: tuple[str, ...]
) -> list[str]:
    """Return the usernames that the `to` of the event's SLA `notify` escalations name.

    `to` is `assignee`, `reporter`, `queue_manager`, `user:<username>` or `role:<role>`.
    `role:reporter` is the issue's reporter, `role:queue_manager` the queue's manager and
    `role:agent` the queue's team; without one, every active user of that role in the tenant.
    """
    names: list[str | None] = []
    for escalation in event.data.get("escalations") or ():
        if not isinstance(escalation, dict) or escalation.get("action") != "notify" or not escalation.get("to"):
            continue
        target = str(escalation["to"]).strip()
        prefix, _colon, value = target.partition(":")
        if target == "assignee":
            names.append(assignee)
        elif target in ("reporter", "role:reporter"):
            names.append(reporter)
        elif target == "queue_manager" or (target == "role:queue_manager" and manager):
            names.append(manager)
        elif target == "role:agent" and members:
            names.extend(members)
        elif prefix == "user" and value:
            names.append(value.strip())
        elif prefix == "role" and value.strip() in {role.value for role in Role}:
            role = Role(value.strip())
            names.extend(user.username for user in uow.users.list() if user.active and user.role == role)
        else:
            log.warning("unknown escalation recipient tenant=%s event=%s to=%r", event.tenant_id, event.id, target)
    return [name for name in dict.fromkeys(names) if name]


def _display(people: dict[str, Person], username: str | None) -> str:
    if not username:
        return ""
    person = people.get(username)
    return person.display_name if person is not None else username


def _assignee_of(event: Event, current: str | None) -> str | None:
    """Return the assignee the event concerns: the new one for an assignment, else the current one."""
    for change in event.changes:
        if change.field == "assignee":
            return change.after
    return current


def _comment_of(uow: Any, event: Event) -> tuple[str, str] | None:
    comment_id = event.data.get("comment_id")
    if comment_id is None:
        return None
    for comment in uow.comments.list(event.issue_id, include_internal=True):
        if comment.id == comment_id:
            return comment.body, getattr(comment.visibility, "value", str(comment.visibility))
    return None


def _add_watcher(conn: Connection, tenant_id: str, issue_id: int, username: str, now: datetime) -> None:
    key = (watchers.c.tenant_id == tenant_id, watchers.c.issue_id == issue_id, watchers.c.username == username)
    if conn.execute(select(watchers.c.username).where(*key)).first() is None:
        conn.execute(watchers.insert().values(tenant_id=tenant_id, issue_id=issue_id, username=username, created_at=now))


def _watchers(conn: Connection, tenant_id: str, issue_id: int) -> list[str]:
    query = (
        select(watchers.c.username)
        .where(watchers.c.tenant_id == tenant_id, watchers.c.issue_id == issue_id)
        .order_by(watchers.c.username)
    )
    return list(conn.execute(query).scalars())


def _preferences(conn: Connection, tenant_id: str, usernames: list[str]) -> dict[str, Preference]:
    result = {}
    query = select(preferences).where(preferences.c.tenant_id == tenant_id, preferences.c.username.in_(usernames))
    for row in conn.execute(query):
        result[row.username] = Preference(
            channels=tuple(json.loads(row.channels)),
            muted=tuple(json.loads(row.muted)),
            opted_out=bool(row.opted_out),
        )
    return result


def _local_time(value: Any, timezone_name: str) -> str | None:
    """Show an ISO timestamp from event data in the tenant's time zone, to the minute."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return str(value)
    return to_local(moment, timezone_name).strftime("%Y-%m-%d %H:%M")


def _plain(value: Any) -> Any:
    """Event data as JSON-ready values (datetimes as ISO strings)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        return value.value
    return value
