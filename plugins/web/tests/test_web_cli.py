"""`wenti serve` on an instance made by `wenti init`, as a real process on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

WENTI = shutil.which("wenti", path=str(Path(sys.executable).parent))

pytestmark = pytest.mark.skipif(WENTI is None, reason="the wenti console script is not installed in this environment")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_environment(**extra: str) -> dict[str, str]:
    """The test process's environment without WENTI_* settings, which would change the instance used."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("WENTI_")}
    return {**environment, **extra}


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([WENTI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_serve_after_init_prints_logins_and_answers(tmp_path):
    env = clean_environment(WENTI_LANG="en")
    instance = tmp_path / "instance"
    init = run("init", "--dir", str(instance), cwd=tmp_path, env=env)
    assert init.returncode == 0, init.stderr
    config = str(instance / "wenti.toml")
    port = free_port()

    server = subprocess.Popen(
        [WENTI, "--config", config, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = httpx.get(base + "/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200, "wenti serve did not answer within 60 s"
        login = httpx.get(base + "/login", timeout=5)
        schema = httpx.get(base + "/api/schema/openapi.json", timeout=5)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)

    assert login.status_code == 200
    assert "Sign in to wenti" in login.text or "登录" in login.text
    assert schema.json()["info"]["title"] == "wenti REST API"
    assert "admin: " in output
    password = output.split("admin: ", 1)[1].split()[0]
    assert len(password) >= 12


def test_set_password_rejects_weak_password(tmp_path):
    env = clean_environment(WENTI_LANG="en", WENTI_PASSWORD="123456")
    instance = tmp_path / "instance"
    assert run("init", "--dir", str(instance), cwd=tmp_path, env=env).returncode == 0

    weak = run("--config", str(instance / "wenti.toml"), "web", "set-password", "admin", cwd=tmp_path, env=env)
    strong = run(
        "--config", str(instance / "wenti.toml"), "web", "set-password", "admin",
        cwd=tmp_path, env={**env, "WENTI_PASSWORD": "a sufficiently long password"},
    )

    assert weak.returncode != 0
    assert "common" in weak.stderr or "8" in weak.stderr
    assert strong.returncode == 0, strong.stderr
    assert "admin" in strong.stdout
