"""Every message marked in wenti-core has a Chinese translation and an English catalog entry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import wenti

PACKAGE = Path(wenti.__file__).parent


def _marked_messages(path: Path) -> list[tuple[int, str]]:
    """Return the line and text of every literal passed to N_() or _() in `path`."""
    messages = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or getattr(node.func, "id", None) not in ("N_", "_"):
            continue
        if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            messages.append((node.lineno, node.args[0].value))
    return messages


# Every module of the package that marks at least one message.
SOURCES = sorted(path for path in PACKAGE.rglob("*.py") if _marked_messages(path))


def _catalog(locale: str):
    with open(PACKAGE / "locale" / locale / "LC_MESSAGES" / "wenti.po", "rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("source", SOURCES, ids=[str(source.relative_to(PACKAGE)) for source in SOURCES])
def test_messages_in_catalogs(source: Path) -> None:
    chinese = _catalog("zh_CN")
    english = _catalog("en")
    messages = _marked_messages(source)

    untranslated = [f"{source.name}:{line}: {text}" for line, text in messages if not (chinese.get(text) and chinese.get(text).string)]
    missing_in_english = [f"{source.name}:{line}: {text}" for line, text in messages if english.get(text) is None]

    assert messages
    assert untranslated == []
    assert missing_in_english == []
