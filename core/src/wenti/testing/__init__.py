"""Helpers and pytest fixtures for testing wenti and its plugins.

The fixtures in `wenti.testing.plugin` are registered with pytest through the
`pytest11` entry point of wenti-core, so any test suite in an environment with
wenti installed can use them:

* `wenti_pm`: a fresh `PluginHost` with the hook specs and the core built-ins,
  and no installed plugins.
* `register_plugin`: registers an object or module for one test and removes it
  afterwards.
* `frozen_clock`: a `wenti.clock.FrozenClock` at `FROZEN_TIME`.
* `wenti_app`: an `App` on a temporary SQLite database with the installed plugins
  loaded strictly, tenant `default` and the users `admin`, `agent` and `reporter`.
* `make_wenti_app`: a factory for apps with other settings.

`wenti.testing.contract` contains the store contract suite that every storage
backend runs.
"""

from __future__ import annotations

from wenti.testing.helpers import FROZEN_TIME, TEST_USERS, build_app, make_plugin_host, write_fake_distribution

__all__ = ["FROZEN_TIME", "TEST_USERS", "build_app", "make_plugin_host", "write_fake_distribution"]
