"""Every hook has a test and a reference section; every registered name is unique."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from wenti import hookspecs
from wenti.config import Config
from wenti.hooks import registration_hooks
from wenti.plugins import load_plugins

REPO = Path(__file__).resolve().parents[1]
HOOK_DOCS = REPO / "docs" / "plugin-hooks.md"


def _hook_specs() -> dict[str, list[str]]:
    """Map each hook name to its argument names, in spec order."""
    specs = {}
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction):
        if hasattr(function, f"{hookspecs.PROJECT}_spec"):
            specs[name] = list(inspect.signature(function).parameters)
    return specs


def _test_function_names() -> set[str]:
    roots = [REPO / "tests", REPO / "core" / "tests"]
    roots += sorted(REPO.glob("plugins/*/tests")) + sorted(REPO.glob("contrib/*/tests"))
    names: set[str] = set()
    for root in roots:
        for path in root.rglob("test*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                    names.add(node.name)
    return names


HOOKS = _hook_specs()


def test_specs_found():
    assert "issue_event" in HOOKS
    assert "register_storage_backends" in HOOKS
    assert len(HOOKS) >= 20


@pytest.fixture(scope="module")
def test_names():
    return _test_function_names()


@pytest.fixture(scope="module")
def doc_headings():
    text = HOOK_DOCS.read_text(encoding="utf-8")
    return set(re.findall(r"^## (.+?)\s*$", text, flags=re.MULTILINE))


@pytest.mark.parametrize("hook_name", sorted(HOOKS))
def test_hook_has_test(hook_name, test_names):
    matching = [name for name in test_names if hook_name in name]
    assert matching, f"no test function name contains {hook_name}; add a test named test_{hook_name}_..."


@pytest.mark.parametrize("hook_name", sorted(HOOKS))
def test_hook_has_docs_section(hook_name, doc_headings):
    heading = f"{hook_name}({', '.join(HOOKS[hook_name])})"
    assert heading in doc_headings, f"docs/plugin-hooks.md has no section headed '## {heading}'"


def test_docs_sections_match_specs(doc_headings):
    documented = {heading.split("(")[0] for heading in doc_headings if "(" in heading}
    assert documented - set(HOOKS) == set(), "docs/plugin-hooks.md documents hooks that no spec declares"


@pytest.mark.parametrize("hook_name", sorted(HOOKS))
def test_hook_spec_documents_version(hook_name):
    docstring = inspect.getdoc(getattr(hookspecs, hook_name)) or ""
    assert "versionadded" in docstring, f"the spec of {hook_name} does not say in which version it appeared"


def test_registration_names_unique_and_lower_case(tmp_path):
    host = load_plugins(Config.default(tmp_path), strict=True)

    for hook_name, (record_type, argnames) in registration_hooks().items():
        if argnames:
            continue
        # The facade raises PluginError on a duplicate or a name that is not lower-case.
        records = host.hooks.records(hook_name)
        names = [record.name for record in records]
        assert len(names) == len(set(names)), hook_name
        for record in records:
            assert record.name == record.name.strip().lower(), f"{hook_name}: {record.name!r} of {record.plugin}"
            assert isinstance(record, record_type)


def test_web_route_names_unique_and_lower_case(wenti_app):
    routes = wenti_app.hooks.web_routes(wenti_app)

    names = [route.name for route in routes]
    assert len(names) == len(set(names))
    assert all(name == name.lower() for name in names)
