"""A webhook receiver on 127.0.0.1 that verifies signatures and fails on purpose.

Each request takes the next behaviour from a script (default `ok`):

* `ok` - respond 204 after verifying and recording the delivery (after
  `delay_seconds`, to keep requests in flight),
* `500` - answer 500 without recording,
* `302` - answer a redirect without recording,
* `410` - answer 410 Gone,
* `429` - answer 429 with `Retry-After: 120`,
* `timeout` - record, then wait longer than the sender's timeout before answering,
* `reset` - record, then drop the connection without an answer (RST).

`timeout` and `reset` record the delivery first, as a real receiver that did the
work but whose answer was lost; the sender must resend, and the receiver's
deduplication on `webhook-id` must keep the effect single.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from wenti_webhooks.signing import VerificationFailed, verify


class Receiver:
    def __init__(self, secrets: list[str], now: Callable[[], float], hang_seconds: float = 1.0) -> None:
        self.secrets = secrets
        self.now = now
        self.hang_seconds = hang_seconds
        self.delay_seconds = 0.0
        self.script: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.effects: dict[str, dict[str, Any]] = {}
        self.duplicates = 0
        self.rejected: list[str] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def next_behaviour(self) -> str:
        with self.lock:
            return self.script.pop(0) if self.script else "ok"

    def accept(self, headers: dict[str, str], body: bytes) -> str | None:
        """Verify with any configured secret and apply the effect once; None if rejected."""
        message_id = None
        for secret in self.secrets:
            try:
                message_id = verify(secret, headers, body, self.now())
                break
            except VerificationFailed as error:
                reason = str(error)
        if message_id is None:
            with self.lock:
                self.rejected.append(reason)
            return None
        with self.lock:
            if message_id in self.effects:
                self.duplicates += 1
            else:
                self.effects[message_id] = json.loads(body)
        return message_id


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            if len(body) < length:
                # The sender died mid-request: like any HTTP server, drop the partial
                # body unread instead of judging its signature.
                self.close_connection = True
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            behaviour = receiver.next_behaviour()
            with receiver.lock:
                receiver.requests.append({"behaviour": behaviour, "headers": headers, "body": body})

            if behaviour in ("ok", "timeout", "reset"):
                if receiver.accept(headers, body) is None:
                    self._answer(401, b'{"error":"invalid signature"}')
                    return
            if behaviour == "timeout":
                time.sleep(receiver.hang_seconds)
                self._answer(204, b"")
            elif behaviour == "reset":
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.connection.close()
                self.close_connection = True
            elif behaviour == "ok":
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                self._answer(204, b"")
            elif behaviour == "500":
                self._answer(500, b"internal error")
            elif behaviour == "302":
                self._answer(302, b"", {"Location": "http://127.0.0.1:9/elsewhere"})
            elif behaviour == "410":
                self._answer(410, b"gone")
            elif behaviour == "429":
                self._answer(429, b"slow down", {"Retry-After": "120"})
            else:
                raise AssertionError(f"unknown behaviour {behaviour!r}")

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

    return Handler


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    """Start receivers on loopback: `make_receiver(secrets, now)`; all stop after the test."""
    started: list[Receiver] = []

    def make(secrets: list[str], now: Callable[[], float], hang_seconds: float = 1.0) -> Receiver:
        receiver = Receiver(secrets, now, hang_seconds)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        server.daemon_threads = True
        receiver.server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(receiver)
        return receiver

    yield make

    for receiver in started:
        assert receiver.server is not None
        receiver.server.shutdown()
        receiver.server.server_close()
