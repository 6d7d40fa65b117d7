"""Workspace layout and import boundaries, checked by reading the source with `ast`.

A plugin may import its own package, third-party packages and wenti's public
modules; never another plugin's package and never a private `wenti._x` module.
Core imports no plugin.
"""

from __future__ import annotations

import ast
import importlib.util
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PUBLIC_WENTI_MODULES = {
    "wenti",
    "wenti.domain",
    "wenti.store",
    "wenti.records",
    "wenti.hookspecs",
    "wenti.app",
    "wenti.i18n",
    "wenti.errors",
    "wenti.clock",
    "wenti.config",
    "wenti.converter",
    "wenti.testing",
    "wenti.testing.contract",
    # The click building blocks that plugin commands share with core's commands.
    "wenti.cli",
    "wenti.cli.base",
    "wenti.cli.state",
    "wenti.cli.output",
}

PLUGIN_MEMBERS = sorted(path for path in [*REPO.glob("plugins/*"), *REPO.glob("contrib/*")] if path.is_dir())
MEMBERS = [REPO / "core", *PLUGIN_MEMBERS]


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """Absolute imports of a file: (line, module, imported names); names are empty for `import x`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


def _package_name(member: Path) -> str:
    packages = [path.name for path in (member / "src").iterdir() if (path / "__init__.py").exists()]
    assert len(packages) == 1, f"{member} should hold exactly one package under src/, found {packages}"
    return packages[0]


def _is_module(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _wenti_violation(module: str, names: list[str]) -> str | None:
    """Why `from module import names` (or `import module`) breaks the public-API rule, or None."""
    if module not in PUBLIC_WENTI_MODULES:
        return f"{module} is not a public wenti module"
    for name in names:
        if name.startswith("_"):
            return f"{module}.{name} is private"
        # `from wenti import services` imports a module: it must be public too.
        submodule = f"{module}.{name}"
        if submodule not in PUBLIC_WENTI_MODULES and _is_module(submodule):
            return f"{submodule} is not a public wenti module"
    return None


def test_members_found():
    assert (REPO / "core").is_dir()
    assert PLUGIN_MEMBERS, "no plugins found under plugins/ or contrib/"


@pytest.mark.parametrize("member", PLUGIN_MEMBERS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_plugin_imports_only_public_api(member):
    own = _package_name(member)
    violations = []
    for path in sorted((member / "src").rglob("*.py")):
        for line, module, names in _imports(path):
            top = module.split(".")[0]
            where = f"{path.relative_to(REPO)}:{line}"
            if top.startswith("wenti_") and top != own:
                violations.append(f"{where} imports {module}: another plugin's package")
            elif top == "wenti":
                reason = _wenti_violation(module, names)
                if reason is not None:
                    violations.append(f"{where}: {reason}")
    assert violations == [], "\n".join(violations)


def test_core_imports_no_plugin():
    violations = []
    for path in sorted((REPO / "core" / "src").rglob("*.py")):
        for line, module, _names in _imports(path):
            if module.split(".")[0].startswith("wenti_"):
                violations.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert violations == [], "\n".join(violations)


@pytest.mark.parametrize("member", MEMBERS, ids=lambda path: path.name)
def test_member_layout(member):
    pyproject = member / "pyproject.toml"
    assert pyproject.is_file(), f"{member.name}: no pyproject.toml"
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))

    assert "build-system" in data, f"{member.name}: pyproject.toml has no [build-system]; uv would skip it"
    assert (member / "README.md").is_file(), f"{member.name}: no README.md"
    assert (member / "tests").is_dir(), f"{member.name}: no tests/ folder"
    assert (member / "src").is_dir(), f"{member.name}: no src/ layout"
    _package_name(member)


@pytest.mark.parametrize("member", PLUGIN_MEMBERS, ids=lambda path: path.name)
def test_plugin_declares_entry_point(member):
    data = tomllib.loads((member / "pyproject.toml").read_text(encoding="utf-8"))
    package = _package_name(member)

    entry_points = data.get("project", {}).get("entry-points", {}).get("wenti", {})

    assert entry_points, f"{member.name}: no [project.entry-points.wenti] table"
    assert data["project"]["name"] == "wenti-" + member.name, f"{member.name}: distribution should be wenti-{member.name}"
    for name, target in entry_points.items():
        assert target.split(":")[0].split(".")[0] == package, f"{member.name}: entry point {name} = {target}"


def test_import_rule_examples():
    assert _wenti_violation("wenti.domain", ["Issue"]) is None
    assert _wenti_violation("wenti", ["hookimpl"]) is None
    assert _wenti_violation("wenti.testing", ["contract"]) is None
    assert _wenti_violation("wenti", ["services"]) == "wenti.services is not a public wenti module"
    assert _wenti_violation("wenti.services.issues", []) == "wenti.services.issues is not a public wenti module"
    assert _wenti_violation("wenti.domain", ["_ROLE_RANK"]) == "wenti.domain._ROLE_RANK is private"
