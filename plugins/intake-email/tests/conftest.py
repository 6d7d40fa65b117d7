"""The intake corpus: messages written byte by byte to cover Chinese mail as it is sent.

Each entry is (name, raw bytes, expected). `expected` lists what intake must read:
the subject, a text the body must contain, attachment names, or the action
(`ignored`, `quarantined`). The names of people and companies are made up.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import trustme

CRLF = b"\r\n"


def b_word(text: str, charset: str) -> bytes:
    return b"=?" + charset.encode() + b"?B?" + base64.b64encode(text.encode("gbk" if charset.lower() in ("gb2312", "gbk") else charset)) + b"?="


def b_word_bytes(data: bytes, charset: str) -> bytes:
    return b"=?" + charset.encode() + b"?B?" + base64.b64encode(data) + b"?="


def message(headers: list[bytes], body: bytes, message_id: str | None) -> bytes:
    lines = [b"From: =?utf-8?B?" + base64.b64encode("王喆".encode()) + b"?= <wangzhe@customer.example>"]
    lines.append(b"To: helpdesk@example.com")
    lines.append(b"Date: Mon, 02 Mar 2026 09:15:00 +0800")
    if message_id:
        lines.append(b"Message-ID: <" + message_id.encode() + b">")
    lines.extend(headers)
    return CRLF.join(lines) + CRLF + CRLF + body


def plain(body: str, charset: str, encoding: str = "base64") -> tuple[list[bytes], bytes]:
    data = body.encode("gbk" if charset in ("gb2312", "gbk") else charset)
    headers = [b"MIME-Version: 1.0", b"Content-Type: text/plain; charset=" + charset.encode()]
    if encoding == "base64":
        headers.append(b"Content-Transfer-Encoding: base64")
        return headers, base64.encodebytes(data).replace(b"\n", CRLF)
    headers.append(b"Content-Transfer-Encoding: 8bit")
    return headers, data.replace(b"\n", CRLF)


def with_attachment(text: str, name_header: bytes, data: bytes) -> tuple[list[bytes], bytes]:
    boundary = b"=_wenti_boundary_1"
    headers = [b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="' + boundary + b'"']
    body = CRLF.join(
        [
            b"--" + boundary,
            b"Content-Type: text/plain; charset=utf-8",
            b"Content-Transfer-Encoding: base64",
            b"",
            base64.b64encode(text.encode()),
            b"--" + boundary,
            b"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"Content-Transfer-Encoding: base64",
            name_header,
            b"",
            base64.b64encode(data),
            b"--" + boundary + b"--",
            b"",
        ]
    )
    return headers, body


def build_corpus() -> list[tuple[str, bytes, dict[str, Any]]]:
    corpus: list[tuple[str, bytes, dict[str, Any]]] = []

    headers, body = plain("打印机卡纸，联系人：王喆、张堃。", "gb2312")
    corpus.append(
        (
            "gb2312 label with GBK-only characters",
            message([b"Subject: " + b_word("喆堃的打印机坏了", "gb2312"), *headers], body, "c01@customer.example"),
            {"subject": "喆堃的打印机坏了", "text": "联系人：王喆、张堃"},
        )
    )

    utf8 = "服务器宕机无法登录".encode()
    split = 4  # inside the second character: 3 bytes each in UTF-8
    headers, body = plain("请尽快处理", "utf-8")
    corpus.append(
        (
            "UTF-8 encoded-words split inside a character",
            message([b"Subject: " + b_word_bytes(utf8[:split], "utf-8") + b"\r\n " + b_word_bytes(utf8[split:], "utf-8"), *headers], body, "c02@customer.example"),
            {"subject": "服务器宕机无法登录"},
        )
    )

    gbk = "财务系统报错镕".encode("gbk")
    headers, body = plain("金蝶凭证无法保存", "gbk")
    corpus.append(
        (
            "GBK encoded-words split inside a character, not separated by whitespace",
            message([b"Subject: " + b_word_bytes(gbk[:5], "gb2312") + b_word_bytes(gbk[5:], "gb2312"), *headers], body, "c03@customer.example"),
            {"subject": "财务系统报错镕", "text": "金蝶凭证无法保存"},
        )
    )

    headers, body = plain("邮件正文", "utf-8")
    corpus.append(
        (
            "encoded-word glued to plain text and Q encoding",
            message([b"Subject: URGENT:" + b_word("网络中断", "gbk") + b"-=?gb2312?Q?=B0=EC=B9=AB=CA=D2?=", *headers], body, "c04@customer.example"),
            {"subject": "URGENT:网络中断-办公室"},
        )
    )

    headers, body = plain("原始8位头部", "utf-8", encoding="8bit")
    corpus.append(
        (
            "raw 8-bit UTF-8 subject",
            message([b"Subject: " + "邮箱满了无法收信".encode(), *headers], body, "c05@customer.example"),
            {"subject": "邮箱满了无法收信", "text": "原始8位头部"},
        )
    )

    name = "月度报表喆.xlsx"
    encoded_name = quote(name.encode("gbk"), safe="")
    headers, body = with_attachment("请看附件", b"Content-Disposition: attachment; filename*=gb2312''" + encoded_name.encode(), b"PK\x03\x04 fake xlsx 1")
    corpus.append(
        (
            "RFC 2231 attachment name in gb2312 with a GBK-only character",
            message([b"Subject: =?utf-8?B?" + base64.b64encode("报表".encode()) + b"?=", *headers], body, "c06@customer.example"),
            {"subject": "报表", "attachments": [name]},
        )
    )

    long_name = "二〇二六年第一季度设备故障统计表.xlsx"
    encoded = quote(long_name.encode(), safe="")
    half = len(encoded) // 2
    while encoded[half - 1] == "%" or encoded[half - 2] == "%":
        half += 1
    disposition = (
        b"Content-Disposition: attachment;\r\n filename*0*=utf-8''" + encoded[:half].encode() + b";\r\n filename*1*=" + encoded[half:].encode()
    )
    headers, body = with_attachment("统计表", disposition, b"PK\x03\x04 fake xlsx 2")
    corpus.append(
        (
            "RFC 2231 continuation",
            message([b"Subject: stats", *headers], body, "c07@customer.example"),
            {"subject": "stats", "attachments": [long_name]},
        )
    )

    raw_name = "设备清单珺.xlsx".encode("gbk")
    headers, body = with_attachment("清单", b'Content-Disposition: attachment; filename="' + raw_name + b'"', b"PK\x03\x04 fake xlsx 3")
    corpus.append(
        (
            "raw 8-bit GBK attachment name",
            message([b"Subject: list", *headers], body, "c08@customer.example"),
            {"subject": "list", "attachments": ["设备清单珺.xlsx"]},
        )
    )

    markup = "<html><head><style>p{color:red}</style><script>alert('x')</script></head><body><p>您好，</p><p>VPN 连不上&nbsp;了 &amp; 很急</p><div>王喆</div></body></html>"
    html_bytes = markup.encode("gbk")
    corpus.append(
        (
            "HTML-only body labelled gb2312",
            message(
                [b"Subject: " + b_word("VPN故障", "gb2312"), b"MIME-Version: 1.0", b"Content-Type: text/html; charset=gb2312", b"Content-Transfer-Encoding: base64"],
                base64.encodebytes(html_bytes).replace(b"\n", CRLF),
                "c09@customer.example",
            ),
            {"subject": "VPN故障", "text": "VPN 连不上 了 & 很急", "absent": ["alert", "color:red", "<p>"]},
        )
    )

    corpus.append(
        (
            "no sender address",
            b"Subject: broken\r\nMessage-ID: <c10@customer.example>\r\n\r\nno from header",
            {"action": "quarantined", "reason": "contains no e-mail address"},
        )
    )

    headers, body = plain("我正在休假", "utf-8")
    corpus.append(
        (
            "auto-reply",
            message([b"Subject: =?utf-8?B?" + base64.b64encode("自动回复".encode()) + b"?=", b"Auto-Submitted: auto-replied", *headers], body, "c11@customer.example"),
            {"action": "ignored", "reason": "Auto-Submitted: auto-replied"},
        )
    )
    corpus.append(
        (
            "Exchange out of office",
            message([b"Subject: Out of office", b"X-Auto-Response-Suppress: All", *headers], body, "c12@customer.example"),
            {"action": "ignored", "reason": "X-Auto-Response-Suppress"},
        )
    )
    corpus.append(
        (
            "bulk mail",
            message([b"Subject: newsletter", b"Precedence: bulk", *headers], body, "c13@customer.example"),
            {"action": "ignored", "reason": "Precedence: bulk"},
        )
    )
    bounce = CRLF.join(
        [
            b"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>",
            b"To: helpdesk@example.com",
            b"Subject: Undelivered Mail Returned to Sender",
            b"Message-ID: <c14@mx.example.com>",
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
            b"",
            b"--b",
            b"Content-Type: text/plain",
            b"",
            b"delivery failed",
            b"--b--",
            b"",
        ]
    )
    corpus.append(("bounce", bounce, {"action": "ignored", "reason": "delivery report"}))
    corpus.append(
        (
            "wenti's own notification",
            message([b"Subject: [GENERAL-1] New issue", *headers], body, "0123abcd@wenti.example.com"),
            {"action": "ignored", "reason": "sent by wenti"},
        )
    )
    corpus.append(
        (
            "not a message at all",
            b"\x00\x01\x02 binary garbage \xff\xfe",
            {"action": "quarantined"},
        )
    )
    headers, body = plain("quoted-printable 正文", "utf-8")
    corpus.append(
        (
            "message without Message-ID",
            message([b"Subject: no id", *headers], body, None),
            {"subject": "no id"},
        )
    )
    return corpus


@pytest.fixture(scope="session")
def mail_corpus() -> list[tuple[str, bytes, dict[str, Any]]]:
    return build_corpus()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""


class Dovecot:
    def __init__(self, root: Path, port: int, tls_port: int, ca_path: str, process: subprocess.Popen[bytes]) -> None:
        self.root = root
        self.port = port
        self.tls_port = tls_port
        self.ca_path = ca_path
        self.process = process
        self.username = "helpdesk"
        self.password = "pass-2026"

    def client(self) -> Any:
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(self.username, self.password)
        return client


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """Debian's dovecot on free loopback ports (plain IMAP and IMAPS), config and mail in a temp folder.

    Skips when dovecot is not installed; `.ci/setup-imap.sh` installs it.
    """
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        pytest.skip("dovecot is not installed; run .ci/setup-imap.sh (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="wenti-dovecot-"))
    # Dovecot runs mail processes as an unprivileged user, which must reach the home folder.
    os.chmod(root, 0o755)
    for name in ("run", "state", "home"):
        (root / name).mkdir()
    uid, gid = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    os.chown(root / "home", uid, gid)
    port = _free_port()
    tls_port = _free_port()
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    certificate.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    certificate.private_key_pem.write_to_path(str(root / "key.pem"))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    (root / "passwd").write_text("helpdesk:{PLAIN}pass-2026\n", encoding="utf-8")
    (root / "dovecot.conf").write_text(DOVECOT_CONF.format(root=root, port=port, tls_port=tls_port, uid=uid, gid=gid), encoding="utf-8")
    process = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(f"dovecot exited at start: {output}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    else:
        process.kill()
        raise RuntimeError("dovecot did not start listening within 10 s")
    try:
        yield Dovecot(root, port, tls_port, str(root / "ca.pem"), process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
