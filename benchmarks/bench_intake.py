"""E-mail intake throughput: messages per second from a Maildir of mixed encodings.

Writes a Maildir of generated messages (default 10,000). They mix UTF-8 and
mislabelled GB2312 bodies with GBK-only characters, RFC 2047 subjects split inside
a character, HTML-only bodies, and RFC 2231 and raw 8-bit GBK attachment names.
Some are replies to earlier messages, some auto-replies, a few unreadable. Then it
times `wenti_intake_email.import_folder` taking them into a fresh SQLite instance.

    python3 -m uv run python benchmarks/bench_intake.py --messages 10000

Target: at least 200 messages per second parsed into issues.
"""

from __future__ import annotations

import argparse
import base64
import json
import mailbox
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from wenti.clock import SystemClock
from wenti.testing import build_app
from wenti_intake_email import import_folder, service_for

TARGET_PER_SECOND = 200
WORDS = ["打印机", "卡纸", "服务器", "宕机", "网络", "中断", "喆", "堃", "镕", "财务", "系统", "报错", "邮箱", "VPN", "登录", "密码", "重置"]


def _b_word(data: bytes, charset: str) -> bytes:
    return b"=?" + charset.encode() + b"?B?" + base64.b64encode(data) + b"?="


def _message(number: int, rng: random.Random, earlier: list[str]) -> bytes:
    subject_text = "".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))) + f" {number}"
    body_text = "，".join(rng.choice(WORDS) for _ in range(rng.randint(10, 60)))
    message_id = f"bench{number}@customer.example"
    kind = rng.random()
    lines = [
        b"From: =?utf-8?B?" + base64.b64encode(f"用户{number % 500}".encode()) + f"?= <user{number % 500}@customer.example>".encode(),
        b"To: helpdesk@example.com",
        b"Date: Mon, 02 Mar 2026 09:15:00 +0800",
        b"Message-ID: <" + message_id.encode() + b">",
        b"MIME-Version: 1.0",
    ]
    if kind < 0.01:
        return b"Subject: unreadable\r\n\r\nno sender at all"
    if kind < 0.05:
        lines += [b"Subject: Out of office", b"Auto-Submitted: auto-replied", b"Content-Type: text/plain; charset=utf-8", b"", b"away"]
        return b"\r\n".join(lines)
    if kind < 0.25 and earlier:
        lines.append(b"In-Reply-To: <" + rng.choice(earlier).encode() + b">")
    if kind < 0.45:
        data = subject_text.encode("gbk")
        cut = max(1, len(data) // 2 | 1)
        lines.append(b"Subject: " + _b_word(data[:cut], "gb2312") + _b_word(data[cut:], "gb2312"))
        lines += [b"Content-Type: text/plain; charset=gb2312", b"Content-Transfer-Encoding: base64", b""]
        lines.append(base64.encodebytes(body_text.encode("gbk")).replace(b"\n", b"\r\n"))
    elif kind < 0.65:
        data = subject_text.encode("utf-8")
        lines.append(b"Subject: " + _b_word(data[:4], "utf-8") + b"\r\n " + _b_word(data[4:], "utf-8"))
        markup = f"<html><body><p>{body_text}</p><script>x()</script></body></html>"
        lines += [b"Content-Type: text/html; charset=utf-8", b"Content-Transfer-Encoding: base64", b""]
        lines.append(base64.encodebytes(markup.encode()).replace(b"\n", b"\r\n"))
    elif kind < 0.8:
        lines.append(b"Subject: " + _b_word(subject_text.encode(), "utf-8"))
        name = f"报表{number}喆.xlsx"
        if number % 2:
            disposition = b"Content-Disposition: attachment; filename*=gb2312''" + quote(name.encode("gbk"), safe="").encode()
        else:
            disposition = b'Content-Disposition: attachment; filename="' + name.encode("gbk") + b'"'
        lines += [b'Content-Type: multipart/mixed; boundary="bb"', b"", b"--bb", b"Content-Type: text/plain; charset=utf-8", b""]
        lines.append(body_text.encode())
        lines += [b"--bb", b"Content-Type: application/octet-stream", b"Content-Transfer-Encoding: base64", disposition, b""]
        lines.append(base64.b64encode(os.urandom(2048)))
        lines.append(b"--bb--")
    else:
        lines.append(b"Subject: " + _b_word(subject_text.encode(), "utf-8"))
        lines += [b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: 8bit", b""]
        lines.append(body_text.encode())
    return b"\r\n".join(lines)


def write_maildir(path: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    box = mailbox.Maildir(str(path), create=True)
    earlier: list[str] = []
    for number in range(count):
        box.add(_message(number, rng, earlier))
        earlier.append(f"bench{number}@customer.example")
        earlier = earlier[-200:]
    box.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000, help="messages in the Maildir (default 10000)")
    parser.add_argument("--seed", type=int, default=20260302, help="seed of the message generator")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the Maildir and the instance (default: a temp folder)")
    parser.add_argument("--out", type=Path, default=None, help="write the result as JSON to this file")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="wenti-bench-intake-"))
    maildir = workdir / "Maildir"
    started = time.perf_counter()
    write_maildir(maildir, args.messages, args.seed)
    write_seconds = time.perf_counter() - started

    config = """
[plugins.jobs]
autostart = false

[plugins.intake-email]
enabled = true
queue = "general"
"""
    app = build_app(workdir / "instance", config_toml=config, clock=SystemClock())
    started = time.perf_counter()
    counts = import_folder(service_for(app), maildir)
    seconds = time.perf_counter() - started
    app.close()

    per_second = args.messages / seconds if seconds else 0.0
    report = {
        "messages": args.messages,
        "write_seconds": round(write_seconds, 2),
        "import_seconds": round(seconds, 2),
        "messages_per_second": round(per_second, 1),
        "counts": counts,
        "target_per_second": TARGET_PER_SECOND,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    print(
        f"| e-mail intake from Maildir | {args.messages} | {per_second:.0f}/s | "
        f"target ≥ {TARGET_PER_SECOND}/s | {'met' if per_second >= TARGET_PER_SECOND else 'missed'} |"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0 if sum(counts.values()) == args.messages else 1


if __name__ == "__main__":
    raise SystemExit(main())
