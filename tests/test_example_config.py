"""examples/wenti.toml is valid against the plugins of this workspace."""

from __future__ import annotations

from pathlib import Path

from wenti.config import load_config
from wenti.plugins import load_plugins

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "wenti.toml"


def test_example_config_validates(monkeypatch):
    monkeypatch.setenv("WENTI_SMTP_PASSWORD", "example-password")
    config = load_config(EXAMPLE)

    host = load_plugins(config, strict=True)
    config.validate_plugin_tables(host)

    assert config.instance.data_dir == (REPO / "examples" / "instance").resolve()
    assert config.storage.url == f"sqlite:///{(REPO / 'examples' / 'instance' / 'wenti.db').resolve()}"
    assert host.status("intake-email").status == "disabled"
    assert config.plugin("notify-email").password.reveal() == "example-password"
    assert "example-password" not in config.show()


def test_example_config_needs_smtp_password(monkeypatch):
    import pytest

    from wenti.errors import ConfigError

    monkeypatch.delenv("WENTI_SMTP_PASSWORD", raising=False)
    config = load_config(EXAMPLE)
    host = load_plugins(config, strict=True)

    with pytest.raises(ConfigError, match="WENTI_SMTP_PASSWORD"):
        config.validate_plugin_tables(host)
