"""Loading and validating wenti.toml, secrets, plugin tables and the default file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import attrs
import pytest

from wenti import hookimpl
from wenti.config import Config, Secret, load_config, write_default_config
from wenti.errors import ConfigError
from wenti.records import PluginConfig


@attrs.define
class SmtpConfig:
    host: str
    port: int = 25
    password: Secret | None = None
    recipients: list[str] = attrs.Factory(list)


class SmtpPlugin:
    @hookimpl
    def register_config_classes(self):
        return [PluginConfig("smtp", SmtpConfig)]


def _write(folder: Path, text: str) -> Path:
    path = folder / "wenti.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(error: ConfigError):
    return [(problem.table, problem.key) for problem in error.problems]


@pytest.fixture(autouse=True)
def _english():
    # Problem texts translate when formatted; the assertions below read English.
    from wenti.i18n import use_locale

    with use_locale("en"):
        yield


@pytest.fixture(autouse=True)
def _no_config_env(monkeypatch):
    for name in ("WENTI_CONFIG", "WENTI_DISABLE_PLUGINS", "WENTI_LOAD_PLUGINS", "WENTI_TRACE_HOOKS"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_without_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    config = load_config()

    assert config.path is None
    assert config.instance.locale == "zh_CN"
    assert config.instance.timezone == "Asia/Shanghai"
    assert config.instance.data_dir == tmp_path.resolve()
    assert config.storage.url == f"sqlite:///{tmp_path.resolve() / 'wenti.db'}"
    assert config.storage.sqlite_synchronous == "NORMAL"
    assert config.plugins.disabled == []
    assert config.plugins.enabled is None
    assert config.outbox.max_attempts == 8
    assert config.attachments.path == tmp_path.resolve() / "attachments"


def test_file_found_in_working_directory(tmp_path, monkeypatch):
    _write(tmp_path, '[instance]\nname = "工厂"\n')
    monkeypatch.chdir(tmp_path)

    config = load_config()

    assert config.path == (tmp_path / "wenti.toml").resolve()
    assert config.instance.name == "工厂"


def test_environment_names_file(tmp_path, monkeypatch):
    folder = tmp_path / "instance"
    folder.mkdir()
    _write(folder, '[instance]\nlocale = "en"\n')
    monkeypatch.setenv("WENTI_CONFIG", str(folder / "wenti.toml"))
    monkeypatch.chdir(tmp_path)

    config = load_config()

    assert config.instance.locale == "en"
    assert config.instance.data_dir == folder.resolve()


def test_argument_beats_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("WENTI_CONFIG", str(tmp_path / "missing.toml"))
    path = _write(tmp_path, '[instance]\nname = "arg"\n')

    assert load_config(path).instance.name == "arg"


def test_missing_named_file_is_error(tmp_path, monkeypatch):
    monkeypatch.setenv("WENTI_CONFIG", str(tmp_path / "nope.toml"))

    with pytest.raises(ConfigError) as caught:
        load_config()

    assert "nope.toml" in str(caught.value)
    assert "$WENTI_CONFIG" in str(caught.value)
    assert "wenti init" in str(caught.value)


def test_invalid_toml_names_file_and_line(tmp_path):
    path = _write(tmp_path, "[instance]\nname = \n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(path) in str(caught.value)
    assert "line 2" in str(caught.value)


def test_wrong_type_names_table_key_value(tmp_path):
    path = _write(tmp_path, '[storage]\necho = "yes"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    error = caught.value
    assert error.params["file"] == str(path)
    assert error.params["table"] == "storage"
    assert error.params["key"] == "echo"
    assert error.params["value"] == "yes"
    assert error.params["expected"] == "expected true or false"


def test_values_not_coerced(tmp_path):
    path = _write(tmp_path, '[storage]\necho = 1\n[outbox]\nmax_attempts = "3"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert _problems(caught.value) == [("storage", "echo"), ("outbox", "max_attempts")]


def test_unknown_key_and_table_are_errors(tmp_path):
    path = _write(tmp_path, "[outbox]\nretries = 3\n[mail]\nhost = \"x\"\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    problems = caught.value.problems
    assert [(p.table, p.key) for p in problems] == [("outbox", "retries"), ("mail", "")]
    assert "max_attempts" in problems[0].expected
    assert "[instance]" in problems[1].expected


def test_every_problem_reported_together(tmp_path):
    path = _write(
        tmp_path,
        '[instance]\nlocale = "fr"\ntimezone = "Mars/Olympus"\nbase_url = "ftp://x"\n'
        '[storage]\nsqlite_synchronous = "fast"\n'
        "[outbox]\nmax_attempts = 0\nbase_delay_seconds = 10.0\nmax_delay_seconds = 5.0\ntimeout_seconds = 0\n"
        "[attachments]\nmax_size_mb = 0\n",
    )

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert _problems(caught.value) == [
        ("instance", "locale"),
        ("instance", "timezone"),
        ("instance", "base_url"),
        ("storage", "sqlite_synchronous"),
        ("outbox", "max_attempts"),
        ("outbox", "max_delay_seconds"),
        ("outbox", "timeout_seconds"),
        ("attachments", "max_size_mb"),
    ]
    assert "8 settings are invalid" in str(caught.value)
    assert "'Mars/Olympus'" in str(caught.value)


def test_synchronous_is_case_insensitive(tmp_path):
    path = _write(tmp_path, '[storage]\nsqlite_synchronous = "full"\n')

    assert load_config(path).storage.sqlite_synchronous == "FULL"


def test_relative_paths_resolve_against_file_folder(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    path = _write(folder, '[instance]\ndata_dir = "data"\n[storage]\nurl = "sqlite:///db/wenti.db"\n')

    config = load_config(path)

    assert config.instance.data_dir == (folder / "data").resolve()
    assert config.storage.url == f"sqlite:///{(folder / 'data' / 'db' / 'wenti.db').resolve()}"
    assert config.attachments.path == (folder / "data" / "attachments").resolve()


def test_non_sqlite_url_kept_as_written(tmp_path):
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    path = _write(tmp_path, f'[storage]\nurl = "{url}"\n')

    assert load_config(path).storage.url == url


def test_plugins_table_and_list_items(tmp_path):
    path = _write(tmp_path, '[plugins]\ndisabled = ["a", 3]\nstrict = true\nsla = 1\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert _problems(caught.value) == [("plugins", "sla"), ("plugins", "disabled[1]")]


def test_plugin_table_validated_by_declared_class(tmp_path, wenti_pm, register_plugin, monkeypatch):
    monkeypatch.setenv("WENTI_TEST_SMTP_PASSWORD", "s3cret-口令")
    register_plugin(SmtpPlugin(), "smtp")
    path = _write(
        tmp_path,
        '[plugins.smtp]\nhost = "127.0.0.1"\nport = 2525\npassword = { env = "WENTI_TEST_SMTP_PASSWORD" }\n',
    )

    config = load_config(path, plugin_host=wenti_pm)
    smtp = config.plugin("smtp")

    assert smtp.host == "127.0.0.1"
    assert smtp.port == 2525
    assert smtp.password.reveal() == "s3cret-口令"
    assert "s3cret" not in repr(smtp)
    assert "s3cret" not in config.show()
    assert "WENTI_TEST_SMTP_PASSWORD" in config.show()


def test_plugin_table_unknown_key(tmp_path, wenti_pm, register_plugin):
    register_plugin(SmtpPlugin(), "smtp")
    path = _write(tmp_path, '[plugins.smtp]\nhost = "h"\nprot = 25\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path, plugin_host=wenti_pm)

    assert _problems(caught.value) == [("plugins.smtp", "prot")]
    assert "port" in caught.value.problems[0].expected


def test_plugin_table_missing_required_key(tmp_path, wenti_pm, register_plugin):
    register_plugin(SmtpPlugin(), "smtp")
    path = _write(tmp_path, "[plugins.smtp]\nport = 25\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path, plugin_host=wenti_pm)

    problem = caught.value.problems[0]
    assert (problem.table, problem.key, problem.missing) == ("plugins.smtp", "host", True)
    assert "is missing" in str(caught.value)


def test_missing_secret_variable_named(tmp_path, wenti_pm, register_plugin, monkeypatch):
    monkeypatch.delenv("WENTI_TEST_UNSET_SECRET", raising=False)
    register_plugin(SmtpPlugin(), "smtp")
    path = _write(tmp_path, '[plugins.smtp]\nhost = "h"\npassword = { env = "WENTI_TEST_UNSET_SECRET" }\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path, plugin_host=wenti_pm)

    assert _problems(caught.value) == [("plugins.smtp", "password")]
    assert "WENTI_TEST_UNSET_SECRET" in str(caught.value)
    assert "is not set" in str(caught.value)


def test_table_for_unknown_plugin_is_error(tmp_path, wenti_pm):
    path = _write(tmp_path, '[plugins.smpt]\nhost = "h"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path, plugin_host=wenti_pm)

    assert _problems(caught.value) == [("plugins", "smpt")]
    assert "disabled" in caught.value.problems[0].expected


def test_table_for_disabled_plugin_is_allowed(tmp_path, wenti_pm):
    path = _write(tmp_path, '[plugins]\ndisabled = ["smtp"]\n[plugins.smtp]\nhost = "h"\n')

    config = load_config(path, plugin_host=wenti_pm)

    assert config.plugins.tables == {"smtp": {"host": "h"}}


def test_plugin_without_table_gets_defaults(tmp_path, wenti_pm, register_plugin):
    @attrs.define
    class Quiet:
        level: int = 3

    class QuietPlugin:
        @hookimpl
        def register_config_classes(self):
            return [PluginConfig("quiet", Quiet)]

    register_plugin(QuietPlugin(), "quiet")
    config = load_config(_write(tmp_path, ""), plugin_host=wenti_pm)

    assert config.plugin("quiet") == Quiet(3)


def test_plugin_lookup_without_class_is_error(tmp_path):
    config = Config.default(tmp_path)

    with pytest.raises(ConfigError, match=r"\[plugins.nothing\]"):
        config.plugin("nothing")


def test_secret_repr_redacted():
    secret = Secret("hunter2", env="PASSWORD")

    assert secret.reveal() == "hunter2"
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert "hunter2" not in repr(Secret("hunter2"))


def test_show_redacts_raw_secret_looking_keys(tmp_path, wenti_pm):
    path = _write(tmp_path, '[plugins]\ndisabled = ["erp"]\n[plugins.erp]\napi_key = "abc123"\nurl = "http://127.0.0.1:9"\n')
    config = load_config(path, plugin_host=wenti_pm)

    shown = config.show()

    assert "abc123" not in shown
    assert "http://127.0.0.1:9" in shown
    assert tomllib.loads(shown)["plugins"]["erp"]["api_key"] == "***"


def test_default_file_round_trips(tmp_path):
    path = write_default_config(tmp_path / "inst" / "wenti.toml", instance_name="示例公司", locale="en")

    config = load_config(path)
    text = path.read_text(encoding="utf-8")

    assert config.instance.name == "示例公司"
    assert config.instance.locale == "en"
    assert config.instance.data_dir == (tmp_path / "inst").resolve()
    assert "# " in text
    assert "sqlite_synchronous" in text


def test_default_file_not_overwritten(tmp_path):
    path = _write(tmp_path, "# mine\n")

    with pytest.raises(ConfigError, match="already exists"):
        write_default_config(path)

    assert path.read_text(encoding="utf-8") == "# mine\n"


def test_default_file_rejects_bad_value_writes_nothing(tmp_path):
    target = tmp_path / "wenti.toml"

    with pytest.raises(ConfigError, match="timezone"):
        write_default_config(target, timezone="Asia/Beijing")

    assert not target.exists()


def test_plugin_class_validator_message_kept(tmp_path, wenti_pm, register_plugin):
    def positive(instance, attribute, value):
        if value <= 0:
            raise ValueError(f"{attribute.name} must be a positive number, got {value!r}")

    @attrs.frozen
    class Web:
        port: int = attrs.field(default=8000, validator=positive)

    class WebPlugin:
        @hookimpl
        def register_config_classes(self):
            return [PluginConfig("web_test", Web)]

    register_plugin(WebPlugin(), "web_test")
    path = _write(tmp_path, "[plugins.web_test]\nport = -1\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path, plugin_host=wenti_pm)

    assert _problems(caught.value) == [("plugins", "web_test")]
    assert "port must be a positive number, got -1" in str(caught.value)


def test_error_translated_to_chinese(tmp_path):
    from wenti.i18n import _, use_locale

    path = _write(tmp_path, '[storage]\nsqlite_synchronous = "fast"\n[outbox]\nmax_attempts = 0\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    with use_locale("zh_CN"):
        chinese = caught.value.translated(_)
    with use_locale("en"):
        english = caught.value.translated(_)

    assert "2 settings are invalid" in english
    assert "expected one of OFF, NORMAL, FULL" in english
    assert "个设置无效" in chinese
    assert "应为以下之一：OFF, NORMAL, FULL" in chinese
    assert "'fast'" in chinese


def test_folder_path_reads_its_wenti_toml(tmp_path):
    _write(tmp_path, '[instance]\nname = "folder"\n')

    assert load_config(tmp_path).instance.name == "folder"


def test_folder_without_file_is_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    assert str(tmp_path / "wenti.toml") in str(caught.value)


def test_default_file_includes_plugin_tables(tmp_path):
    path = write_default_config(
        tmp_path / "wenti.toml",
        plugin_tables={"sla": 'preset = "standard"', "odd.name": "enabled = true"},
    )

    raw = tomllib.loads(path.read_text(encoding="utf-8"))

    assert raw["plugins"]["sla"] == {"preset": "standard"}
    assert raw["plugins"]["odd.name"] == {"enabled": True}


def test_storage_url_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("WENTI_TEST_DB_URL", "postgresql+psycopg://wenti:s3cret@127.0.0.1:5432/test")
    path = _write(tmp_path, '[storage]\nurl = { env = "WENTI_TEST_DB_URL" }\n')

    config = load_config(path)
    shown = config.show()

    assert config.storage.url == "postgresql+psycopg://wenti:s3cret@127.0.0.1:5432/test"
    assert "s3cret" not in shown
    assert tomllib.loads(shown.split("\n", 1)[1])["storage"]["url"] == {"env": "WENTI_TEST_DB_URL"}


def test_storage_url_variable_unset(tmp_path, monkeypatch):
    monkeypatch.delenv("WENTI_TEST_DB_URL", raising=False)
    path = _write(tmp_path, '[storage]\nurl = { env = "WENTI_TEST_DB_URL" }\n')

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert _problems(raised.value) == [("storage", "url")]
    assert "WENTI_TEST_DB_URL is not set" in str(raised.value)


def test_invalid_url_from_environment_not_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("WENTI_TEST_DB_URL", "hunter2-not-a-url")
    path = _write(tmp_path, '[storage]\nurl = { env = "WENTI_TEST_DB_URL" }\n')

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert _problems(raised.value) == [("storage", "url")]
    assert "hunter2" not in str(raised.value)
    assert "WENTI_TEST_DB_URL" in str(raised.value)


def test_show_redacts_password_in_written_url(tmp_path):
    path = _write(tmp_path, '[storage]\nurl = "postgresql+psycopg://wenti:s3cret@127.0.0.1:5432/test"\n')

    shown = load_config(path).show()

    assert "s3cret" not in shown
    assert 'url = "postgresql+psycopg://wenti:***@127.0.0.1:5432/test"' in shown


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@127.0.0.1/db", "postgresql://u:***@127.0.0.1/db"),
        ("mysql+pymysql://root@127.0.0.1/test", "mysql+pymysql://root@127.0.0.1/test"),
        ("sqlite:////tmp/wenti.db", "sqlite:////tmp/wenti.db"),
        ("postgresql://u:p@127.0.0.1:bad/db", "postgresql://u:***@127.0.0.1:bad/db"),
    ],
)
def test_redact_url(url, expected):
    from wenti.config import redact_url

    assert redact_url(url) == expected
