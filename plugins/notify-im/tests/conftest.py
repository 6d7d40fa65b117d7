"""Loopback fakes of the WeCom, DingTalk and Feishu robot APIs.

One HTTP server on 127.0.0.1 answers the three providers' robot paths the way
their documentation describes: HTTP 200 with an error code in the body, the
provider's own signature and timestamp checks, and the per-minute limit with the
provider's throttling answer. It records every accepted message. Time comes from
the test's clock, so windows and throttling follow `FrozenClock.advance()`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest

HOUR = 3600
DINGTALK_THROTTLE = 600


class RobotFakes:
    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self.wecom_keys: set[str] = set()
        self.dingtalk: dict[str, tuple[str | None, str]] = {}
        self.feishu: dict[str, str | None] = {}
        self.limits = {"wecom": 20, "dingtalk": 20, "feishu": 100}
        self.sent: dict[tuple[str, str], list[float]] = {}
        self.throttled_until: dict[str, float] = {}
        self.accepted: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def over_limit(self, provider: str, robot: str) -> bool:
        now = self.now()
        times = [t for t in self.sent.get((provider, robot), []) if t > now - 60]
        self.sent[(provider, robot)] = times
        if len(times) >= self.limits[provider]:
            return True
        times.append(now)
        return False

    # -- providers --------------------------------------------------------------

    def wecom(self, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
        key = (query.get("key") or [""])[0]
        if key not in self.wecom_keys:
            return {"errcode": 93000, "errmsg": "invalid webhook url, hint: [fake]"}
        kind = body.get("msgtype")
        if kind == "text":
            content = body["text"]["content"]
            if len(content.encode("utf-8")) > 2048:
                # NOTE: the fake's code for oversize content is an assumption.
                return {"errcode": 40058, "errmsg": "content exceed max length 2048"}
        elif kind == "markdown":
            content = body["markdown"]["content"]
            if len(content.encode("utf-8")) > 4096:
                return {"errcode": 40058, "errmsg": "content exceed max length 4096"}
        elif kind == "template_card":
            if body["template_card"]["card_type"] != "text_notice" or "main_title" not in body["template_card"]:
                return {"errcode": 40008, "errmsg": "invalid message type"}
        else:
            return {"errcode": 40008, "errmsg": "invalid message type"}
        if self.over_limit("wecom", key):
            return {"errcode": 45009, "errmsg": "api freq out of limit"}
        self.accepted.append({"provider": "wecom", "robot": key, "body": body})
        return {"errcode": 0, "errmsg": "ok"}

    def dingtalk_robot(self, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
        token = (query.get("access_token") or [""])[0]
        if token not in self.dingtalk:
            return {"errcode": 300001, "errmsg": "token is not exist"}
        secret, keyword = self.dingtalk[token]
        if secret is not None:
            timestamp = (query.get("timestamp") or [""])[0]
            sign = (query.get("sign") or [""])[0]
            if not timestamp.isdigit() or abs(self.now() * 1000 - int(timestamp)) > HOUR * 1000:
                return {"errcode": 310000, "errmsg": "invalid timestamp"}
            digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(base64.b64encode(digest).decode(), sign):
                return {"errcode": 310000, "errmsg": "sign not match"}
        text = json.dumps(body, ensure_ascii=False)
        if keyword and keyword not in text:
            return {"errcode": 310000, "errmsg": "keywords not in content"}
        kind = body.get("msgtype")
        required = {"text": ("content",), "markdown": ("title", "text"), "actionCard": ("title", "text")}
        if kind not in required or any(field not in body.get(kind, {}) for field in required[kind]):
            return {"errcode": 40035, "errmsg": "缺少参数 json"}
        now = self.now()
        if self.throttled_until.get(token, 0) > now:
            return {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        if self.over_limit("dingtalk", token):
            self.throttled_until[token] = now + DINGTALK_THROTTLE
            return {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        self.accepted.append({"provider": "dingtalk", "robot": token, "body": body})
        return {"errcode": 0, "errmsg": "ok"}

    def feishu_bot(self, hook: str, body: dict[str, Any]) -> dict[str, Any]:
        if hook not in self.feishu:
            return {"code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}}
        secret = self.feishu[hook]
        if secret is not None:
            timestamp = str(body.get("timestamp", ""))
            key = f"{timestamp}\n{secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            stale = not timestamp.isdigit() or abs(self.now() - int(timestamp)) > HOUR
            if stale or not hmac.compare_digest(expected, str(body.get("sign", ""))):
                return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time", "data": {}}
        kind = body.get("msg_type")
        if kind == "text" and "text" in body.get("content", {}):
            pass
        elif kind == "interactive" and "elements" in body.get("card", {}):
            pass
        else:
            return {"code": 19002, "msg": "params error, msg_type need", "data": {}}
        if self.over_limit("feishu", hook):
            # NOTE: 11232 as Feishu's frequency-limit code comes from secondary sources.
            return {"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]", "data": {}}
        self.accepted.append({"provider": "feishu", "robot": hook, "body": body})
        return {"code": 0, "msg": "success", "data": {}}


def _handler(fakes: RobotFakes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            query = {key: [unquote_plus(v) for v in values] for key, values in parse_qs(parts.query).items()}
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                body = json.loads(raw)
            except ValueError:
                self._reply({"errcode": 40035, "errmsg": "invalid json"})
                return
            with fakes.lock:
                if parts.path == "/cgi-bin/webhook/send":
                    answer = fakes.wecom(query, body)
                elif parts.path == "/robot/send":
                    answer = fakes.dingtalk_robot(query, body)
                elif parts.path.startswith("/open-apis/bot/v2/hook/"):
                    answer = fakes.feishu_bot(parts.path.rsplit("/", 1)[1], body)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                fakes.answers.append(answer)
            self._reply(answer)

        def _reply(self, answer: dict[str, Any]) -> None:
            data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def robot_fakes(frozen_clock) -> Iterator[RobotFakes]:
    fakes = RobotFakes(lambda: frozen_clock.now().timestamp())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fakes))
    server.daemon_threads = True
    fakes.server = server
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield fakes
    server.shutdown()
    server.server_close()
