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


def tools_python() -> Path:
    return TOOLS / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")


def ensure_uv() -> list[str]:
    """Return the command that runs uv, installing it into `.tools/` on first use."""
    python = tools_python()
    if not python.exists():
        print(f"Creating {TOOLS} with uv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(TOOLS)
    probe = subprocess.run([str(python), "-m", "uv", "--version"], capture_output=True, text=True)
    if probe.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", UV_REQUIREMENT], check=True)
    return [str(python), "-m", "uv"]


def uv_run(uv: list[str], *args: str) -> int:
    """Run a command inside the synced workspace; `--locked` fails on a stale lock file."""
    command = [*uv, "run", "--locked", "--all-packages", "--python", sys.executable, *args]
    return subprocess.call(command, cwd=ROOT)


def sync(uv: list[str]) -> None:
    subprocess.run([*uv, "sync", "--locked", "--all-packages", "--python", sys.executable], cwd=ROOT, check=True)


def demo(uv: list[str], extra: list[str]) -> int:
    sync(uv)
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
    sync(uv)
    return uv_run(uv, "pytest", *extra)


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):
        print(f"wenti needs Python 3.11 or newer; this is {sys.version.split()[0]}.", file=sys.stderr)
        return 2
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    uv = ensure_uv()
    job = demo if argv[0] == "demo" else test
    return job(uv, argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
