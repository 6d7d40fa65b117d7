"""Web benchmark: the REST API under `wenti serve` against a bare Litestar reference.

Builds an instance with the shared workload (`../shared/bench/workload.py`) imported
through `wenti import`, then starts two servers on 127.0.0.1, one uvicorn worker each:

1. `wenti serve` (plugins `sql` and `web`, SQLite in WAL mode with synchronous=NORMAL),
   called with an API token;
2. a reference Litestar app (`reference_app` below) whose one handler runs the same
   SQL as the store's first-page list query, `SELECT … FROM wenti_issues WHERE
   tenant_id = ? ORDER BY created_at DESC, id DESC LIMIT 51`, on the same database
   file, with no authentication, service layer or problem handling.

Then, from one client with a kept-alive connection, in the same run:

* list first page: `GET /api/v1/issues?limit=50` on wenti and `GET /reference/issues`
  on the reference, `--list-requests` each after `--warmup` untimed requests, in
  alternating blocks of 50 so other load on the machine hits both alike;
* create issue: `POST /api/v1/issues` (`--create-requests`), each with its own
  Idempotency-Key.

Every loop is bounded by its request count and by `--max-seconds`. Usage:

    python3 -m uv run python benchmarks/bench_web.py --size 100000 --out benchmarks/results/web.json

Targets: list first page p95 <= 50 ms; wenti's list p95 <= 2x the reference's.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import QUEUE, TENANT, config_text, setup_instance, wenti_command, write_import_files  # noqa: E402
from common import load_average, load_workload, machine_facts, summarize  # noqa: E402

LIST_P95_TARGET_MS = 50.0
OVERHEAD_TARGET = 2.0
BLOCK = 50
BENCH_PASSWORD = "bench password for loopback only"

REFERENCE_APP = '''
import os
from litestar import Litestar, get
from litestar.response import Response
from sqlalchemy import create_engine, event, text

DATABASE, TENANT = os.environ["REFERENCE_DATABASE"], os.environ["REFERENCE_TENANT"]
engine = create_engine("sqlite:///" + DATABASE)

@event.listens_for(engine, "connect")
def _pragmas(connection, _record):
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()

QUERY = text(
    "SELECT * FROM wenti_issues WHERE tenant_id = :tenant ORDER BY created_at DESC, id DESC LIMIT 51"
)

@get("/reference/issues", sync_to_thread=True)
def issues() -> Response:
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(QUERY, {"tenant": TENANT}).mappings()]
    items = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()} for row in rows[:50]]
    return Response({"items": items, "next_cursor": "x" if len(rows) > 50 else None})

app = Litestar([issues])
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server for {url} exited with status {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"server for {url} did not respond within {seconds} s")


def run_wenti(folder: Path, *args: str, env: dict[str, str] | None = None) -> str:
    command = [wenti_command(), "--config", str(folder / "wenti.toml"), "--tenant", TENANT, "--lang", "en", *args]
    completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")
    return completed.stdout


def build_instance(folder: Path, size: int) -> tuple[float, str]:
    """Create the instance, import the workload and return (import seconds, API token)."""
    workload = load_workload().Workload(size)
    setup_instance(folder, workload, ["sql", "web"])
    jsonl_path, mapping_path = write_import_files(workload, folder)
    start = time.perf_counter()
    run_wenti(folder, "--as", workload.update_author, "import", str(jsonl_path), "--mapping", str(mapping_path), "--batch-size", "500")
    imported = time.perf_counter() - start
    run_wenti(folder, "web", "set-password", workload.update_author, env={"WENTI_PASSWORD": BENCH_PASSWORD})
    token = run_wenti(folder, "web", "create-token", workload.update_author, "--name", "bench").strip().splitlines()[-1]
    return imported, token


def timed_get(client: httpx.Client, url: str, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"GET {url} returned status {response.status_code}: {response.text[:500]}")
    return elapsed


def measure_lists(client: httpx.Client, wenti_url: str, reference_url: str, token: str, requests: int, warmup: int, max_seconds: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(warmup):
        timed_get(client, wenti_url, headers)
        timed_get(client, reference_url, {})
    wenti_times: list[float] = []
    reference_times: list[float] = []
    deadline = time.monotonic() + max_seconds
    while len(wenti_times) < requests and time.monotonic() < deadline:
        wenti_times.extend(timed_get(client, wenti_url, headers) for _ in range(BLOCK))
        reference_times.extend(timed_get(client, reference_url, {}) for _ in range(BLOCK))
    return {
        "wenti": {**summarize(wenti_times), "per_second": round(len(wenti_times) / sum(wenti_times), 1)},
        "reference": {**summarize(reference_times), "per_second": round(len(reference_times) / sum(reference_times), 1)},
    }


def measure_creates(client: httpx.Client, base: str, token: str, requests: int, max_seconds: float) -> dict[str, Any]:
    times: list[float] = []
    deadline = time.monotonic() + max_seconds
    for number in range(requests):
        if time.monotonic() > deadline:
            break
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        body = {"title": f"基准测试问题 {number}", "queue": QUEUE, "description": "bench", "priority": "normal"}
        start = time.perf_counter()
        response = client.post(base + "/api/v1/issues", json=body, headers=headers)
        times.append(time.perf_counter() - start)
        if response.status_code != 201:
            raise SystemExit(f"POST /api/v1/issues returned status {response.status_code}: {response.text[:500]}")
    return {**summarize(times), "per_second": round(len(times) / sum(times), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="issues imported before the run (default: 100000)")
    parser.add_argument("--list-requests", type=int, default=1000, help="timed list requests per server (default: 1000)")
    parser.add_argument("--create-requests", type=int, default=500, help="timed create requests (default: 500)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests per server first (default: 50)")
    parser.add_argument("--max-seconds", type=float, default=120, help="upper bound of each timed loop in seconds (default: 120)")
    parser.add_argument("--out", type=Path, help="write the results as JSON to this file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="wenti-bench-web-") as temporary:
        folder = Path(temporary) / "instance"
        print(f"building an instance with {args.size} issues in {folder}", flush=True)
        import_seconds, token = build_instance(folder, args.size)
        print(f"  imported in {import_seconds:.1f} s", flush=True)

        wenti_port, reference_port = free_port(), free_port()
        environment = {**os.environ, "WENTI_LOG_LEVEL": "WARNING"}
        wenti_server = subprocess.Popen(
            [wenti_command(), "--config", str(folder / "wenti.toml"), "serve", "--host", "127.0.0.1", "--port", str(wenti_port), "--workers", "1"],
            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        reference_file = folder / "reference_app.py"
        reference_file.write_text(REFERENCE_APP, encoding="utf-8")
        reference_server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(folder), "--host", "127.0.0.1", "--port", str(reference_port),
             "--workers", "1", "--log-level", "warning", "--no-access-log", "reference_app:app"],
            env={**environment, "REFERENCE_DATABASE": str(folder / "wenti.db"), "REFERENCE_TENANT": TENANT},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wenti_base = f"http://127.0.0.1:{wenti_port}"
            reference_base = f"http://127.0.0.1:{reference_port}"
            wait_until_up(wenti_base + "/healthz", wenti_server)
            wait_until_up(reference_base + "/reference/issues", reference_server)
            with httpx.Client(timeout=30) as client:
                lists = measure_lists(
                    client, wenti_base + "/api/v1/issues?limit=50", reference_base + "/reference/issues",
                    token, args.list_requests, args.warmup, args.max_seconds,
                )
                creates = measure_creates(client, wenti_base, token, args.create_requests, args.max_seconds)
        finally:
            for process in (wenti_server, reference_server):
                process.terminate()
            for process in (wenti_server, reference_server):
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()

    ratio = lists["wenti"]["p95_ms"] / lists["reference"]["p95_ms"]
    result = {
        "size": args.size,
        "import_seconds": round(import_seconds, 1),
        "list_first_page": lists,
        "list_p95_ratio": round(ratio, 2),
        "create_issue": creates,
        "targets": {
            "list_p95_ms": {"target": LIST_P95_TARGET_MS, "met": lists["wenti"]["p95_ms"] <= LIST_P95_TARGET_MS},
            "overhead_ratio": {"target": OVERHEAD_TARGET, "met": ratio <= OVERHEAD_TARGET},
        },
        "load_average": load_average(),
        "machine": machine_facts(),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2, ensure_ascii=False))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
