"""An aiosmtpd server on 127.0.0.1 with STARTTLS or implicit TLS and a password login.

Certificates come from a throwaway CA made by trustme; the client trusts it through
`ca_file`. The server keeps every accepted message, parsed, in `received`.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USERNAME = "wenti"
PASSWORD = "s3cret-口令"


class Mailbox:
    def __init__(self) -> None:
        self.received: list[Any] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.received.append({"message": parsed, "rcpt": list(envelope.rcpt_tos), "tls": server.transport.get_extra_info("ssl_object") is not None})
        return "250 Message accepted"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    if isinstance(auth_data, LoginPassword) and auth_data.login == USERNAME.encode() and auth_data.password == PASSWORD.encode():
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unused_port() -> int:
    """A loopback port with nothing listening on it."""
    return free_port()


class Smtp:
    def __init__(self, controller: Controller, mailbox: Mailbox, ca_path: str, mode: str) -> None:
        self.controller = controller
        self.mailbox = mailbox
        self.ca_path = ca_path
        self.mode = mode
        self.port = controller.port


@pytest.fixture(scope="session")
def smtp_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, str]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("smtp-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


@pytest.fixture
def make_smtp(smtp_ca: tuple[trustme.CA, str]) -> Iterator[Callable[[str], Smtp]]:
    """`make_smtp("starttls")` or `make_smtp("tls")`: a running server with login."""
    ca, ca_path = smtp_ca
    started: list[Controller] = []

    def make(mode: str) -> Smtp:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        mailbox = Mailbox()
        options: dict[str, Any] = {
            "hostname": "127.0.0.1",
            "port": free_port(),
            "authenticator": _authenticate,
            "auth_require_tls": True,
        }
        if mode == "tls":
            # aiosmtpd only counts STARTTLS as encryption for `auth_require_tls`, so
            # with TLS from the first byte the check is off (the session is encrypted).
            options["ssl_context"] = context
            options["auth_require_tls"] = False
        else:
            options["tls_context"] = context
            options["require_starttls"] = True
        controller = Controller(mailbox, **options)
        controller.start()
        started.append(controller)
        return Smtp(controller, mailbox, ca_path, mode)

    yield make

    for controller in started:
        controller.stop()
