"""pytest fixtures for wenti and its plugins (registered through `pytest11`).

Tests run with strict plugin loading: a plugin that fails to load fails the test
instead of being skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wenti.clock import FrozenClock
from wenti.config import ENV_STRICT_PLUGINS
from wenti.plugins import PluginHost
from wenti.testing.helpers import FROZEN_TIME, build_app, make_plugin_host


def pytest_configure(config: pytest.Config) -> None:
    # Every plugin load in the test run is strict, including `wenti` commands that
    # tests start in a subprocess, so a plugin that fails to load fails the run.
    os.environ.setdefault(ENV_STRICT_PLUGINS, "1")


@pytest.fixture
def wenti_pm(tmp_path_factory: pytest.TempPathFactory) -> PluginHost:
    """A fresh strict `PluginHost`: hook specs and core built-ins, no installed plugins."""
    return make_plugin_host(data_dir=tmp_path_factory.mktemp("wenti-pm"))


@pytest.fixture
def register_plugin(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Register a plugin for this test: `register_plugin(obj, name=None, host=None)`.

    `host` defaults to the `wenti_pm` fixture; pass `wenti_app.plugins` to add a
    plugin to an app. Every plugin registered here is removed after the test.
    """
    registered: list[tuple[PluginHost, str]] = []

    def register(plugin: Any, name: str | None = None, host: PluginHost | None = None) -> Any:
        target = host if host is not None else request.getfixturevalue("wenti_pm")
        plugin_name = name or f"test_plugin_{len(registered)}"
        target.register(plugin, plugin_name)
        registered.append((target, plugin_name))
        return plugin

    yield register

    for target, plugin_name in reversed(registered):
        target.unregister(plugin_name)


@pytest.fixture
def frozen_clock() -> FrozenClock:
    """A clock stopped at `wenti.testing.FROZEN_TIME`; move it with `advance()` or `set()`."""
    return FrozenClock(FROZEN_TIME)


@pytest.fixture
def make_wenti_app(tmp_path_factory: pytest.TempPathFactory, frozen_clock: FrozenClock) -> Iterator[Callable[..., Any]]:
    """A factory of apps: `make_wenti_app(**overrides)`; see `wenti.testing.build_app`.

    Each app gets its own temporary folder and, unless `clock` is given, the
    `frozen_clock` of the test. Every app is closed after the test.
    """
    apps: list[Any] = []

    def make(**overrides: Any) -> Any:
        overrides.setdefault("clock", frozen_clock)
        data_dir = overrides.pop("data_dir", None) or tmp_path_factory.mktemp("wenti-app")
        app = build_app(data_dir, **overrides)
        apps.append(app)
        return app

    yield make

    for app in reversed(apps):
        app.close()


@pytest.fixture
def wenti_app(make_wenti_app: Callable[..., Any]) -> Any:
    """An app on a temporary SQLite file, tenant `default`, users admin, agent and reporter."""
    return make_wenti_app()
