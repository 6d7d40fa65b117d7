"""Each example in docs/plugin-hooks.md is a valid plugin module for its hook."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from wenti.hooks import registration_hooks
from wenti.testing import make_plugin_host

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "plugin-hooks.md"


def _sections() -> dict[str, str]:
    """Map each hook name to the first Python code block of its section."""
    text = DOC.read_text(encoding="utf-8")
    sections = {}
    for match in re.finditer(r"^## (\w+)\((.*?)\)\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL):
        code = re.search(r"```python\n(.*?)```", match.group(3), flags=re.DOTALL)
        assert code is not None, f"section {match.group(1)} has no Python example"
        sections[match.group(1)] = code.group(1)
    return sections


SECTIONS = _sections()


def _module(hook_name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(f"doc_example_{hook_name}")
    module.__file__ = str(DOC)
    exec(compile(source, f"{DOC.name}:{hook_name}", "exec"), module.__dict__)
    return module


def test_every_section_has_example():
    assert len(SECTIONS) >= 20


@pytest.mark.parametrize("hook_name", sorted(SECTIONS))
def test_example_registers_strictly(hook_name):
    module = _module(hook_name, SECTIONS[hook_name])

    # Strict registration rejects unknown hook names and arguments the spec lacks.
    host = make_plugin_host((module, "example"))

    assert hook_name in host.status("example").hooks


@pytest.mark.parametrize("hook_name", sorted(name for name, (_, args) in registration_hooks().items() if not args))
def test_registration_example_returns_valid_records(hook_name):
    module = _module(hook_name, SECTIONS[hook_name])
    host = make_plugin_host((module, "example"))

    records = host.hooks.records(hook_name)

    assert records, f"the {hook_name} example registers nothing"
    assert all(record.plugin == "example" for record in records)


def _section_bodies() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    return {
        match.group(1): match.group(2)
        for match in re.finditer(r"^## (\w+)\(.*?\)\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    }


@pytest.mark.parametrize("hook_name", sorted(SECTIONS))
def test_section_states_when_returns_since(hook_name):
    body = _section_bodies()[hook_name]

    assert "- **When:**" in body, f"{hook_name}: say when the hook is called"
    assert "- **Returns:**" in body, f"{hook_name}: say what a result means"
    assert "- **Since:**" in body, f"{hook_name}: say in which version it appeared"
