"""Discovery from a checked-in site folder of installed-looking distributions (tests/data)."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest

from wenti.config import load_config
from wenti.errors import PluginError
from wenti.plugins import ACTIVE, DISABLED, FAILED, load_plugins

SITE = Path(__file__).resolve().parent / "data" / "plugin-site"


@pytest.fixture
def site(monkeypatch):
    monkeypatch.syspath_prepend(str(SITE))
    yield importlib.metadata.distributions(path=[str(SITE)])
    for name in [name for name in sys.modules if name.startswith("wenti_sample_")]:
        del sys.modules[name]


def _config(tmp_path, text=""):
    (tmp_path / "wenti.toml").write_text(text, encoding="utf-8")
    return load_config(tmp_path / "wenti.toml")


def test_discovery_reports_each_distribution(site, tmp_path):
    host = load_plugins(_config(tmp_path), strict=False, distributions=site)

    table = {status.name: (status.distribution, status.version, status.status) for status in host.statuses}

    assert table["sample_good"] == ("wenti-sample-good", "1.0.0", ACTIVE)
    assert table["sample_broken"] == ("wenti-sample-broken", "0.2.0", FAILED)
    assert table["sample_oldapi"] == ("wenti-sample-oldapi", "0.9.0", FAILED)
    assert "wenti_sample_dependency_that_is_not_installed" in host.status("sample_broken").error
    assert "wenti_api_version 2" in host.status("sample_oldapi").error
    assert [metric.name for metric in host.hooks.metrics()] == ["sample_backlog"]


def test_discovery_strict_stops_at_first_failure(site, tmp_path):
    with pytest.raises(PluginError, match="sample_broken"):
        load_plugins(_config(tmp_path), strict=True, distributions=site)


def test_discovery_with_failures_disabled_is_clean(site, tmp_path):
    config = _config(tmp_path, '[plugins]\ndisabled = ["sample_broken", "sample_oldapi"]\n[plugins.sample_good]\nthreshold = 3\n')

    host = load_plugins(config, strict=True, distributions=site)
    config.validate_plugin_tables(host)

    assert host.status("sample_broken").status == DISABLED
    assert host.status("sample_oldapi").status == DISABLED
    assert config.plugin("sample_good").threshold == 3
