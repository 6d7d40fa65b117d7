"""The out-of-tree example plugin loads through an entry point and works end to end."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wenti.config import load_config
from wenti.i18n import use_locale
from wenti.plugins import ACTIVE, load_plugins
from wenti.testing import build_app, write_fake_distribution

REPO = Path(__file__).resolve().parents[1]
HELLO = REPO / "examples" / "hello-plugin"
CONFIG = '[plugins.hello]\nroutes = { "打印机" = "printers" }\n'


@pytest.fixture
def hello_site(tmp_path, monkeypatch):
    """A fake installed wenti-hello: its dist-info in a site folder, its source on sys.path."""
    site = tmp_path / "site"
    write_fake_distribution(site, "wenti-hello", "0.1.0", {"hello": "wenti_hello"})
    monkeypatch.syspath_prepend(str(HELLO / "src"))
    return site


def test_hello_plugin_loads_from_entry_point(hello_site, tmp_path):
    (tmp_path / "wenti.toml").write_text(CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "wenti.toml")

    host = load_plugins(config, strict=True, distributions=importlib.metadata.distributions(path=[str(hello_site)]))
    config.validate_plugin_tables(host)

    status = host.status("hello")
    assert status.status == ACTIVE
    assert status.distribution == "wenti-hello"
    assert set(status.hooks) == {"issue_event", "register_commands", "register_config_classes", "select_queue"}
    assert config.plugin("hello").routes == {"打印机": "printers"}
    assert [command.name for command in host.hooks.commands()] == ["hello"]


def test_hello_command_prints_routes_in_chinese(hello_site, tmp_path):
    import wenti_hello
    from wenti.cli.state import CliState

    app = build_app(tmp_path / "instance", config_toml=CONFIG, plugins=[(wenti_hello, "hello")], enabled_plugins=["sql"])
    state = CliState(None, "default", "admin", "zh_CN")
    state.adopt(app, owned=False)
    try:
        with use_locale("zh_CN"):
            result = CliRunner().invoke(wenti_hello.hello_command, obj=state)
    finally:
        app.close()

    assert result.exit_code == 0, result.output
    assert "wenti-hello 向您问好。" in result.output
    assert "标题包含 '打印机' 的问题进入队列 printers。" in result.output


def test_hello_plugin_own_tests_pass():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HELLO / "src"), os.environ.get("PYTHONPATH", "")])}

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(HELLO / "tests")],
        cwd=HELLO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
