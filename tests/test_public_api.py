"""The public API of wenti imports cleanly and stays light."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import wenti

PUBLIC_MODULES = [
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
]


@pytest.mark.parametrize("name", sorted(wenti.__all__))
def test_exported_name_resolves(name):
    assert getattr(wenti, name) is not None


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_module_imports(module):
    assert importlib.import_module(module).__name__ == module


def test_api_version_and_hookimpl():
    from wenti.hookspecs import hookimpl

    assert wenti.API_VERSION == 1
    assert wenti.hookimpl is hookimpl
    assert wenti.__version__.count(".") == 2


def test_lazy_app_is_the_app_class():
    from wenti.app import App, Context

    assert wenti.App is App
    assert wenti.Context is Context


def test_unknown_attribute_raises():
    with pytest.raises(AttributeError, match="no_such_name"):
        wenti.no_such_name  # noqa: B018


def test_import_wenti_stays_light():
    code = "import sys, wenti; print(sorted(m for m in ('wenti.app', 'wenti.services', 'wenti.plugins', 'sqlalchemy') if m in sys.modules))"

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)

    assert result.stdout.strip() == "[]"
