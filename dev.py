#!/usr/bin/env python3
"""Set up the development environment and run wenti's two everyday jobs.

    python3 dev.py demo    # install everything, load the demo organisation, serve it
    python3 dev.py test    # install everything, run the whole test suite

Needs only Python 3.11 or newer. The first run creates `.tools/` (a virtual
environment holding uv) and `.venv/` (the workspace, every package installed
editable, pinned by `uv.lock`). Later runs reuse both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
UV_REQUIREMENT = "uv>=0.5"
INSTANCE = ROOT / "wenti-instance"


BIN = TOOLS / ("Scripts" if os.name == "nt" else "bin")
EXE = ".exe" if os.name == "nt" else ""


def ensure_uv() -> list[str]:
    """Return the command that runs uv, installing it into `.tools/` on first use.

    The uv executable is called directly: `python -m uv` from inside `.tools/` would
    set VIRTUAL_ENV to `.tools` and make uv warn that it does not match `.venv`.
    """
    python = BIN / f"python{EXE}"
    uv = BIN / f"uv{EXE}"
    if not python.exists():
        print(f"Creating {TOOLS} with uv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(TOOLS)
    if not uv.exists():
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", UV_REQUIREMENT], check=True)
    return [str(uv)]


def call(command: list[str]) -> int:
    """Run `command` in the foreground; on Ctrl-C, stop it and return 130 without a traceback."""
    environment = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    child = subprocess.Popen(command, cwd=ROOT, env=environment)
    try:
        return child.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to the child too; give it time to shut down cleanly.
        try:
            return child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.terminate()
            return child.wait()


def uv_run(uv: list[str], *args: str) -> int:
    """Run a command inside the synced workspace; `--locked` fails on a stale lock file."""
    return call([*uv, "run", "--locked", "--all-packages", "--python", sys.executable, *args])


def sync(uv: list[str]) -> int:
    return call([*uv, "sync", "--locked", "--all-packages", "--python", sys.executable])


def demo(uv: list[str], extra: list[str]) -> int:
    status = sync(uv)
    if status:
        return status
    config = INSTANCE / "wenti.toml"
    if not config.exists():
        status = uv_run(uv, "wenti", "init", "--dir", str(INSTANCE))
        if status:
            return status
    status = uv_run(uv, "wenti", "--config", str(config), "demo")
    if status:
        return status
    return uv_run(uv, "wenti", "--config", str(config), "serve", *extra)


def test(uv: list[str], extra: list[str]) -> int:
    status = sync(uv)
    if status:
        return status
    return uv_run(uv, "pytest", *extra)


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):
        print(f"wenti needs Python 3.11 or newer; this is {sys.version.split()[0]}.", file=sys.stderr)
        return 2
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        uv = ensure_uv()
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"Could not install uv into {TOOLS}: {error}. Check that pip can reach the package index.", file=sys.stderr)
        return 1
    job = demo if argv[0] == "demo" else test
    return job(uv, argv[1:])


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
