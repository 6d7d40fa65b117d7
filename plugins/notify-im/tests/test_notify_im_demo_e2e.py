"""The demo organisation with every channel on, each pointed at a loopback server.

E-mail goes to an aiosmtpd server, robots to the provider fakes of this folder's
conftest, webhooks to a receiver that verifies every signature. The demo's
history is replayed, every user gets an address, and all notifications are sent.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from wenti.demo import load_demo
from wenti.domain import Role
from wenti.testing import build_app
from wenti_notify import service_for
from wenti_notify.queue import DEAD, DELIVERED
from wenti_webhooks.signing import VerificationFailed, new_secret, verify

SECRET = new_secret()
DINGTALK_SECRET = "SEC" + "d" * 61
FEISHU_SECRET = "feishu-demo-secret"


class Mailbox:
    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, mailbox
    controller.stop()


@pytest.fixture
def hook_receiver(frozen_clock):
    effects: dict[str, dict] = {}
    rejected: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                message_id = verify(SECRET, dict(self.headers.items()), body, frozen_clock.now().timestamp())
                effects.setdefault(message_id, json.loads(body))
                status = 204
            except VerificationFailed as error:
                rejected.append(str(error))
                status = 401
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", effects, rejected
    server.shutdown()
    server.server_close()


def test_demo_with_every_channel(tmp_path, frozen_clock, smtp, robot_fakes, hook_receiver):
    smtp_port, mailbox = smtp
    hook_url, effects, rejected = hook_receiver
    robot_fakes.wecom_keys.add("demo-key")
    robot_fakes.dingtalk["demo-token"] = (DINGTALK_SECRET, "")
    robot_fakes.feishu["demo-hook"] = FEISHU_SECRET
    config = f"""
[plugins.notify]
dispatch_in_process = false
base_url = "https://wenti.example.com"

[[plugins.notify.queue_channels]]
queue = "it"
channel = "dingtalk"
target = "it-group"

[[plugins.notify.queue_channels]]
queue = "cs"
channel = "wecom"
target = "cs-group"

[[plugins.notify.queue_channels]]
queue = "fm"
channel = "feishu"
target = "fm-group"

[plugins.notify-email]
enabled = true
port = {smtp_port}
security = "none"
from_address = "helpdesk@example.com"
reply_address = "helpdesk+{{key}}@example.com"
message_id_domain = "wenti.example.com"

[plugins.notify-im]
enabled = true

[[plugins.notify-im.robots]]
name = "it-group"
provider = "dingtalk"
url = "{robot_fakes.base}/robot/send?access_token=demo-token"
secret = "{DINGTALK_SECRET}"

[[plugins.notify-im.robots]]
name = "cs-group"
provider = "wecom"
url = "{robot_fakes.base}/cgi-bin/webhook/send?key=demo-key"

[[plugins.notify-im.robots]]
name = "fm-group"
provider = "feishu"
url = "{robot_fakes.base}/open-apis/bot/v2/hook/demo-hook"
secret = "{FEISHU_SECRET}"
format = "card"

[plugins.webhooks]
enabled = true

[[plugins.webhooks.endpoints]]
name = "erp"
url = "{hook_url}"
secrets = ["{SECRET}"]
"""
    app = build_app(tmp_path, config_toml=config, clock=frozen_clock, tenant=None)
    try:
        report = load_demo(app, "default", seed=7, count=30)
        admin = app.context("default", "admin")
        with app.uow("default") as uow:
            people = uow.users.list()
        for person in people:
            app.admin.update_user(admin, person.username, email=f"{person.username}@example.com")
        roles = {person.username: getattr(person.role, "value", person.role) for person in people}
        while app.outbox.dispatch_pending():
            pass
        service_for(app).dispatcher().run_until_idle()
        deliveries = service_for(app).list_deliveries(admin, limit=5000)
    finally:
        app.close()

    assert report.created == 30
    by_channel = {channel: [row for row in deliveries if row.channel == channel] for channel in ("email", "dingtalk", "wecom", "feishu", "webhook")}
    assert all(by_channel[channel] for channel in by_channel), {key: len(value) for key, value in by_channel.items()}
    assert {row.status for row in deliveries} == {DELIVERED}
    assert not [row for row in deliveries if row.status == DEAD]

    assert len(mailbox.received) == len(by_channel["email"])
    message_ids = [mail["Message-ID"] for mail in mailbox.received]
    assert len(set(message_ids)) == len(message_ids)
    reporter_mail = [row for row in by_channel["email"] if roles.get(row.recipient) == Role.REPORTER.value]
    assert reporter_mail
    assert all(row.message["kind"] != "note" for row in reporter_mail)

    assert {item["provider"] for item in robot_fakes.accepted} == {"dingtalk", "wecom", "feishu"}
    assert all(answer.get("errcode", answer.get("code")) == 0 for answer in robot_fakes.answers)

    assert rejected == []
    assert len(effects) == len(by_channel["webhook"])
