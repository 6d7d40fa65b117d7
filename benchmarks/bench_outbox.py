"""Notification throughput: webhook deliveries per second from one dispatcher.

Creates issues in a fresh SQLite instance with one webhook endpoint on a loopback
receiver, lets the core outbox route every event into the notify delivery queue,
then times one dispatcher (one thread, one HTTP connection) sending them all. The
receiver runs in its own process and checks every Standard Webhooks signature.

    python3 -m uv run python benchmarks/bench_outbox.py --events 5000

Target: at least 500 deliveries per second.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import multiprocessing
import threading
import urllib.request
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from wenti.clock import SystemClock
from wenti.testing import build_app
from wenti_notify import service_for
from wenti_webhooks.signing import new_secret, verify

TARGET_PER_SECOND = 500


def _serve(secret: str, port_queue: multiprocessing.Queue) -> None:
    """Run the receiver; it runs in its own process so it does not share the dispatcher's GIL."""
    seen: dict[str, int] = {"requests": 0, "unique": 0, "bad": 0}
    ids: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            data = json.dumps(seen).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                message_id = verify(secret, headers, body, time.time())
            except ValueError:
                message_id = None
            with lock:
                seen["requests"] += 1
                if message_id is None:
                    seen["bad"] += 1
                elif message_id not in ids:
                    ids.add(message_id)
                    seen["unique"] += 1
            self.send_response(204 if message_id else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

    # Threads only so that the final stats request is served beside the dispatcher's
    # keep-alive connection; the dispatcher itself sends one request at a time.
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def start_receiver(secret: str) -> tuple[multiprocessing.Process, int]:
    port_queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve, args=(secret, port_queue), daemon=True)
    process.start()
    return process, port_queue.get(timeout=30)


def receiver_stats(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as response:
        return json.loads(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000, help="issues to create, one webhook delivery each (default 5000)")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the SQLite instance (default: a temp folder)")
    parser.add_argument("--out", type=Path, default=None, help="write the result as JSON to this file")
    args = parser.parse_args()

    secret = new_secret()
    receiver, port = start_receiver(secret)
    host = "127.0.0.1"
    # The jobs plugin's scheduler would poll and run jobs beside the measured
    # dispatcher, so it is switched off for the run.
    config = f"""
[plugins.jobs]
autostart = false

[plugins.notify]
dispatch_in_process = false
batch_size = 500

[plugins.webhooks]
enabled = true

[[plugins.webhooks.endpoints]]
name = "bench"
url = "http://{host}:{port}/hook"
secrets = ["{secret}"]
"""
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="wenti-bench-outbox-"))
    app = build_app(workdir, config_toml=config, clock=SystemClock())
    ctx = app.context("default", "agent")

    started = time.perf_counter()
    for number in range(args.events):
        app.issues.create(ctx, queue="general", title=f"bench issue {number}")
    create_seconds = time.perf_counter() - started

    started = time.perf_counter()
    routed = 0
    while True:
        step = app.outbox.dispatch_pending()
        routed += step
        if step == 0:
            break
    route_seconds = time.perf_counter() - started

    dispatcher = service_for(app).dispatcher()
    started = time.perf_counter()
    result = dispatcher.run_until_idle(max_rounds=10_000)
    dispatch_seconds = time.perf_counter() - started
    app.close()
    seen = receiver_stats(port)
    receiver.terminate()

    per_second = result.delivered / dispatch_seconds if dispatch_seconds else 0.0
    report = {
        "events": args.events,
        "create_seconds": round(create_seconds, 2),
        "route_seconds": round(route_seconds, 2),
        "routed_outbox_messages": routed,
        "delivered": result.delivered,
        "failed": result.failed + result.dead,
        "dispatch_seconds": round(dispatch_seconds, 2),
        "deliveries_per_second": round(per_second, 1),
        "receiver_requests": seen["requests"],
        "receiver_unique": seen["unique"],
        "receiver_bad_signatures": seen["bad"],
        "target_per_second": TARGET_PER_SECOND,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    print(
        f"| webhook deliveries, 1 dispatcher | {args.events} | {per_second:.0f}/s | "
        f"target ≥ {TARGET_PER_SECOND}/s | {'met' if per_second >= TARGET_PER_SECOND else 'missed'} |"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    ok = result.delivered == args.events and seen["unique"] == args.events and seen["bad"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
