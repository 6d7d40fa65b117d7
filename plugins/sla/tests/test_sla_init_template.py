"""A new instance made by `wenti init` starts with the standard SLA policy."""

from __future__ import annotations

import tomllib

from click.testing import CliRunner

from wenti.cli import cli


def test_init_writes_standard_sla_preset(tmp_path, monkeypatch):
    monkeypatch.setenv("WENTI_LOAD_PLUGINS", "sql,sla,jobs")
    instance = tmp_path / "instance"

    result = CliRunner().invoke(cli, ["--lang", "en", "init", "--dir", str(instance)])
    check = CliRunner().invoke(cli, ["--lang", "en", "--config", str(instance), "config", "check"])

    assert result.exit_code == 0, result.output
    raw = tomllib.loads((instance / "wenti.toml").read_text(encoding="utf-8"))
    assert raw["plugins"]["sla"] == {"preset": "standard"}
    assert check.exit_code == 0, check.output
