"""Translation of everything a person reads.

Each distribution (core and every plugin) keeps its own gettext catalog under
`<package>/locale/<lang>/LC_MESSAGES/<domain>.po`. Catalogs are read from the `.po`
files with Babel and compiled in memory on first use, so no compiled `.mo` file can
fall out of date.

Usage in a module::

    from wenti.i18n import Domain

    _ = Domain("wenti_web", Path(__file__).parent / "locale").gettext

    _("Issue {key} created.").format(key=issue.key)

`_()` translates into the current locale, set per request or command with
`use_locale()`; the default is `zh_CN`. `N_()` marks a string for extraction without
translating it, for messages translated later (such as `WentiError.message_id`).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "zh_CN"
SUPPORTED_LOCALES = ("zh_CN", "en")

_current_locale: contextvars.ContextVar[str] = contextvars.ContextVar("wenti_locale", default=DEFAULT_LOCALE)


def normalize_locale(value: str | None) -> str:
    """Map `zh`, `zh-CN`, `zh_Hans`, `en-US` and similar to a supported locale."""
    if not value:
        return DEFAULT_LOCALE
    lowered = value.replace("-", "_").lower()
    if lowered.startswith("zh"):
        return "zh_CN"
    if lowered.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def current_locale() -> str:
    return _current_locale.get()


@contextlib.contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Translate into `locale` inside the block (per thread and per asyncio task)."""
    token = _current_locale.set(normalize_locale(locale))
    try:
        yield _current_locale.get()
    finally:
        _current_locale.reset(token)


def set_locale(locale: str | None) -> None:
    """Set the locale for the rest of this context (the CLI sets it once at start)."""
    _current_locale.set(normalize_locale(locale))


def N_(message: str) -> str:
    """Mark `message` for extraction; translate it later with a domain's `gettext`."""
    return message


class Domain:
    """One gettext domain: a package's catalogs in every supported locale."""

    def __init__(self, name: str, locale_dir: Path | str) -> None:
        self.name = name
        self.locale_dir = Path(locale_dir)
        self._translations: dict[str, NullTranslations] = {}
        self._lock = threading.Lock()
        _DOMAINS[name] = self

    def translations(self, locale: str | None = None) -> NullTranslations:
        locale = normalize_locale(locale or current_locale())
        cached = self._translations.get(locale)
        if cached is not None:
            return cached
        with self._lock:
            if locale not in self._translations:
                self._translations[locale] = self._load(locale)
            return self._translations[locale]

    def _load(self, locale: str) -> NullTranslations:
        po_path = self.locale_dir / locale / "LC_MESSAGES" / f"{self.name}.po"
        if not po_path.exists():
            # English msgids are the source text, so a missing `en` catalog is harmless;
            # a missing zh_CN catalog is a packaging error worth a warning.
            if locale != "en":
                log.warning("no %s catalog for domain %s at %s", locale, self.name, po_path)
            return NullTranslations()
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(buffer, domain=self.name)

    def gettext(self, message: str, locale: str | None = None) -> str:
        return self.translations(locale).gettext(message)

    def ngettext(self, singular: str, plural: str, count: int, locale: str | None = None) -> str:
        return self.translations(locale).ngettext(singular, plural, count)


_DOMAINS: dict[str, Domain] = {}

core = Domain("wenti", Path(__file__).parent / "locale")
_ = core.gettext


def translate(message: str, locale: str | None = None) -> str:
    """Translate a message from any registered domain, trying core first."""
    for domain in (core, *[d for d in _DOMAINS.values() if d is not core]):
        translated = domain.gettext(message, locale)
        if translated != message:
            return translated
    return message
