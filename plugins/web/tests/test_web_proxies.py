"""Client addresses behind reverse proxies: `[plugins.web] trusted_proxies`."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from litestar.testing import TestClient
from sqlalchemy import select
from wenti.config import load_config
from wenti.errors import ConfigError
from wenti.i18n import use_locale

import wenti_web
from wenti_web.cli import UVICORN_OPTIONS
from wenti_web.config import WebConfig
from wenti_web.proxies import client_address, parse_networks
from wenti_web.server import create_app
from wenti_web.tables import login_throttle, sessions

PROXY = "10.0.0.1"


def _client(peer: str) -> Any:
    return lambda *forwarded: client_address(peer, list(forwarded), parse_networks(("10.0.0.0/8", "2001:db8:1::/48")))


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # A peer outside the trusted networks: the header is the client's own claim.
        ("203.0.113.9", ["198.51.100.7"], "203.0.113.9"),
        ("203.0.113.9", [], "203.0.113.9"),
        # One trusted proxy.
        (PROXY, ["198.51.100.7"], "198.51.100.7"),
        (PROXY, [], PROXY),
        # The client sent a forged entry, and the proxy appended the real peer.
        (PROXY, ["1.2.3.4, 198.51.100.7"], "198.51.100.7"),
        # A chain of two trusted proxies: client, then 10.1.1.1, then 10.0.0.1.
        (PROXY, ["1.2.3.4, 198.51.100.7, 10.1.1.1"], "198.51.100.7"),
        # The same chain split over two header lines.
        (PROXY, ["1.2.3.4, 198.51.100.7", "10.1.1.1"], "198.51.100.7"),
        # Every hop trusted: the leftmost is the client.
        (PROXY, ["10.2.2.2, 10.1.1.1"], "10.2.2.2"),
        # Ports as some load balancers write them.
        (PROXY, ["198.51.100.7:51234"], "198.51.100.7"),
        (PROXY, ["[2001:db8:9::7]:443"], "2001:db8:9::7"),
        # IPv6 peer and clients, written in a long form and compared as addresses.
        ("2001:db8:1::5", ["2001:0db8:0009:0000:0000:0000:0000:0007"], "2001:db8:9::7"),
        ("2001:db8:1::5", ["2001:db8:9::7, 2001:db8:1::6"], "2001:db8:9::7"),
        ("2001:db8:2::5", ["198.51.100.7"], "2001:db8:2::5"),
        # A dual-stack socket reports an IPv4 peer as IPv4-mapped IPv6.
        ("::ffff:10.0.0.1", ["198.51.100.7"], "198.51.100.7"),
        ("::ffff:203.0.113.9", [], "203.0.113.9"),
        # Not an address where the client should be: the nearest trusted proxy is used.
        (PROXY, ["unknown"], PROXY),
        (PROXY, ["198.51.100.7, garbage, 10.1.1.1"], "10.1.1.1"),
    ],
)
def test_client_address_cases(peer, forwarded, expected):
    assert _client(peer)(*forwarded) == expected


def test_client_address_without_trusted_proxies():
    assert client_address(PROXY, ["198.51.100.7"], ()) == PROXY
    assert client_address("testclient", ["198.51.100.7"], parse_networks((PROXY,))) == "testclient"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("10.0.0.0/33", "'10.0.0.0/33'"),
        ("10.0.0.1/8", '"10.0.0.0/8"'),
        ("proxy.internal", "'proxy.internal'"),
        ("2001:db8::/129", "'2001:db8::/129'"),
    ],
)
def test_trusted_proxies_invalid_entry(value, fragment):
    with pytest.raises(ValueError, match="trusted_proxies") as caught:
        WebConfig(trusted_proxies=[value])

    assert fragment in str(caught.value)


def test_trusted_proxies_string_rejected():
    with pytest.raises(ValueError, match=r"must be a list"):
        WebConfig(trusted_proxies="10.0.0.1")


def test_trusted_proxies_valid_entries():
    config = WebConfig(trusted_proxies=["10.0.0.1", "10.0.0.0/8", "2001:db8::/32", "::1"])

    assert config.trusted_proxies == ("10.0.0.1", "10.0.0.0/8", "2001:db8::/32", "::1")
    assert WebConfig().trusted_proxies == ()


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ('["10.0.0.0/8", "192.168.1.0/33"]', "'192.168.1.0/33' is not an IP address or CIDR network"),
        ('["10.0.0.1/8"]', 'write the network address "10.0.0.0/8"'),
        ('"10.0.0.1"', 'must be a list such as ["10.0.0.1"]'),
    ],
)
def test_invalid_trusted_proxies_in_config_file(tmp_path: Path, wenti_pm, register_plugin, monkeypatch, written, expected):
    for name in ("WENTI_CONFIG", "WENTI_DISABLE_PLUGINS", "WENTI_LOAD_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    register_plugin(wenti_web, "web")
    path = tmp_path / "wenti.toml"
    path.write_text(f"[plugins.web]\ntrusted_proxies = {written}\n", encoding="utf-8")

    with use_locale("en"), pytest.raises(ConfigError) as caught:
        load_config(path, plugin_host=wenti_pm).plugin("web")

    message = str(caught.value)
    assert str(path) in message
    assert "[plugins] web" in message
    assert expected in message


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class _Peer:
    """ASGI wrapper that sets the socket peer address, as a server would."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.peer = "203.0.113.9"

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "client": (self.peer, 40000)}
        await self.app(scope, receive, send)


def _login(client: TestClient, username: str, password: str, forwarded_for: str | None = None) -> httpx.Response:
    page = client.get("/login")
    assert page.status_code == 200, page.text
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": client.cookies.get("wenti_login_csrf"),
            "tenant": "default",
            "next": "/",
        },
        headers=headers,
        follow_redirects=False,
    )


def _throttled_ips(app: Any) -> set[str]:
    with app.uow("default") as uow:
        rows = uow.sql_connection().execute(select(login_throttle.c.subject).where(login_throttle.c.scope == "ip"))
        return {row.subject for row in rows}


def test_forged_header_ignored_from_untrusted_peer(web):
    web_app = web.app
    wrapper = _Peer(create_app(web_app, WebConfig(trusted_proxies=(PROXY,))))
    client = TestClient(wrapper, base_url="http://127.0.0.1")

    # Each attempt claims another address and another account, so only the IP budget counts.
    statuses = [_login(client, f"nobody{n}", "wrong", f"198.51.100.{n}").status_code for n in range(6)]
    valid_password = _login(client, "agent", web.password, "198.51.100.99")

    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    assert valid_password.status_code == 429
    assert _throttled_ips(web_app) == {"203.0.113.9"}


def test_trusted_proxy_forwards_client_address(web):
    web_app = web.app
    wrapper = _Peer(create_app(web_app, WebConfig(trusted_proxies=("10.0.0.0/8",))))
    wrapper.peer = PROXY
    client = TestClient(wrapper, base_url="http://127.0.0.1")

    records = _Records()
    logger = logging.getLogger("wenti_web.accounts")
    logger.addHandler(records)
    try:
        statuses = [_login(client, f"nobody{n}", "wrong", "198.51.100.7").status_code for n in range(6)]
        other_client = _login(client, "agent", web.password, "1.2.3.4, 198.51.100.8, 10.9.9.9")
    finally:
        logger.removeHandler(records)
    log_text = "\n".join(records.lines)

    assert statuses[5] == 429
    assert other_client.status_code == 303
    assert _throttled_ips(web_app) == {"198.51.100.7"}
    assert "login failed: tenant=default account=nobody0 ip=198.51.100.7" in log_text
    assert "login throttled: tenant=default account=nobody5 ip=198.51.100.7" in log_text
    assert "login: tenant=default user=agent ip=198.51.100.8" in log_text
    assert f"ip={PROXY}" not in log_text
    with web_app.uow("default") as uow:
        stored = uow.sql_connection().execute(select(sessions.c.ip).where(sessions.c.username == "agent")).scalars().all()
    assert stored == ["198.51.100.8"]


def test_trusted_ipv6_proxy(web_app):
    wrapper = _Peer(create_app(web_app, WebConfig(trusted_proxies=("2001:db8:1::/48",))))
    wrapper.peer = "2001:db8:1::5"
    client = TestClient(wrapper, base_url="http://127.0.0.1")

    response = _login(client, "nobody", "wrong", "2001:db8:9:0::7")

    assert response.status_code == 401
    assert _throttled_ips(web_app) == {"2001:db8:9::7"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_options_keep_socket_peer(web_app):
    """`wenti serve` runs uvicorn without its own X-Forwarded-For handling, which
    would otherwise trust loopback peers before the app receives the request."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(web_app), host="127.0.0.1", port=port, **UVICORN_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started

        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            page = client.get("/login")
            response = client.post(
                "/login",
                data={
                    "username": "nobody",
                    "password": "wrong",
                    "csrf_token": client.cookies.get("wenti_login_csrf"),
                    "tenant": "default",
                },
                headers={"X-Forwarded-For": "198.51.100.7"},
            )
    finally:
        server.should_exit = True
        thread.join(timeout=10)

    assert page.status_code == 200
    assert response.status_code == 401
    assert _throttled_ips(web_app) == {"127.0.0.1"}
