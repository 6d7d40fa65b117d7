"""This plugin's gettext domain."""

from __future__ import annotations

from pathlib import Path

from wenti.i18n import Domain

domain = Domain("wenti_web", Path(__file__).parent / "locale")
_ = domain.gettext
ngettext = domain.ngettext


def translate_any(message: str, locale: str | None = None) -> str:
    """Translate a msgid from this plugin's catalog, falling back to core's and other plugins'."""
    from wenti.i18n import translate

    own = domain.gettext(message, locale)
    if own != message:
        return own
    return translate(message, locale)
