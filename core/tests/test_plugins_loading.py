"""Entry-point loading against real fake distributions (`.dist-info` folders on sys.path)."""

from __future__ import annotations

import importlib.metadata
import logging
import sys
from pathlib import Path

import pytest

from wenti.config import Config
from wenti.errors import PluginError
from wenti.plugins import ACTIVE, DISABLED, FAILED, load_plugins
from wenti.testing import write_fake_distribution

GOOD = '''
from wenti import hookimpl
from wenti.records import Notifier

@hookimpl
def register_notifiers():
    return [Notifier(name="{notifier}", send=lambda message, app: None)]
'''

BROKEN = "import wenti_module_that_does_not_exist\n"

OLD_API = '''
from wenti import hookimpl

wenti_api_version = 0

@hookimpl
def startup(app):
    pass
'''

MISSPELLED = '''
from wenti import hookimpl

@hookimpl
def regster_notifiers():
    return []
'''


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A site folder on sys.path; modules written there are removed from sys.modules afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        if name.startswith("fakeplug_"):
            del sys.modules[name]


def _distributions(site: Path):
    return list(importlib.metadata.distributions(path=[str(site)]))


def _load(site: Path, tmp_path: Path, strict: bool = False, **plugin_settings):
    config = Config.default(tmp_path)
    for key, value in plugin_settings.items():
        setattr(config.plugins, key, value)
    return load_plugins(config, strict=strict, distributions=_distributions(site))


def _status(host, name):
    status = host.status(name)
    assert status is not None, f"no status for {name}: {host.statuses}"
    return status


def test_good_plugin_is_active_with_version_and_hooks(site, tmp_path):
    write_fake_distribution(
        site, "fakeplug-good", "1.2.3", {"good": "fakeplug_good"}, {"fakeplug_good.py": GOOD.format(notifier="bell")}
    )

    host = _load(site, tmp_path)

    status = _status(host, "good")
    assert status.status == ACTIVE
    assert status.distribution == "fakeplug-good"
    assert status.version == "1.2.3"
    assert status.hooks == ("register_notifiers",)
    assert [notifier.name for notifier in host.hooks.notifiers()] == ["bell"]
    assert host.hooks.notifiers()[0].plugin == "good"


def test_broken_import_is_failed_and_others_load(site, tmp_path, caplog):
    write_fake_distribution(site, "fakeplug-broken", "0.1", {"broken": "fakeplug_broken"}, {"fakeplug_broken.py": BROKEN})
    write_fake_distribution(
        site, "fakeplug-good", "1.0", {"good": "fakeplug_good"}, {"fakeplug_good.py": GOOD.format(notifier="bell")}
    )

    with caplog.at_level(logging.WARNING, logger="wenti.plugins"):
        host = _load(site, tmp_path)

    broken = _status(host, "broken")
    assert broken.status == FAILED
    assert "wenti_module_that_does_not_exist" in broken.error
    assert broken.distribution == "fakeplug-broken"
    assert _status(host, "good").status == ACTIVE
    assert any("broken (fakeplug-broken 0.1)" in record.getMessage() for record in caplog.records)


def test_broken_import_in_strict_mode_raises(site, tmp_path):
    write_fake_distribution(site, "fakeplug-broken", "0.1", {"broken": "fakeplug_broken"}, {"fakeplug_broken.py": BROKEN})

    with pytest.raises(PluginError) as caught:
        _load(site, tmp_path, strict=True)

    message = str(caught.value)
    assert "broken" in message
    assert "fakeplug-broken" in message
    assert "0.1" in message


def test_strict_from_config_raises(site, tmp_path, monkeypatch):
    monkeypatch.delenv("WENTI_STRICT_PLUGINS", raising=False)
    write_fake_distribution(site, "fakeplug-broken", "0.1", {"broken": "fakeplug_broken"}, {"fakeplug_broken.py": BROKEN})
    config = Config.default(tmp_path)
    config.plugins.strict = True

    with pytest.raises(PluginError):
        load_plugins(config, distributions=_distributions(site))


def test_strict_from_environment_raises(site, tmp_path, monkeypatch):
    write_fake_distribution(site, "fakeplug-broken", "0.1", {"broken": "fakeplug_broken"}, {"fakeplug_broken.py": BROKEN})
    config = Config.default(tmp_path)

    monkeypatch.setenv("WENTI_STRICT_PLUGINS", "0")
    lenient = load_plugins(config, distributions=_distributions(site))
    assert _status(lenient, "broken").status == FAILED

    monkeypatch.setenv("WENTI_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError):
        load_plugins(config, distributions=_distributions(site))


def test_test_runs_are_strict():
    import os

    # Set by the wenti.testing pytest plugin for the whole run.
    assert os.environ.get("WENTI_STRICT_PLUGINS") == "1"


def test_incompatible_api_version_is_failed(site, tmp_path):
    write_fake_distribution(site, "fakeplug-old", "0.9", {"old": "fakeplug_old"}, {"fakeplug_old.py": OLD_API})

    host = _load(site, tmp_path)

    status = _status(host, "old")
    assert status.status == FAILED
    assert "wenti_api_version 0" in status.error
    assert host.pm.get_plugin("old") is None


def test_record_name_conflict_fails_second_plugin(site, tmp_path):
    write_fake_distribution(
        site, "fakeplug-alpha", "1.0", {"alpha": "fakeplug_alpha"}, {"fakeplug_alpha.py": GOOD.format(notifier="bell")}
    )
    write_fake_distribution(
        site, "fakeplug-beta", "2.0", {"beta": "fakeplug_beta"}, {"fakeplug_beta.py": GOOD.format(notifier="bell")}
    )

    host = _load(site, tmp_path)

    assert _status(host, "alpha").status == ACTIVE
    beta = _status(host, "beta")
    assert beta.status == FAILED
    assert "'bell'" in beta.error
    assert "alpha (fakeplug-alpha 1.0)" in beta.error
    assert [notifier.plugin for notifier in host.hooks.notifiers()] == ["alpha"]


def test_record_name_conflict_in_strict_mode_raises(site, tmp_path):
    write_fake_distribution(
        site, "fakeplug-alpha", "1.0", {"alpha": "fakeplug_alpha"}, {"fakeplug_alpha.py": GOOD.format(notifier="bell")}
    )
    write_fake_distribution(
        site, "fakeplug-beta", "2.0", {"beta": "fakeplug_beta"}, {"fakeplug_beta.py": GOOD.format(notifier="bell")}
    )

    with pytest.raises(PluginError, match="beta"):
        _load(site, tmp_path, strict=True)


def test_disabled_plugin_is_not_imported(site, tmp_path):
    write_fake_distribution(site, "fakeplug-broken", "0.1", {"broken": "fakeplug_broken"}, {"fakeplug_broken.py": BROKEN})

    # Importing the module would fail, so a strict load only passes if it is never imported.
    host = _load(site, tmp_path, strict=True, disabled=["broken"])

    status = _status(host, "broken")
    assert status.status == DISABLED
    assert "fakeplug_broken" not in sys.modules
    assert host.pm.is_blocked("broken")


def test_disable_through_environment(site, tmp_path, monkeypatch):
    write_fake_distribution(site, "fakeplug-broken", "0.1", {"broken": "fakeplug_broken"}, {"fakeplug_broken.py": BROKEN})
    monkeypatch.setenv("WENTI_DISABLE_PLUGINS", "other, broken")

    host = _load(site, tmp_path, strict=True)

    assert _status(host, "broken").status == DISABLED


def test_allowlist_loads_only_listed(site, tmp_path):
    write_fake_distribution(
        site, "fakeplug-alpha", "1.0", {"alpha": "fakeplug_alpha"}, {"fakeplug_alpha.py": GOOD.format(notifier="bell")}
    )
    write_fake_distribution(
        site, "fakeplug-beta", "2.0", {"beta": "fakeplug_beta"}, {"fakeplug_beta.py": GOOD.format(notifier="horn")}
    )

    host = _load(site, tmp_path, enabled=["beta"])

    assert _status(host, "alpha").status == DISABLED
    assert _status(host, "alpha").error == "not in the enabled list"
    assert _status(host, "beta").status == ACTIVE
    assert [notifier.name for notifier in host.hooks.notifiers()] == ["horn"]


def test_allowlist_environment_overrides_config(site, tmp_path, monkeypatch):
    write_fake_distribution(
        site, "fakeplug-alpha", "1.0", {"alpha": "fakeplug_alpha"}, {"fakeplug_alpha.py": GOOD.format(notifier="bell")}
    )
    monkeypatch.setenv("WENTI_LOAD_PLUGINS", "")

    host = _load(site, tmp_path, enabled=["alpha"])

    assert _status(host, "alpha").status == DISABLED
    assert host.hooks.notifiers() == []


def test_check_pending_catches_misspelled_hook(site, tmp_path):
    write_fake_distribution(
        site, "fakeplug-typo", "0.3", {"typo": "fakeplug_typo"}, {"fakeplug_typo.py": MISSPELLED}
    )

    host = _load(site, tmp_path)

    status = _status(host, "typo")
    assert status.status == FAILED
    assert "regster_notifiers" in status.error
    assert host.pm.get_plugin("typo") is None
    # The failed plugin left nothing pending, so the final check passes too.
    host.pm.check_pending()


def test_check_pending_in_strict_mode_raises(site, tmp_path):
    write_fake_distribution(
        site, "fakeplug-typo", "0.3", {"typo": "fakeplug_typo"}, {"fakeplug_typo.py": MISSPELLED}
    )

    with pytest.raises(PluginError, match="regster_notifiers"):
        _load(site, tmp_path, strict=True)


def test_duplicate_distribution_is_loaded_once(site, tmp_path):
    write_fake_distribution(
        site, "fakeplug-good", "1.0", {"good": "fakeplug_good"}, {"fakeplug_good.py": GOOD.format(notifier="bell")}
    )
    distributions = _distributions(site)

    # Some editable installs list one distribution twice; the second copy must not conflict.
    host = load_plugins(Config.default(tmp_path), strict=True, distributions=distributions + distributions)

    assert [status.name for status in host.statuses if not status.builtin] == ["good"]


def test_builtins_register_last(site, tmp_path):
    write_fake_distribution(
        site, "fakeplug-good", "1.0", {"good": "fakeplug_good"}, {"fakeplug_good.py": GOOD.format(notifier="bell")}
    )

    host = _load(site, tmp_path)

    names = [name for name, _plugin in host.pm.list_name_plugin()]
    assert names[-1] == "wenti.builtin"
    assert host.statuses[-1].builtin is True
    assert host.statuses[-1].distribution == "wenti-core"


def test_summary_line_lists_every_status(site, tmp_path, caplog):
    write_fake_distribution(
        site, "fakeplug-good", "1.0", {"good": "fakeplug_good"}, {"fakeplug_good.py": GOOD.format(notifier="bell")}
    )
    write_fake_distribution(site, "fakeplug-broken", "0.1", {"broken": "fakeplug_broken"}, {"fakeplug_broken.py": BROKEN})
    write_fake_distribution(
        site, "fakeplug-off", "0.2", {"off": "fakeplug_off"}, {"fakeplug_off.py": GOOD.format(notifier="horn")}
    )

    with caplog.at_level(logging.INFO, logger="wenti.plugins"):
        _load(site, tmp_path, disabled=["off"])

    summaries = [record.getMessage() for record in caplog.records if record.getMessage().startswith("plugins:")]
    assert len(summaries) == 1
    assert "loaded good 1.0" in summaries[0]
    assert "disabled off 0.2" in summaries[0]
    assert "failed broken 0.1" in summaries[0]


def test_trace_hooks_logs_calls(site, tmp_path, monkeypatch, caplog):
    write_fake_distribution(
        site, "fakeplug-good", "1.0", {"good": "fakeplug_good"}, {"fakeplug_good.py": GOOD.format(notifier="bell")}
    )
    monkeypatch.setenv("WENTI_TRACE_HOOKS", "1")
    host = _load(site, tmp_path)

    with caplog.at_level(logging.INFO, logger="wenti.trace"):
        host.hooks.notifiers()
        host.pm.hook.select_queue(issue=None, app=None)

    messages = [record.getMessage() for record in caplog.records if record.name == "wenti.trace"]
    assert any("register_notifiers of plugin good" in message for message in messages)
    assert any(message.startswith("call select_queue") for message in messages)


def test_installed_workspace_plugins_load_strictly(tmp_path):
    host = load_plugins(Config.default(tmp_path), strict=True)

    failed = [status for status in host.statuses if status.status == FAILED]
    assert failed == []
    assert host.statuses[-1].name == "wenti.builtin"


def test_failure_reason_translates(site, tmp_path):
    from wenti.i18n import use_locale

    write_fake_distribution(site, "fakeplug-old", "0.9", {"old": "fakeplug_old"}, {"fakeplug_old.py": OLD_API})
    host = _load(site, tmp_path, disabled=["other"])

    error = _status(host, "old").error

    with use_locale("zh_CN"):
        assert "请安装适用于此版本的 fakeplug-old" in f"{error}"
    with use_locale("en"):
        assert "install a version of fakeplug-old made for it" in f"{error}"
