"""The typed hook facade: one test per hook, plus the failure rules of each kind."""

from __future__ import annotations

import logging
import types
from datetime import datetime, timezone

import attrs
import pytest

from wenti import hookimpl
from wenti.config import Config
from wenti.domain import Event, Issue, Role, User
from wenti.errors import ConfigError, PluginError, ValidationFailed
from wenti.hooks import registration_hooks
from wenti.records import (
    BlobStore,
    BusinessCalendar,
    Classifier,
    CliCommand,
    Connector,
    JobRunner,
    Metric,
    Notifier,
    PluginConfig,
    ReportGenerator,
    ScheduledJob,
    SearchBackend,
    SlaPolicyType,
    SqlSchema,
    StorageBackend,
    Suggestion,
    WebRoute,
)

APP = object()


def _issue(**changes):
    issue = Issue(tenant_id="default", queue="", title="打印机卡纸", reporter="reporter", status="new", id=7)
    return attrs.evolve(issue, **changes)


def _user():
    return User("default", "agent", "处理人", Role.AGENT)


def _factory(*args, **kwargs):
    return None


# Each registration hook, the facade method that collects it and a record maker.
REGISTRATIONS = [
    ("register_config_classes", "config_classes", lambda n: PluginConfig(n, dict)),
    ("register_storage_backends", "storage_backends", lambda n: StorageBackend(n, (n,), _factory)),
    ("register_sql_schemas", "sql_schemas", lambda n: SqlSchema(n, None, "migrations", n)),
    ("register_blob_stores", "blob_stores", lambda n: BlobStore(n, _factory)),
    ("register_classifiers", "classifiers", lambda n: Classifier(n, _factory)),
    ("register_notifiers", "notifiers", lambda n: Notifier(n, _factory)),
    ("register_sla_policies", "sla_policies", lambda n: SlaPolicyType(n, _factory)),
    ("register_calendars", "calendars", lambda n: BusinessCalendar(n, _factory)),
    ("register_report_generators", "report_generators", lambda n: ReportGenerator(n, _factory)),
    ("register_metrics", "metrics", lambda n: Metric(n, _factory)),
    ("register_connectors", "connectors", lambda n: Connector(n, _factory)),
    ("register_search_backends", "search_backends", lambda n: SearchBackend(n, _factory)),
    ("register_job_runners", "job_runners", lambda n: JobRunner(n, _factory)),
    ("register_commands", "commands", lambda n: CliCommand(n, _factory)),
    ("register_jobs", "jobs", lambda n: ScheduledJob(n, _factory)),
]


def _registering_plugin(hook_name, records):
    def register():
        return list(records)

    register.__name__ = hook_name
    # Instance attributes are plain functions, unlike class attributes, which bind.
    return types.SimpleNamespace(**{hook_name: hookimpl(register)})


def _check_registration(wenti_pm, register_plugin, hook_name, method, make):
    register_plugin(_registering_plugin(hook_name, [make("first"), make("second")]), "provider_a")
    register_plugin(_registering_plugin(hook_name, [make("third")]), "provider_b")

    records = getattr(wenti_pm.hooks, method)()

    assert sorted(record.name for record in records) == ["first", "second", "third"]
    owners = {record.name: record.plugin for record in records}
    assert owners == {"first": "provider_a", "second": "provider_a", "third": "provider_b"}

    register_plugin(_registering_plugin(hook_name, [make("third")]), "provider_c")
    with pytest.raises(PluginError) as caught:
        getattr(wenti_pm.hooks, method)()
    assert "provider_b" in str(caught.value)
    assert "provider_c" in str(caught.value)
    assert "'third'" in str(caught.value)


def test_register_config_classes_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[0])


def test_register_storage_backends_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[1])


def test_register_sql_schemas_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[2])


def test_register_blob_stores_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[3])


def test_register_classifiers_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[4])


def test_register_notifiers_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[5])


def test_register_sla_policies_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[6])


def test_register_calendars_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[7])


def test_register_report_generators_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[8])


def test_register_metrics_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[9])


def test_register_connectors_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[10])


def test_register_search_backends_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[11])


def test_register_job_runners_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[12])


def test_register_commands_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[13])


def test_register_jobs_collects_and_stamps(wenti_pm, register_plugin):
    _check_registration(wenti_pm, register_plugin, *REGISTRATIONS[14])


def test_registration_hooks_resolve_record_types(wenti_pm):
    spec_names = {name for name in wenti_pm.pm.hook.__dict__ if name.startswith("register_")}
    table = registration_hooks()

    assert set(table) == spec_names
    for hook_name, method, make in REGISTRATIONS:
        assert table[hook_name][0] is type(make("x")), hook_name
    assert table["register_web_routes"] == (WebRoute, ("app",))


def test_records_by_hook_name_matches_method(wenti_pm, register_plugin):
    register_plugin(_registering_plugin("register_metrics", [Metric("backlog", _factory)]), "reports")

    assert wenti_pm.hooks.records("register_metrics") == wenti_pm.hooks.metrics()
    with pytest.raises(PluginError, match="arguments"):
        wenti_pm.hooks.records("register_web_routes")
    with pytest.raises(PluginError, match="register_notifiers"):
        wenti_pm.hooks.records("register_notifier")


def test_register_web_routes_receives_app(wenti_pm, register_plugin):
    seen = []

    class Routes:
        @hookimpl
        def register_web_routes(self, app):
            seen.append(app)
            return [WebRoute("health", handler=_factory)]

    register_plugin(Routes(), "routes")

    routes = wenti_pm.hooks.web_routes(APP)

    assert [(route.name, route.plugin) for route in routes] == [("health", "routes")]
    assert seen == [APP]


def test_registration_rejects_upper_case_name(wenti_pm, register_plugin):
    register_plugin(_registering_plugin("register_notifiers", [Notifier("WeCom", _factory)]), "shouty")

    with pytest.raises(PluginError, match="lower-case"):
        wenti_pm.hooks.notifiers()


def test_registration_rejects_wrong_record_type(wenti_pm, register_plugin):
    register_plugin(_registering_plugin("register_notifiers", [Metric("volume", _factory)]), "confused")

    with pytest.raises(PluginError, match="wenti.records.Notifier"):
        wenti_pm.hooks.notifiers()


def test_registration_cache_follows_registrations(wenti_pm, register_plugin):
    assert wenti_pm.hooks.notifiers() == []

    register_plugin(_registering_plugin("register_notifiers", [Notifier("email", _factory)]), "mail")

    assert [notifier.name for notifier in wenti_pm.hooks.notifiers()] == ["email"]


def test_open_store_picks_backend_by_scheme(wenti_pm, register_plugin, tmp_path):
    opened = []

    def open_memory(url, config):
        opened.append(("memory", url))
        return "M"

    def open_pg(url, config, hooks=None):
        opened.append(("pg", url, hooks))
        return "P"

    class Backends:
        @hookimpl
        def register_storage_backends(self):
            return [StorageBackend("memory", ("memory",), open_memory), StorageBackend("pg", ("postgresql",), open_pg)]

    register_plugin(Backends(), "backends")
    config = Config.default(tmp_path)

    config.storage.url = "postgresql+psycopg://wenti@127.0.0.1/wenti"
    assert wenti_pm.hooks.open_store(config) == "P"
    config.storage.url = "memory://"
    assert wenti_pm.hooks.open_store(config) == "M"

    # A backend that declares `hooks` gets the facade; the two-argument form still works.
    assert opened == [("pg", "postgresql+psycopg://wenti@127.0.0.1/wenti", wenti_pm.hooks), ("memory", "memory://")]


def test_open_store_unknown_scheme_names_url_and_schemes(wenti_pm, register_plugin, tmp_path):
    register_plugin(_registering_plugin("register_storage_backends", [StorageBackend("memory", ("memory",), _factory)]), "mem")
    config = Config.default(tmp_path)
    config.storage.url = "oracle://scott:tiger@127.0.0.1/orcl"

    with pytest.raises(ConfigError) as caught:
        wenti_pm.hooks.open_store(config)

    message = str(caught.value)
    assert "'oracle'" in message
    assert "memory" in message
    assert "tiger" not in message
    assert "oracle://scott:***@127.0.0.1/orcl" in message


def test_select_queue_first_answer_wins(wenti_pm, register_plugin):
    class NoOpinion:
        @hookimpl
        def select_queue(self, issue, app):
            return None

    class Printers:
        @hookimpl
        def select_queue(self, issue):
            return "printers" if "打印机" in issue.title else None

    register_plugin(Printers(), "printers")
    register_plugin(NoOpinion(), "no_opinion")

    assert wenti_pm.hooks.select_queue(_issue(), APP) == "printers"
    assert wenti_pm.hooks.select_queue(_issue(title="网络断了"), APP) is None


def test_select_queue_routes_new_issue_in_app(wenti_app, register_plugin):
    ctx = wenti_app.context("default", "admin")
    wenti_app.admin.create_queue(ctx, "printers", "打印机")

    class Printers:
        @hookimpl
        def select_queue(self, issue):
            return "printers" if "打印机" in issue.title else None

    register_plugin(Printers(), "printers", host=wenti_app.plugins)

    routed = wenti_app.issues.create(ctx, title="打印机卡纸")
    default = wenti_app.issues.create(ctx, title="网络断了")

    assert routed.queue == "printers"
    assert default.queue != "printers"


def test_choose_assignee_first_answer_wins(wenti_pm, register_plugin):
    class RoundRobin:
        @hookimpl
        def choose_assignee(self, issue, app):
            return "agent"

    register_plugin(RoundRobin(), "round_robin")

    assert wenti_pm.hooks.choose_assignee(_issue(), APP) == "agent"


def test_choose_assignee_sets_assignee_in_app(wenti_app, register_plugin):
    ctx = wenti_app.context("default", "admin")

    class Always:
        @hookimpl
        def choose_assignee(self, issue, app):
            return "agent"

    register_plugin(Always(), "always_agent", host=wenti_app.plugins)

    assert wenti_app.issues.create(ctx, title="网络断了").assignee == "agent"


def test_classify_issue_failing_plugin_gives_no_opinion(wenti_pm, register_plugin, caplog):
    class Keywords:
        @hookimpl
        def classify_issue(self, issue, app):
            return [Suggestion("category", "hardware", 0.9, "打印机", "keywords")]

    class Broken:
        @hookimpl
        def classify_issue(self, issue, app):
            raise RuntimeError("model file missing")

    register_plugin(Keywords(), "keywords")
    register_plugin(Broken(), "broken_model")

    with caplog.at_level(logging.ERROR, logger="wenti.hooks"):
        suggestions = wenti_pm.hooks.classify_issue(_issue(), APP)

    assert [(s.field, s.value) for s in suggestions] == [("category", "hardware")]
    assert any("broken_model" in record.getMessage() for record in caplog.records)


def test_similar_issues_sorted_limited_and_isolated(wenti_pm, register_plugin):
    class Search:
        @hookimpl
        def similar_issues(self, issue, app, limit):
            return [{"kind": "issue", "id": 1, "title": "A", "score": 0.2}, {"kind": "issue", "id": 2, "title": "B", "score": 0.9}]

    class Articles:
        @hookimpl
        def similar_issues(self, issue, limit):
            return [{"kind": "article", "id": 5, "title": "K", "score": 0.5}]

    class Broken:
        @hookimpl
        def similar_issues(self, issue):
            raise TimeoutError("index busy")

    register_plugin(Search(), "search")
    register_plugin(Articles(), "articles")
    register_plugin(Broken(), "broken_search")

    found = wenti_pm.hooks.similar_issues(_issue(), APP, 2)

    assert [(item["kind"], item["id"]) for item in found] == [("issue", 2), ("article", 5)]
    assert found[1]["plugin"] == "articles"


def test_validate_issue_change_collects_reasons(wenti_pm, register_plugin):
    class NeedsCategory:
        @hookimpl
        def validate_issue_change(self, issue, before, actor, action, app):
            return [] if issue.category else ["请选择分类"]

    register_plugin(NeedsCategory(), "needs_category")

    assert wenti_pm.hooks.validate_issue_change(_issue(), None, _user(), "create", APP) == ["请选择分类"]
    assert wenti_pm.hooks.validate_issue_change(_issue(category="hw"), None, _user(), "create", APP) == []


def test_validate_issue_change_exception_vetoes(wenti_pm, register_plugin):
    class Broken:
        @hookimpl
        def validate_issue_change(self, issue, action):
            raise KeyError("rules")

    register_plugin(Broken(), "broken_rules")

    reasons = wenti_pm.hooks.validate_issue_change(_issue(), None, _user(), "update", APP)

    assert len(reasons) == 1
    assert "broken_rules" in reasons[0]
    assert "KeyError" in reasons[0]


def test_validate_issue_change_veto_blocks_create_in_app(wenti_app, register_plugin):
    ctx = wenti_app.context("default", "admin")

    class NoPrinters:
        @hookimpl
        def validate_issue_change(self, issue, action):
            return ["不受理打印机问题"] if action == "create" and "打印机" in issue.title else []

    register_plugin(NoPrinters(), "no_printers", host=wenti_app.plugins)

    with pytest.raises(ValidationFailed) as caught:
        wenti_app.issues.create(ctx, title="打印机卡纸")

    assert caught.value.reasons == ["不受理打印机问题"]


def test_startup_failure_names_plugin(wenti_pm, register_plugin):
    calls = []

    class Fine:
        @hookimpl
        def startup(self, app):
            calls.append(app)

    class Broken:
        @hookimpl
        def startup(self, app):
            raise OSError("port in use")

    register_plugin(Fine(), "fine")
    wenti_pm.hooks.startup(APP)
    assert calls == [APP]

    register_plugin(Broken(), "broken_start")
    with pytest.raises(PluginError) as caught:
        wenti_pm.hooks.startup(APP)
    assert "broken_start" in str(caught.value)
    assert "port in use" in str(caught.value)


def test_shutdown_runs_all_despite_failure(wenti_pm, register_plugin, caplog):
    order = []

    class First:
        @hookimpl
        def shutdown(self, app):
            order.append("first")

    class Broken:
        @hookimpl
        def shutdown(self, app):
            order.append("broken")
            raise RuntimeError("flush failed")

    register_plugin(First(), "first")
    register_plugin(Broken(), "broken_stop")

    with caplog.at_level(logging.ERROR, logger="wenti.hooks"):
        wenti_pm.hooks.shutdown(APP)

    assert order == ["broken", "first"]
    assert any("broken_stop" in record.getMessage() for record in caplog.records)


def test_issue_event_impls_called_one_at_a_time(wenti_pm, register_plugin):
    received = []
    event = Event("default", 7, "issue.created", "agent", datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))

    class Mailer:
        @hookimpl
        def issue_event(self, event):
            received.append(("mailer", event.type))

    class Webhook:
        @hookimpl
        def issue_event(self, event, app):
            received.append(("webhook", app))

    register_plugin(Mailer(), "mailer")
    register_plugin(Webhook(), "webhook")

    names = [name for name, _function in wenti_pm.hooks.event_hook_impls("issue_event")]
    assert sorted(names) == ["mailer", "webhook"]

    wenti_pm.hooks.call_event_impl("issue_event", "mailer", event=event, app=APP)
    assert received == [("mailer", "issue.created")]

    with pytest.raises(PluginError, match="gone"):
        wenti_pm.hooks.call_event_impl("issue_event", "gone", event=event, app=APP)


def test_classify_issue_generator_failure_isolated(wenti_pm, register_plugin):
    class HalfWay:
        @hookimpl
        def classify_issue(self, issue):
            yield Suggestion("category", "network", 0.4)
            raise RuntimeError("index corrupted")

    class Keywords:
        @hookimpl
        def classify_issue(self, issue):
            return [Suggestion("category", "hardware", 0.9)]

    register_plugin(HalfWay(), "half_way")
    register_plugin(Keywords(), "keywords")

    suggestions = wenti_pm.hooks.classify_issue(_issue(), APP)

    # The failing plugin gives no opinion at all, not the part before its failure.
    assert [s.value for s in suggestions] == ["hardware"]


def test_similar_issues_skips_non_numeric_score(wenti_pm, register_plugin):
    class Sloppy:
        @hookimpl
        def similar_issues(self, issue):
            return [{"kind": "issue", "id": 1, "title": "A", "score": "high"}, {"kind": "issue", "id": 2, "title": "B", "score": 0.3}]

    register_plugin(Sloppy(), "sloppy")

    found = wenti_pm.hooks.similar_issues(_issue(), APP, 5)

    assert [item["id"] for item in found] == [2]


def test_validate_issue_change_veto_translated(wenti_pm, register_plugin):
    from wenti.i18n import use_locale

    class Broken:
        @hookimpl
        def validate_issue_change(self, issue):
            raise ValueError("rule table missing")

    register_plugin(Broken(), "broken_rules")

    (reason,) = wenti_pm.hooks.validate_issue_change(_issue(), None, _user(), "create", APP)

    with use_locale("zh_CN"):
        assert f"{reason}" == "broken_rules：校验失败（ValueError: rule table missing）；修改已被拒绝。"
    with use_locale("en"):
        assert f"{reason}" == "broken_rules: validation failed (ValueError: rule table missing); the change was rejected."


def test_registration_cache_survives_reregistration(wenti_pm, register_plugin):
    # A new plugin registered after another was removed must never see the old records,
    # even if the new implementation object lands at the freed address.
    for round_number in range(20):
        name = f"mail_{round_number}"
        wenti_pm.register(_registering_plugin("register_notifiers", [Notifier(name, _factory)]), name)

        assert [notifier.name for notifier in wenti_pm.hooks.notifiers()] == [name]

        wenti_pm.unregister(name)


def test_register_overrides_blocked_name(wenti_pm):
    wenti_pm.pm.set_blocked("mailer")

    wenti_pm.register(_registering_plugin("register_notifiers", [Notifier("mail", _factory)]), "mailer")

    assert [notifier.plugin for notifier in wenti_pm.hooks.notifiers()] == ["mailer"]
    wenti_pm.unregister("mailer")


def test_build_app_closes_on_seed_failure(tmp_path):
    from wenti.domain import Role
    from wenti.errors import ValidationFailed
    from wenti.testing import build_app

    closed = []

    class Watcher:
        @hookimpl
        def shutdown(self, app):
            closed.append(app)

    with pytest.raises(ValidationFailed):
        build_app(
            tmp_path,
            plugins=[(Watcher(), "watcher")],
            enabled_plugins=["sql"],
            users=[("admin", "管理员", Role.ADMIN), ("bad name!", "坏", Role.AGENT)],
        )

    assert len(closed) == 1
