"""`wenti init`, `config`, `plugins`, `outbox`, plugin commands, and the real console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from wenti import hookimpl
from wenti.cli import cli
from wenti.cli.testing import invoke_cli
from wenti.i18n import current_locale, set_locale
from wenti.records import CliCommand
from wenti.store import IssueQuery

SQL_ONLY = '[plugins]\nenabled = ["sql"]\n'


@pytest.fixture(autouse=True)
def keep_locale():
    previous = current_locale()
    yield
    set_locale(previous)


@pytest.fixture
def sql_only(monkeypatch):
    monkeypatch.setenv("WENTI_LOAD_PLUGINS", "sql")
    for variable in ("WENTI_CONFIG", "WENTI_LANG", "WENTI_USER", "WENTI_TENANT"):
        monkeypatch.delenv(variable, raising=False)


def test_init_creates_instance_and_is_repeatable(tmp_path, sql_only):
    instance = tmp_path / "instance"
    runner = CliRunner()

    first = runner.invoke(cli, ["--lang", "en", "init", "--dir", str(instance), "--admin", "boss"])
    second = runner.invoke(cli, ["--lang", "en", "init", "--dir", str(instance), "--admin", "boss"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    config_text = (instance / "wenti.toml").read_text(encoding="utf-8")
    assert config_text.startswith("# wenti instance configuration")
    assert 'locale = "en"' in config_text
    assert (instance / "wenti.db").is_file()
    assert "Wrote the configuration" in first.stdout
    assert "Using the existing configuration" in second.stdout

    from wenti.app import App

    app = App.create(instance / "wenti.toml")
    try:
        ctx = app.context("default", "boss")
        assert ctx.user.role.value == "admin"
        assert [queue.key for queue in app.admin.list_queues(ctx)] == ["general"]
    finally:
        app.close()


def test_init_defaults_to_chinese(tmp_path, sql_only):
    result = CliRunner().invoke(cli, ["init", "--dir", str(tmp_path / "zh")])

    assert result.exit_code == 0, result.output
    assert "租户 default 已就绪，管理员为 admin，队列为 general。" in result.stdout
    assert 'locale = "zh_CN"' in (tmp_path / "zh" / "wenti.toml").read_text(encoding="utf-8")


def test_console_script_end_to_end(tmp_path):
    script = shutil.which("wenti", path=str(Path(sys.executable).parent))
    assert script is not None, "the wenti console script is not installed next to the interpreter"
    env = {**os.environ, "WENTI_LOAD_PLUGINS": "sql", "WENTI_LANG": "en"}
    for variable in ("WENTI_CONFIG", "WENTI_USER", "WENTI_TENANT"):
        env.pop(variable, None)
    config = str(tmp_path / "wenti.toml")

    def wenti(*args):
        return subprocess.run([script, "--config", config, *args], capture_output=True, text=True, env=env, timeout=120, check=False)

    init = subprocess.run([script, "init", "--dir", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120, check=False)
    created = wenti("issue", "create", "--title", "打印机卡纸", "--queue", "general", "--json")
    listed = wenti("issue", "list", "--json")
    missing = wenti("issue", "show", "999")

    assert init.returncode == 0, init.stderr
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["title"] == "打印机卡纸"
    assert [item["title"] for item in json.loads(listed.stdout)["issues"]] == ["打印机卡纸"]
    assert missing.returncode == 3
    assert missing.stderr.startswith("Error: Issue 999 does not exist.")


def test_config_check_and_show_redact_secrets(tmp_path, sql_only):
    config = tmp_path / "wenti.toml"
    config.write_text(
        '[plugins]\ndisabled = ["webhooks"]\n\n[plugins.webhooks]\nsmtp_password = "hunter2"\nhost = "127.0.0.1"\n',
        encoding="utf-8",
    )

    check = CliRunner().invoke(cli, ["--lang", "en", "--config", str(config), "config", "check"])
    show = CliRunner().invoke(cli, ["--lang", "en", "--config", str(config), "config", "show"])

    assert check.exit_code == 0, check.output
    assert f"Configuration {config} is valid." in check.stdout
    assert show.exit_code == 0, show.output
    assert "hunter2" not in show.stdout
    assert 'smtp_password = "***"' in show.stdout
    assert 'host = "127.0.0.1"' in show.stdout


def test_config_check_names_invalid_key(tmp_path, sql_only):
    config = tmp_path / "wenti.toml"
    config.write_text('[instance]\nlocale = "fr"\n', encoding="utf-8")

    result = CliRunner().invoke(cli, ["--lang", "en", "--config", str(config), "config", "check"])

    assert result.exit_code == 6
    assert "[instance] locale = 'fr' is invalid" in result.stderr


def test_config_check_flags_unknown_plugin_names(tmp_path, sql_only, monkeypatch):
    monkeypatch.setenv("WENTI_DISABLE_PLUGINS", "webhookz")
    config = tmp_path / "wenti.toml"
    config.write_text('[plugins]\nenabled = ["nosuch"]\ndisabled = ["sqll"]\n', encoding="utf-8")

    result = CliRunner().invoke(cli, ["--lang", "en", "--config", str(config), "config", "check"])

    assert result.exit_code == 6, result.output
    assert "is valid" not in result.stdout
    assert "[plugins] enabled names 'nosuch'" in result.stderr
    assert "[plugins] disabled names 'sqll'" in result.stderr
    assert "$WENTI_DISABLE_PLUGINS names 'webhookz'" in result.stderr


def test_config_check_flags_url_without_backend(tmp_path, sql_only, monkeypatch):
    monkeypatch.setenv("WENTI_LOAD_PLUGINS", "webhooks")
    config = tmp_path / "wenti.toml"
    config.write_text("", encoding="utf-8")

    result = CliRunner().invoke(cli, ["--lang", "en", "--config", str(config), "config", "check"])

    assert result.exit_code == 6, result.output
    assert "no installed storage backend accepts the scheme 'sqlite'" in result.stderr


def test_no_config_file_creates_no_database(tmp_path, sql_only, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli, ["--lang", "en", "issue", "list"])

    assert result.exit_code == 6, result.output
    assert "No configuration file" in result.stderr
    assert "wenti init" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_missing_config_file_is_a_config_error(tmp_path, sql_only):
    result = CliRunner().invoke(cli, ["--lang", "en", "--config", str(tmp_path / "nope.toml"), "issue", "list"])

    assert result.exit_code == 6
    assert "nope.toml" in result.stderr
    assert "wenti init" in result.stderr


class GreetPlugin:
    @hookimpl
    def register_commands(self):
        @click.command("greet")
        @click.argument("name")
        def greet(name):
            click.echo(f"hello {name}")

        return [CliCommand("greet", greet)]


def test_plugin_commands_join_the_group(make_wenti_app):
    app = make_wenti_app(config_toml=SQL_ONLY, plugins=[(GreetPlugin(), "greeter")])

    result = invoke_cli(app, "greet", "世界")
    listing = invoke_cli(app, "--help")

    assert result.exit_code == 0, result.output
    assert result.stdout == "hello 世界\n"
    assert "greet" in listing.stdout


def test_plugins_list_table_and_json(make_wenti_app):
    app = make_wenti_app(config_toml=SQL_ONLY, plugins=[(GreetPlugin(), "greeter")])

    table = invoke_cli(app, "plugins", "list")
    as_json = invoke_cli(app, "plugins", "list", "--json")

    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0].split() == ["Name", "Distribution", "Version", "Status", "Hooks"]
    records = {record["name"]: record for record in json.loads(as_json.stdout)}
    assert records["sql"]["status"] == "active"
    assert records["sql"]["distribution"] == "wenti-sql"
    assert "register_commands" in records["greeter"]["hooks"]


class FailingListener:
    @hookimpl
    def issue_event(self, event, app):
        raise RuntimeError("listener down")


def test_outbox_lists_and_retries_dead_letters(make_wenti_app):
    config = SQL_ONLY + "\n[outbox]\nmax_attempts = 1\n"
    app = make_wenti_app(config_toml=config, plugins=[(FailingListener(), "listener")])
    app.issues.create(app.context("default", "agent"), title="触发事件")
    app.outbox.dispatch_pending()

    listed = invoke_cli(app, "outbox", "list", "--status", "dead", "--json")
    dead = json.loads(listed.stdout)
    retried = invoke_cli(app, "outbox", "retry", str(dead[0]["id"]))
    table = invoke_cli(app, "outbox")
    by_reporter = invoke_cli(app, "outbox", user="reporter")

    assert listed.exit_code == 0, listed.output
    assert [message["plugin"] for message in dead] == ["listener"]
    assert "listener down" in dead[0]["last_error"]
    assert retried.exit_code == 0, retried.output
    assert "queued for delivery to listener" in retried.stdout
    assert "pending" in table.stdout
    assert by_reporter.exit_code == 4


def test_outbox_status_option_on_group(make_wenti_app):
    config = SQL_ONLY + "\n[outbox]\nmax_attempts = 1\n"
    app = make_wenti_app(config_toml=config, plugins=[(FailingListener(), "listener")])
    app.issues.create(app.context("default", "agent"), title="触发事件")
    app.outbox.dispatch_pending()

    dead = invoke_cli(app, "outbox", "--status", "dead", "--json")
    delivered = invoke_cli(app, "outbox", "--status", "delivered", "--json")

    assert dead.exit_code == 0, dead.output
    assert [message["plugin"] for message in json.loads(dead.stdout)] == ["listener"]
    assert delivered.exit_code == 0, delivered.output
    assert json.loads(delivered.stdout) == []


def test_outbox_retry_rejects_pending_message(make_wenti_app):
    config = SQL_ONLY + "\n[outbox]\nmax_attempts = 3\n"
    app = make_wenti_app(config_toml=config, plugins=[(FailingListener(), "listener")])
    app.issues.create(app.context("default", "agent"), title="触发事件")
    app.outbox.dispatch_pending()
    [pending] = json.loads(invoke_cli(app, "outbox", "--status", "pending", "--json").stdout)

    retried = invoke_cli(app, "outbox", "retry", str(pending["id"]))

    assert retried.exit_code == 1, retried.output
    assert f"Outbox message {pending['id']} is still pending, not a dead letter" in retried.stderr


def test_unknown_user_is_reported(make_wenti_app):
    app = make_wenti_app(config_toml=SQL_ONLY)

    result = invoke_cli(app, "issue", "list", user="ghost")

    assert result.exit_code == 3
    assert "ghost" in result.stderr
    assert app.issues.count(app.context("default", "admin"), IssueQuery()) == 0


def test_usage_error_prints_in_chinese(make_wenti_app):
    app = make_wenti_app(config_toml=SQL_ONLY)

    result = invoke_cli(app, "issue", "lst", lang="zh_CN")

    assert result.exit_code == 2
    assert result.stderr.startswith("用法：wenti issue")
    assert "运行 'wenti issue --help' 查看帮助。" in result.stderr
    assert "错误：" in result.stderr


def test_help_follows_lang_option(make_wenti_app):
    app = make_wenti_app(config_toml=SQL_ONLY)

    chinese = invoke_cli(app, "issue", "create", "--help", lang="zh_CN")
    english = invoke_cli(app, "issue", "create", "--help", lang="en")

    assert "问题的简短标题。" in chinese.stdout
    assert "选项：" in chinese.stdout or "选项" in chinese.stdout
    assert "Short title of the issue." in english.stdout


CORE_COMMANDS = [
    (),
    ("init",),
    ("config", "check"),
    ("issue", "list"),
    ("issue", "update"),
    ("import",),
    ("export",),
    ("outbox",),
    ("queue", "create"),
    ("demo",),
]


@pytest.mark.parametrize("command", CORE_COMMANDS)
def test_core_help_has_no_english_words(make_wenti_app, command):
    import re

    app = make_wenti_app(config_toml=SQL_ONLY)

    result = invoke_cli(app, *command, "--help", lang="zh_CN")

    assert result.exit_code == 0, result.output
    # Option names, choices, quoted values and default values stay ASCII, and so
    # does "wenti"; the words click adds around them must be Chinese.
    prose = re.sub(r"(--?[\w-]+|\[[\w|.=]+\]|\$?WENTI_\w+|\bwenti\b|\"[^\"]*\"|默认：[^;\]]*)", "", result.stdout)
    english = [word for word in re.findall(r"\b(?:OPTIONS|TEXT|INTEGER|FILE|default|required|Usage|Options|Commands)\b", prose)]
    assert english == [], result.stdout
    assert "选项：" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("issue", "show"), "错误：缺少参数 问题。"),
        (("issue", "list", "--limt", "3"), "错误：没有选项 --limt。您是否想用 --limit？"),
        (("import", "x.csv"), "错误：缺少选项 '--mapping'。"),
        (("issue", "list", "--limit", "0"), "错误：'--limit' 的值无效："),
    ],
)
def test_usage_errors_in_chinese(make_wenti_app, args, expected):
    app = make_wenti_app(config_toml=SQL_ONLY)

    result = invoke_cli(app, *args, lang="zh_CN")

    assert result.exit_code == 2, result.output
    assert expected in result.stderr


def test_missing_config_message_is_all_chinese(tmp_path, sql_only):
    result = CliRunner().invoke(cli, ["--lang", "zh_CN", "--config", str(tmp_path / "nope.toml"), "issue", "list"])

    assert result.exit_code == 6
    assert "--config 选项" in result.stderr
    assert "the --config option" not in result.stderr


class BrokenPlugin:
    @hookimpl
    def register_commands(self):
        @click.command("explode")
        def explode():
            raise RuntimeError("disk on fire")

        return [CliCommand("explode", explode)]


def test_unexpected_error_prints_one_line(make_wenti_app):
    app = make_wenti_app(config_toml=SQL_ONLY, plugins=[(BrokenPlugin(), "broken")])

    result = invoke_cli(app, "explode")

    assert result.exit_code == 70
    assert "RuntimeError: disk on fire" in result.stderr
    assert "WENTI_LOG_LEVEL=DEBUG" in result.stderr
    assert "Traceback" not in result.stderr


class RecordingListener:
    events: list[str] = []

    @hookimpl
    def issue_event(self, event, app):
        RecordingListener.events.append(event.type)


def test_pending_events_are_delivered(make_wenti_app):
    from wenti.cli.state import deliver_pending_events

    app = make_wenti_app(config_toml=SQL_ONLY, plugins=[(RecordingListener(), "recorder")])
    RecordingListener.events = []
    app.issues.create(app.context("default", "agent"), title="事件投递")

    delivered = deliver_pending_events(app)

    assert delivered == 1
    assert RecordingListener.events == ["issue.created"]
    assert app.outbox.list(app.context("default", "admin"), "pending") == []


def test_closing_an_owned_app_delivers_events(make_wenti_app):
    from wenti.cli.state import CliState

    app = make_wenti_app(config_toml=SQL_ONLY, plugins=[(RecordingListener(), "recorder")])
    RecordingListener.events = []
    app.issues.create(app.context("default", "agent"), title="退出前投递")
    state = CliState(None, "default", "agent", "en")
    state.adopt(app, owned=True)

    state.close()

    assert RecordingListener.events == ["issue.created"]


def test_failed_plugin_is_reported(tmp_path, monkeypatch, sql_only):
    from wenti.testing import write_fake_distribution

    site = tmp_path / "site"
    write_fake_distribution(site, "wenti-broken", "0.3.0", {"broken": "broken_plugin"}, {"broken_plugin.py": "raise ImportError('missing dependency frobnicate')\n"})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("WENTI_LOAD_PLUGINS", "sql,broken")
    # The wenti pytest plugin makes loading strict; the command line must see the failure instead.
    monkeypatch.delenv("WENTI_STRICT_PLUGINS", raising=False)
    config = tmp_path / "wenti.toml"
    config.write_text("[instance]\nlocale = \"en\"\n", encoding="utf-8")

    check = CliRunner().invoke(cli, ["--lang", "en", "--config", str(config), "config", "check"])
    listing = CliRunner().invoke(cli, ["--lang", "en", "--config", str(config), "plugins", "list", "--json"])

    assert check.exit_code == 1
    assert "Plugins: 2 active," in check.stdout
    assert "1 failed." in check.stdout
    assert "Plugin broken failed to load" in check.stderr
    assert "frobnicate" in check.stderr
    records = {record["name"]: record for record in json.loads(listing.stdout)}
    assert records["broken"]["status"] == "failed"
    assert records["broken"]["version"] == "0.3.0"


PLUGIN_PO = """
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Language: zh_CN\\n"

msgid "Say hello to someone."
msgstr "向某人问好。"

msgid "Nobody called {name} lives here."
msgstr "这里没有叫 {name} 的人。"
"""


def test_plugin_command_uses_its_own_catalog(make_wenti_app, tmp_path):
    from wenti.cli.base import Command
    from wenti.errors import NotFound
    from wenti.i18n import Domain, N_

    catalog = tmp_path / "locale" / "zh_CN" / "LC_MESSAGES"
    catalog.mkdir(parents=True)
    (catalog / "wenti_hello_cli.po").write_text(PLUGIN_PO, encoding="utf-8")
    Domain("wenti_hello_cli", tmp_path / "locale")

    class HelloPlugin:
        @hookimpl
        def register_commands(self):
            @click.command("hello", cls=Command, help=N_("Say hello to someone."))
            @click.argument("name")
            def hello(name):
                raise NotFound(N_("Nobody called {name} lives here."), name=name)

            return [CliCommand("hello", hello)]

    app = make_wenti_app(config_toml=SQL_ONLY, plugins=[(HelloPlugin(), "hello_cli")])

    listing = invoke_cli(app, "--help", lang="zh_CN")
    result = invoke_cli(app, "hello", "张三", lang="zh_CN")

    assert "向某人问好。" in listing.stdout
    assert result.exit_code == 3
    assert "错误：这里没有叫 张三 的人。" in result.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://wenti:s3cret@127.0.0.1:5432/wenti", "postgresql://wenti:***@127.0.0.1:5432/wenti"),
        ("sqlite:////srv/wenti/wenti.db", "sqlite:////srv/wenti/wenti.db"),
        ("mariadb://root@127.0.0.1/test", "mariadb://root@127.0.0.1/test"),
    ],
)
def test_init_hides_database_password(url, shown):
    from wenti.cli.admin_cmds import redact_url

    assert redact_url(url) == shown


def test_group_without_subcommand_shows_help():
    result = CliRunner().invoke(cli, ["--lang", "en", "config"])

    assert result.exit_code == 0, result.output
    assert "check" in result.output
    assert "Error" not in result.output
