"""The instance configuration: one TOML file, `wenti.toml`, validated into attrs classes.

Where the file comes from, first match wins: the `path` argument, `$WENTI_CONFIG`,
`./wenti.toml`; with none of them the built-in defaults apply. Relative paths in the
file (`data_dir`, a relative SQLite path, `attachments.path`) are resolved against
the folder of the file, or against the current directory when there is no file.

Sections: `[instance]`, `[storage]`, `[plugins]`, `[outbox]`, `[attachments]`, and
one `[plugins.<name>]` table per plugin. A plugin declares the attrs class of its
table through the `register_config_classes` hook. `Config.validate_plugin_tables`
checks every table once plugins are loaded, and `Config.plugin(name)` returns the
validated object.

Every problem raises `wenti.errors.ConfigError` naming the file, the table, the key,
the bad value and what is expected; when a file has several problems, the error
lists them all and `error.problems` holds each one as a `ConfigProblem`.

Secrets are written by reference, `api_key = { env = "WENTI_SAP_KEY" }`, and read
from the environment when the file is loaded. A field typed `Secret` keeps the value
out of `repr()` and out of `Config.show()`.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import attrs
import tomli_w

# ConfigProblem, SecretError, Text and SYNCHRONOUS_MODES are part of this module's API.
from wenti._config_problems import (
    SYNCHRONOUS_MODES,
    ConfigProblem,
    SecretError,
    Text,
    check_values,
    raise_problems,
    structure,
)
from wenti.errors import ConfigError
from wenti.i18n import N_

if TYPE_CHECKING:
    from wenti.plugins import PluginHost

log = logging.getLogger(__name__)

CONFIG_FILENAME = "wenti.toml"
ENV_CONFIG = "WENTI_CONFIG"
ENV_DISABLE_PLUGINS = "WENTI_DISABLE_PLUGINS"
ENV_LOAD_PLUGINS = "WENTI_LOAD_PLUGINS"
ENV_TRACE_HOOKS = "WENTI_TRACE_HOOKS"
ENV_STRICT_PLUGINS = "WENTI_STRICT_PLUGINS"

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


# Keys of the [plugins] table itself; every other key there is a plugin's table.
_PLUGINS_KEYS = ("disabled", "enabled", "strict")

# Keys whose plain-string values `show()` hides in tables no config class describes.
_SECRET_KEY_PATTERN = re.compile(r"(secret|password|passwd|token|api_?key|private_?key|dsn|credential)", re.I)


@attrs.frozen(repr=False)
class Secret:
    """A secret setting: its value is read with `reveal()` and never shown.

    `env` is the name of the environment variable it came from, or None when the
    file held the value itself.
    """

    value: str = attrs.field(repr=False)
    env: str | None = None

    REDACTED: ClassVar[str] = "***"

    def reveal(self) -> str:
        return self.value

    def __repr__(self) -> str:
        if self.env is not None:
            return f"Secret(env={self.env!r})"
        return f"Secret({self.REDACTED!r})"

    __str__ = __repr__


@attrs.define
class InstanceConfig:
    name: str = "wenti"
    locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    data_dir: Path = Path(".")
    base_url: str = DEFAULT_BASE_URL


@attrs.define
class StorageConfig:
    """`url` is a SQLAlchemy-style database URL; empty means `sqlite:///<data_dir>/wenti.db`.

    `sqlite_synchronous` is SQLite's `PRAGMA synchronous` in WAL mode: NORMAL survives
    a process crash but may lose the last commits on power loss; FULL fsyncs every
    commit and loses nothing, at a lower commit rate.
    """

    url: str = ""
    sqlite_synchronous: str = "NORMAL"
    echo: bool = False


@attrs.define
class PluginsConfig:
    """The `[plugins]` table: which plugins load, and every plugin's own table.

    `disabled` and `enabled` list entry-point names, and `enabled = None` loads
    all. `tables` maps plugin names to their raw `[plugins.<name>]` tables.
    """

    disabled: list[str] = attrs.Factory(list)
    enabled: list[str] | None = None
    strict: bool = False
    tables: dict[str, dict[str, Any]] = attrs.Factory(dict)


@attrs.define
class OutboxConfig:
    """Retry schedule of event deliveries; the delay doubles per attempt up to the maximum."""

    max_attempts: int = 8
    base_delay_seconds: float = 2.0
    max_delay_seconds: float = 3600.0
    timeout_seconds: float = 10.0


@attrs.define
class AttachmentsConfig:
    """`store` names a blob store registered by a plugin; `path` is for the filesystem store."""

    store: str = "filesystem"
    max_size_mb: int = 20
    path: Path | None = None


@attrs.define
class _Sections:
    """The fixed sections of the file, structured in one pass so unknown tables are caught."""

    instance: InstanceConfig = attrs.Factory(InstanceConfig)
    storage: StorageConfig = attrs.Factory(StorageConfig)
    outbox: OutboxConfig = attrs.Factory(OutboxConfig)
    attachments: AttachmentsConfig = attrs.Factory(AttachmentsConfig)


@attrs.define
class Config:
    """A loaded, validated configuration. Build it with `load_config` or `Config.default`."""

    path: Path | None
    instance: InstanceConfig
    storage: StorageConfig
    plugins: PluginsConfig
    outbox: OutboxConfig
    attachments: AttachmentsConfig
    raw: dict[str, Any] = attrs.Factory(dict)
    # Name of the environment variable `[storage] url = { env = "..." }` named, if any.
    storage_url_env: str | None = None
    _host: PluginHost | None = attrs.field(default=None, init=False, repr=False)
    _plugin_configs: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False)

    @classmethod
    def default(cls, data_dir: str | Path | None = None) -> Config:
        """Build the defaults for an instance whose files live in `data_dir` (default: cwd)."""
        base = Path(data_dir) if data_dir is not None else Path.cwd()
        return _build(raw={}, path=None, base_dir=base.resolve())

    @property
    def file_label(self) -> str:
        """The file name used in error messages."""
        return str(self.path) if self.path is not None else "(built-in defaults)"

    def plugin(self, name: str) -> Any:
        """Return the validated config object of `[plugins.<name>]`.

        When the file has no such table, the object is built from the class's
        defaults. Raises `ConfigError` when no loaded plugin declares a config class
        named `name`, or when the table is invalid.
        """
        cached = self._plugin_configs.get(name)
        if cached is not None:
            return cached

        classes = self._config_classes()
        config_class = classes.get(name)
        if config_class is None:
            raise ConfigError(
                N_(
                    "{file}: no loaded plugin declares a config class for [plugins.{plugin}]. "
                    "Check the plugin name and that the plugin is installed and enabled."
                ),
                file=self.file_label,
                plugin=name,
            )

        problems: list[ConfigProblem] = []
        value = _structure_plugin_table(self, name, config_class, problems)
        raise_problems(problems)
        self._plugin_configs[name] = value
        return value

    def validate_plugin_tables(self, host: PluginHost) -> None:
        """Validate every `[plugins.<name>]` table against the loaded plugins.

        A table is checked against the config class its plugin declares; unknown
        keys are errors. A table for a plugin that is not loaded is an error unless
        that plugin is disabled or failed to load (its failure is reported already).
        All problems are raised together in one `ConfigError`.
        """
        self._host = host
        self._plugin_configs.clear()
        classes = self._config_classes()
        skipped = {status.name for status in host.statuses if status.status in ("disabled", "failed")}
        skipped.update(self.plugins.disabled)
        active = {status.name for status in host.statuses if status.status == "active"}

        problems: list[ConfigProblem] = []
        for name in sorted(self.plugins.tables):
            config_class = classes.get(name)
            if config_class is not None:
                value = _structure_plugin_table(self, name, config_class, problems)
                if value is not None:
                    self._plugin_configs[name] = value
            elif name in skipped:
                log.debug("config table [plugins.%s] not validated: the plugin is disabled or failed", name)
            elif name in active:
                problems.append(
                    ConfigProblem(
                        self.file_label,
                        "plugins",
                        name,
                        self.plugins.tables[name],
                            Text(N_("plugin {plugin} accepts no settings; remove the [plugins.{plugin}] table"), plugin=name),
                    )
                )
            else:
                known = ", ".join(sorted(active)) or "none"
                problems.append(
                    ConfigProblem(
                        self.file_label,
                        "plugins",
                        name,
                        self.plugins.tables[name],
                        Text(
                            N_(
                                "no installed plugin is named {plugin} (loaded plugins: {known}); "
                                "fix the table name, install the plugin, or add {plugin!r} to [plugins] disabled"
                            ),
                            plugin=name,
                            known=known,
                        ),
                    )
                )
        raise_problems(problems)

    def show(self) -> str:
        """Return the effective configuration as TOML, with every secret redacted."""
        from wenti.converter import make_converter

        converter = make_converter()
        document: dict[str, Any] = {
            "instance": converter.unstructure(self.instance),
            "storage": self._storage_for_show(converter.unstructure(self.storage)),
            "plugins": {
                "disabled": list(self.plugins.disabled),
                "strict": self.plugins.strict,
            },
            "outbox": converter.unstructure(self.outbox),
            "attachments": converter.unstructure(self.attachments),
        }
        if self.plugins.enabled is not None:
            document["plugins"]["enabled"] = list(self.plugins.enabled)

        for name in sorted(self.plugins.tables):
            validated = self._plugin_configs.get(name)
            if validated is not None:
                document["plugins"][name] = converter.unstructure(validated)
            else:
                document["plugins"][name] = _redact_raw(self.plugins.tables[name])

        header = Text(N_("# Effective configuration of {file}; secrets are redacted."), file=self.file_label)
        return f"{header}\n" + tomli_w.dumps(_toml_ready(document))

    def _storage_for_show(self, storage: dict[str, Any]) -> dict[str, Any]:
        if self.storage_url_env is not None:
            storage["url"] = {"env": self.storage_url_env}
        else:
            storage["url"] = redact_url(storage["url"])
        return storage

    def _config_classes(self) -> dict[str, type]:
        if self._host is None:
            return {}
        return {record.name: record.config_class for record in self._host.hooks.config_classes()}


def load_config(path: str | Path | None = None, plugin_host: PluginHost | None = None) -> Config:
    """Find, read and validate the configuration file.

    With `plugin_host`, the `[plugins.<name>]` tables are validated too; otherwise
    call `Config.validate_plugin_tables(host)` after loading plugins.

    Raises `ConfigError` when a named file (argument or `$WENTI_CONFIG`) does not
    exist, is not valid TOML, or contains invalid settings.
    """
    config_path = _find_config_file(path)
    if config_path is None:
        config = Config.default(Path.cwd())
    else:
        raw = _read_toml(config_path)
        config = _build(raw=raw, path=config_path, base_dir=config_path.parent)
        log.info("configuration loaded from %s", config_path)

    if plugin_host is not None:
        config.validate_plugin_tables(plugin_host)
    return config


def env_plugin_list(variable: str) -> list[str] | None:
    """Read a comma-separated list of plugin names; None when the variable is unset.

    An empty value gives an empty list, so `WENTI_LOAD_PLUGINS=` loads no plugins.
    """
    value = os.environ.get(variable)
    if value is None:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


def _find_config_file(path: str | Path | None) -> Path | None:
    if path is not None:
        candidate = Path(path)
        source = Text(N_("the --config option"))
    elif os.environ.get(ENV_CONFIG):
        candidate = Path(os.environ[ENV_CONFIG])
        source = f"${ENV_CONFIG}"
    else:
        default = Path.cwd() / CONFIG_FILENAME
        return default.resolve() if default.is_file() else None

    if candidate.is_dir():
        # `--config /srv/wenti` names the instance folder; read its wenti.toml.
        candidate = candidate / CONFIG_FILENAME
    if not candidate.is_file():
        raise ConfigError(
            N_(
                "{file}: the configuration file named by {source} does not exist. "
                "Create it with `wenti init` or correct the path."
            ),
            file=str(candidate),
            source=source,
        )
    return candidate.resolve()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            N_("{file}: not valid TOML: {error}. Fix the syntax at that line."),
            file=str(path),
            error=str(error),
        ) from error
    except UnicodeDecodeError as error:
        raise ConfigError(N_("{file}: not valid UTF-8 text; save the file as UTF-8."), file=str(path)) from error


def _build(raw: dict[str, Any], path: Path | None, base_dir: Path) -> Config:
    from wenti.converter import make_converter

    file_label = str(path) if path is not None else "(built-in defaults)"
    problems: list[ConfigProblem] = []
    sections_raw = {key: value for key, value in raw.items() if key != "plugins"}
    storage_url_env = _resolve_storage_url_reference(sections_raw, file_label, problems)

    sections = structure(make_converter(strict=True), sections_raw, _Sections, file_label, (), raw, problems)
    plugins = _structure_plugins(raw.get("plugins", {}), file_label, problems)
    raise_problems(problems)
    assert sections is not None and plugins is not None

    _resolve_paths(sections, base_dir)
    check_values(sections, plugins, file_label, problems)
    if storage_url_env is not None:
        # Report the reference, never the secret value read from the environment.
        reference = {"env": storage_url_env}
        problems = [
            attrs.evolve(problem, value=reference) if (problem.table, problem.key) == ("storage", "url") else problem
            for problem in problems
        ]
    raise_problems(problems)

    return Config(
        path=path,
        instance=sections.instance,
        storage=sections.storage,
        plugins=plugins,
        outbox=sections.outbox,
        attachments=sections.attachments,
        raw=raw,
        storage_url_env=storage_url_env,
    )


def _resolve_storage_url_reference(sections_raw: dict[str, Any], file_label: str, problems: list[ConfigProblem]) -> str | None:
    """Replace `[storage] url = { env = "NAME" }` in `sections_raw` by the variable's value.

    Returns the variable's name, or None when the URL is written in the file. An
    unset variable is added to `problems`. A URL usually holds the database
    password, which is why it may be kept out of the file.
    """
    storage = sections_raw.get("storage")
    if not isinstance(storage, dict):
        return None
    reference = storage.get("url")
    if not (isinstance(reference, dict) and set(reference) == {"env"} and isinstance(reference["env"], str)):
        return None

    variable = reference["env"]
    value = os.environ.get(variable)
    if value is None:
        unset = Text(N_("environment variable {variable} is not set; export it before starting wenti"), variable=variable)
        problems.append(ConfigProblem(file_label, "storage", "url", reference, unset))
        value = ""
    sections_raw["storage"] = {**storage, "url": value}
    return variable


def redact_url(url: str) -> str:
    """Hide the password of a URL such as `postgresql://wenti:secret@127.0.0.1/wenti`.

    Used wherever a database URL is shown or logged.
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        # An unparsable URL (for example a bad port) may still hold a password.
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    if password is None:
        return url
    netloc = parts.netloc.replace(f":{password}@", f":{Secret.REDACTED}@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _structure_plugins(raw_plugins: Any, file_label: str, problems: list[ConfigProblem]) -> PluginsConfig | None:
    from wenti.converter import make_converter

    if not isinstance(raw_plugins, dict):
        problems.append(ConfigProblem(file_label, "plugins", "", raw_plugins, Text(N_("expected a table: [plugins]"))))
        return None

    own = {key: value for key, value in raw_plugins.items() if key in _PLUGINS_KEYS}
    tables: dict[str, dict[str, Any]] = {}
    for key, value in raw_plugins.items():
        if key in _PLUGINS_KEYS:
            continue
        if isinstance(value, dict):
            tables[key] = value
        else:
            problems.append(
                ConfigProblem(
                    file_label,
                    "plugins",
                    key,
                    value,
                    Text(
                        N_("unknown key; [plugins] accepts {keys} and [plugins.<name>] tables"),
                        keys=", ".join(_PLUGINS_KEYS),
                    ),
                )
            )

    structured = structure(
        make_converter(strict=True), own, PluginsConfig, file_label, ("plugins",), {"plugins": raw_plugins}, problems
    )
    if structured is None:
        return None
    structured.tables = tables
    return structured


def _structure_plugin_table(config: Config, name: str, config_class: type, problems: list[ConfigProblem]) -> Any:
    from wenti.converter import make_converter

    table = config.plugins.tables.get(name, {})
    return structure(
        make_converter(strict=True),
        table,
        config_class,
        config.file_label,
        ("plugins", name),
        {"plugins": {name: table}},
        problems,
    )


def _resolve_paths(sections: _Sections, base_dir: Path) -> None:
    instance = sections.instance
    data_dir = instance.data_dir if instance.data_dir.is_absolute() else base_dir / instance.data_dir
    instance.data_dir = data_dir.resolve()

    if not sections.storage.url:
        sections.storage.url = f"sqlite:///{instance.data_dir / 'wenti.db'}"
    else:
        sections.storage.url = _resolve_sqlite_url(sections.storage.url, instance.data_dir)

    attachments = sections.attachments
    if attachments.path is None:
        attachments.path = instance.data_dir / "attachments"
    elif not attachments.path.is_absolute():
        attachments.path = (instance.data_dir / attachments.path).resolve()


def _resolve_sqlite_url(url: str, data_dir: Path) -> str:
    """Make a relative SQLite file path absolute, relative to the data folder.

    SQLAlchemy reads `sqlite:///wenti.db` relative to the process's working
    directory; an instance should not depend on where it was started from.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.split("+")[0] != "sqlite" or not rest.startswith("/"):
        return url
    file_part, query_mark, query = rest[1:].partition("?")
    if file_part in ("", ":memory:") or Path(file_part).is_absolute():
        return url
    absolute = (data_dir / file_part).resolve()
    return f"{scheme}:///{absolute}{query_mark}{query}"


def _redact_raw(table: dict[str, Any]) -> dict[str, Any]:
    redacted: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            redacted[key] = _redact_raw(value)
        elif isinstance(value, str) and _SECRET_KEY_PATTERN.search(key):
            redacted[key] = Secret.REDACTED
        else:
            redacted[key] = value
    return redacted


def _toml_ready(value: Any) -> Any:
    """Drop None values (TOML has no null) and turn paths into strings."""
    if isinstance(value, dict):
        return {key: _toml_ready(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_toml_ready(item) for item in value if item is not None]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Secret):
        return {"env": value.env} if value.env else Secret.REDACTED
    return value


def write_default_config(
    path: str | Path,
    *,
    instance_name: str = "wenti",
    locale: str = "zh_CN",
    timezone: str = "Asia/Shanghai",
    storage_url: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    overwrite: bool = False,
    plugin_tables: Mapping[str, str] | None = None,
) -> Path:
    """Write a commented `wenti.toml` with the defaults, for `wenti init`.

    `plugin_tables` maps plugin names to the TOML their `PluginConfig.template`
    gives; each becomes a `[plugins.<name>]` table. The data folder is the folder
    of the file. Raises `ConfigError` when the file
    exists and `overwrite` is false, or when a given value is invalid; nothing is
    written then.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise ConfigError(
            N_("{file}: the file already exists. Remove it, choose another folder, or pass overwrite."),
            file=str(target),
        )

    text = _DEFAULT_TEMPLATE.format(
        name=_toml_value(instance_name),
        locale=_toml_value(locale),
        timezone=_toml_value(timezone),
        base_url=_toml_value(base_url),
        storage_url=(f"url = {_toml_value(storage_url)}" if storage_url else '# url = "sqlite:///wenti.db"'),
    )
    for name, table in sorted((plugin_tables or {}).items()):
        text += f"\n[plugins.{_toml_key(name)}]\n{table.strip()}\n"

    # Validate before writing, so an invalid argument leaves no half-made file behind.
    _build(raw=tomllib.loads(text), path=target, base_dir=target.parent.resolve())

    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
    return target


def _toml_value(value: Any) -> str:
    return tomli_w.dumps({"v": value}).strip()[len("v = ") :]


def _toml_key(key: str) -> str:
    """A bare TOML key when `key` allows one, else a quoted key."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


_DEFAULT_TEMPLATE = """\
# wenti instance configuration. Reference: docs/configuration.md
# Relative paths are resolved against the folder of this file.

[instance]
name = {name}
# Language of the interface for new users: "zh_CN" or "en".
locale = {locale}
# IANA time zone used to show times; timestamps are stored in UTC.
timezone = {timezone}
# Folder for the database, attachments and other instance files.
data_dir = "."
# Address people use to reach the web interface; links in notifications use it.
base_url = {base_url}

[storage]
# Database URL. Default: a SQLite file wenti.db in data_dir.
{storage_url}
# SQLite durability: NORMAL survives a process crash but may lose the last
# commits on power loss; FULL loses nothing and commits more slowly.
sqlite_synchronous = "NORMAL"
# Log every SQL statement (for debugging only).
echo = false

[plugins]
# Entry-point names of installed plugins that must not be loaded.
disabled = []
# Uncomment to load only the listed plugins.
# enabled = ["sql", "web"]
# Stop at start-up when a plugin fails to load, instead of skipping it.
strict = false

# Each plugin reads its own table, for example:
# [plugins.notify-email]
# host = "smtp.example.com"
# password = {{ env = "WENTI_SMTP_PASSWORD" }}

[outbox]
# Deliveries to plugins (notifications, webhooks) are retried with a delay
# that doubles per attempt, from base_delay_seconds up to max_delay_seconds.
max_attempts = 8
base_delay_seconds = 2.0
max_delay_seconds = 3600.0
# Time allowed for one delivery attempt.
timeout_seconds = 10.0

[attachments]
# Blob store for attachment files; "filesystem" keeps them under path.
store = "filesystem"
max_size_mb = 20
path = "attachments"
"""
