"""Validation problems of `wenti.toml`: how cattrs errors and bad values become messages.

`wenti.config` re-exports the public names (`ConfigProblem`, `Text`, `SecretError`).
This module turns a cattrs validation error, or a value that fails a semantic
check, into a `ConfigProblem` naming the file, table, key, value and what is
expected. `raise_problems` raises them together as one `ConfigError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from wenti.errors import ConfigError
from wenti.i18n import N_, SUPPORTED_LOCALES

if TYPE_CHECKING:
    from wenti.config import PluginsConfig, _Sections

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL")

_TABLE_INVALID = N_("{file}: [{table}] is invalid: {expected}")
_KEY_MISSING = N_("{file}: [{table}] {key} is missing: {expected}")
_KEY_INVALID = N_("{file}: [{table}] {key} = {value!r} is invalid: {expected}")


class SecretError(ValueError):
    """An `{ env = "NAME" }` reference names an environment variable that is not set."""

    def __init__(self, variable: str) -> None:
        self.variable = variable
        super().__init__(f"environment variable {variable} is not set; export it before starting wenti")


class Text(str):
    """An English message that translates itself when it is formatted.

    String operations (`in`, `==`, `startswith`) see the English text, so code and
    tests can inspect it. `format()` and f-strings give the text in the current
    locale from the core catalog, which is how a `ConfigError` reaches the user in
    their language.
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Text:
        # Nested texts go into the English value in English, never translated.
        english = {name: str.__str__(value) if isinstance(value, str) else value for name, value in params.items()}
        text = super().__new__(cls, msgid.format(**english) if params else msgid)
        text.msgid = msgid
        text.params = params
        return text

    def __format__(self, spec: str) -> str:
        from wenti.i18n import translate

        template = translate(self.msgid)
        return format(template.format(**self.params) if self.params else template, spec)


@attrs.frozen
class ConfigProblem:
    """One invalid setting. `value` is None with `missing` set when the key is absent."""

    file: str
    table: str
    key: str
    value: Any
    expected: str
    missing: bool = False

    def describe(self) -> str:
        """Return the problem as one line in the current locale."""
        return format(self.text())

    def text(self) -> Text:
        if not self.key:
            return Text(_TABLE_INVALID, file=self.file, table=self.table, expected=self.expected)
        if self.missing:
            return Text(_KEY_MISSING, file=self.file, table=self.table, key=self.key, expected=self.expected)
        return Text(_KEY_INVALID, file=self.file, table=self.table, key=self.key, value=self.value, expected=self.expected)


def structure(
    converter: Any,
    data: Any,
    cls: type,
    file_label: str,
    prefix: tuple[str | int, ...],
    raw_root: dict[str, Any],
    problems: list[ConfigProblem],
) -> Any:
    """Structure `data` into `cls`, turning every cattrs error into a `ConfigProblem`."""
    import cattrs

    try:
        return converter.structure(data, cls)
    except (cattrs.ClassValidationError, cattrs.IterableValidationError) as error:
        for path, leaf, expected_type in _walk_errors(error, prefix, cls):
            problems.extend(_describe_error(file_label, path, leaf, expected_type, raw_root))
    except (TypeError, ValueError, KeyError) as error:
        problems.append(_problem_at(file_label, prefix, raw_root, _expected_text(error, cls)))
    return None


def _walk_errors(
    error: BaseException, path: tuple[str | int, ...], expected_type: Any = None
) -> list[tuple[tuple[str | int, ...], BaseException, Any]]:
    """Flatten a cattrs validation group into (path, leaf exception, expected type) triples."""
    import cattrs
    from cattrs.errors import AttributeValidationNote, IterableValidationNote

    if not isinstance(error, (cattrs.ClassValidationError, cattrs.IterableValidationError)):
        return [(path, error, expected_type)]

    found: list[tuple[tuple[str | int, ...], BaseException, Any]] = []
    with_notes, without_notes = error.group_exceptions()
    for sub_error, note in with_notes:
        if isinstance(note, AttributeValidationNote):
            found.extend(_walk_errors(sub_error, (*path, note.name), note.type))
        elif isinstance(note, IterableValidationNote):
            found.extend(_walk_errors(sub_error, (*path, note.index), note.type))
        else:
            found.extend(_walk_errors(sub_error, path, expected_type))
    for sub_error in without_notes:
        found.extend(_walk_errors(sub_error, path, expected_type))
    return found


def _describe_error(
    file_label: str,
    path: tuple[str | int, ...],
    error: BaseException,
    expected_type: Any,
    raw_root: dict[str, Any],
) -> list[ConfigProblem]:
    from cattrs.errors import ForbiddenExtraKeysError

    if isinstance(error, ForbiddenExtraKeysError):
        allowed = ", ".join(field.name for field in attrs.fields(error.cl)) or "none"
        problems = []
        for extra in sorted(error.extra_fields):
            expected = Text(N_("unknown key; [{table}] accepts {keys}"), table=_table_name(path), keys=allowed)
            if not path:
                expected = Text(
                    N_("unknown table; the file accepts [instance], [storage], [plugins], [outbox], [attachments]")
                )
            problems.append(_problem_at(file_label, (*path, extra), raw_root, expected))
        return problems

    if isinstance(error, KeyError):
        located = _problem_at(file_label, path, raw_root, Text(N_("expected a value; this key is required")))
        return [attrs.evolve(located, value=None, missing=True)]

    if isinstance(error, SecretError):
        unset = Text(N_("environment variable {variable} is not set; export it before starting wenti"), variable=error.variable)
        return [_problem_at(file_label, path, raw_root, unset)]

    if attrs.has(expected_type) and isinstance(error, ValueError):
        # A validator of the class rejected the combination of values.
        checked = Text(N_("{error} (checked by {check})"), error=str(error), check=expected_type.__name__)
        return [_problem_at(file_label, path, raw_root, checked)]

    return [_problem_at(file_label, path, raw_root, _expected_text(error, expected_type))]


def _problem_at(file_label: str, path: tuple[str | int, ...], raw_root: dict[str, Any], expected: str) -> ConfigProblem:
    """Build a problem for the value at `path`, split into its TOML table and key.

    The table is the longest proper prefix of `path` that is a table in the file,
    so a list item reads `[plugins] disabled[1]` and an inline table such as
    `{ env = "NAME" }` is reported as the key that contains it.
    """
    value = _lookup(raw_root, path)
    if len(path) <= 1:
        # A whole top-level table is wrong (unknown, or not a table at all).
        return ConfigProblem(file_label, str(path[0]) if path else "", "", value, expected)

    split = 1
    for index in range(len(path) - 1, 0, -1):
        if isinstance(_lookup(raw_root, path[:index]), dict):
            split = index
            break
    return ConfigProblem(file_label, _table_name(path[:split]), _table_name(path[split:]), value, expected)


def _table_name(path: tuple[str | int, ...]) -> str:
    name = ""
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else part
    return name


def _lookup(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _expected_text(error: BaseException, expected_type: Any) -> str:
    import enum

    if isinstance(expected_type, type) and issubclass(expected_type, enum.Enum):
        return _one_of(str(member.value) for member in expected_type)
    kind = _KIND_NAMES.get(expected_type)
    if kind is not None and isinstance(error, TypeError):
        return Text(N_("expected {kind}"), kind=Text(kind))
    type_name = getattr(expected_type, "__name__", None) or str(expected_type)
    detail = str(error) or type(error).__name__
    if detail.startswith("expected"):
        return Text(detail)
    return Text(N_("expected {kind} ({detail})"), kind=type_name, detail=detail)


_KIND_NAMES = {
    str: N_("a string"),
    int: N_("an integer"),
    float: N_("a number"),
    bool: N_("true or false"),
    Path: N_("a path string"),
}


def _one_of(choices: Any) -> Text:
    return Text(N_("expected one of {choices}"), choices=", ".join(choices))


_POSITIVE_SECONDS = N_("expected a number of seconds greater than 0")


def check_values(sections: _Sections, plugins: PluginsConfig, file_label: str, problems: list[ConfigProblem]) -> None:
    def problem(table: str, key: str, value: Any, expected: Text) -> None:
        problems.append(ConfigProblem(file_label, table, key, value, expected))

    instance = sections.instance
    if instance.locale not in SUPPORTED_LOCALES:
        problem("instance", "locale", instance.locale, _one_of(SUPPORTED_LOCALES))
    try:
        ZoneInfo(instance.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problem("instance", "timezone", instance.timezone, Text(N_("expected an IANA time zone name such as Asia/Shanghai")))
    base = urlsplit(instance.base_url)
    if base.scheme not in ("http", "https") or not base.netloc:
        problem("instance", "base_url", instance.base_url, Text(N_("expected an http:// or https:// URL such as http://127.0.0.1:8000")))
    if not instance.name.strip():
        problem("instance", "name", instance.name, Text(N_("expected a non-empty name")))

    storage = sections.storage
    if "://" not in storage.url:
        problem(
            "storage",
            "url",
            storage.url,
            Text(N_("expected a database URL such as sqlite:///wenti.db or postgresql+psycopg://wenti@127.0.0.1/wenti")),
        )
    synchronous = storage.sqlite_synchronous.upper()
    if synchronous not in SYNCHRONOUS_MODES:
        problem("storage", "sqlite_synchronous", storage.sqlite_synchronous, _one_of(SYNCHRONOUS_MODES))
    storage.sqlite_synchronous = synchronous

    outbox = sections.outbox
    if outbox.max_attempts < 1:
        problem("outbox", "max_attempts", outbox.max_attempts, Text(N_("expected an integer of at least 1")))
    if outbox.base_delay_seconds <= 0:
        problem("outbox", "base_delay_seconds", outbox.base_delay_seconds, Text(_POSITIVE_SECONDS))
    if outbox.max_delay_seconds < outbox.base_delay_seconds:
        problem(
            "outbox",
            "max_delay_seconds",
            outbox.max_delay_seconds,
            Text(N_("expected a number of seconds at least base_delay_seconds ({base})"), base=outbox.base_delay_seconds),
        )
    if outbox.timeout_seconds <= 0:
        problem("outbox", "timeout_seconds", outbox.timeout_seconds, Text(_POSITIVE_SECONDS))

    attachments = sections.attachments
    if attachments.max_size_mb < 1:
        problem("attachments", "max_size_mb", attachments.max_size_mb, Text(N_("expected an integer number of megabytes of at least 1")))
    if not attachments.store.strip():
        problem("attachments", "store", attachments.store, Text(N_("expected the name of a blob store such as filesystem")))

    for key in ("disabled", "enabled"):
        for index, name in enumerate(getattr(plugins, key) or []):
            if not name.strip() or name != name.strip():
                problem("plugins", f"{key}[{index}]", name, Text(N_("expected a plugin's entry-point name without spaces")))


def raise_problems(problems: list[ConfigProblem]) -> None:
    if not problems:
        return
    if len(problems) == 1:
        only = problems[0]
        if not only.key:
            error = ConfigError(_TABLE_INVALID, file=only.file, table=only.table, expected=only.expected)
        elif only.missing:
            error = ConfigError(
                _KEY_MISSING,
                file=only.file,
                table=only.table,
                key=only.key,
                expected=only.expected,
            )
        else:
            error = ConfigError(file=only.file, table=only.table, key=only.key, value=only.value, expected=only.expected)
    else:
        error = ConfigError(
            N_("{file}: {count} settings are invalid:\n{details}"),
            file=problems[0].file,
            count=len(problems),
            details=_Lines([problem.text() for problem in problems]),
        )
    error.problems = list(problems)  # type: ignore[attr-defined]
    raise error


class _Lines(str):
    """Problem lines that translate when formatted, like `Text`."""

    def __new__(cls, lines: list[Text]) -> _Lines:
        joined = super().__new__(cls, "\n".join(f"  - {str.__str__(line)}" for line in lines))
        joined.lines = lines
        return joined

    def __format__(self, spec: str) -> str:
        return format("\n".join(f"  - {line}" for line in self.lines), spec)
