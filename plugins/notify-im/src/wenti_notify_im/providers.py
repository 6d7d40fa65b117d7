"""Request bodies, signatures and error codes of the three robot APIs.

Facts used here (docs/notifications.md lists the sources they were checked against):

* WeCom group robot: `POST .../cgi-bin/webhook/send?key=KEY`; no signature, the key
  is the credential. `text.content` takes at most 2048 bytes of UTF-8 and
  `markdown.content` at most 4096. Success is `{"errcode": 0}`; 45009 means the
  robot is over its limit (20 messages a minute); 93000 is an invalid key.
* DingTalk custom robot: `POST .../robot/send?access_token=T&timestamp=MS&sign=S`,
  where `S` is the URL-encoded base64 HMAC-SHA256 of `"{MS}\\n{secret}"` keyed
  with the secret, and `MS` must be within an hour of DingTalk's clock. 310000
  means a bad signature, timestamp or missing keyword; 130101 "send too fast"
  means over 20 a minute, after which the robot is throttled for 10 minutes.
* Feishu custom bot: `POST .../open-apis/bot/v2/hook/ID` with `timestamp`
  (seconds) and `sign` in the JSON body, where `sign` is the base64 HMAC-SHA256 of
  an empty message keyed with `"{timestamp}\\n{secret}"`. Success is `{"code": 0}`;
  19021 is a bad signature or a timestamp more than an hour off; 11232 is
  frequency limiting.

Every provider answers HTTP 200 with an error code in the body, so the body
decides success, not the status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit, urlunsplit

import attrs

from wenti_notify_im.config import Robot, reveal

WECOM_TEXT_BYTES = 2048
WECOM_MARKDOWN_BYTES = 4096
DINGTALK_THROTTLE_SECONDS = 600


@attrs.frozen
class Outcome:
    """The provider's verdict on one request: ok, throttled, a wrong credential, or another error."""

    ok: bool
    code: Any = None
    message: str = ""
    throttled: bool = False
    bad_credentials: bool = False
    retry_after: float | None = None


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    content = f"{timestamp_ms}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), content, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode("utf-8")
    digest = hmac.new(key, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def truncate_utf8(text: str, max_bytes: int) -> str:
    """Cut `text` to at most `max_bytes` of UTF-8 without splitting a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    marker = "…"
    budget = max_bytes - len(marker.encode("utf-8"))
    return encoded[:budget].decode("utf-8", errors="ignore") + marker


def build_request(robot: Robot, message: dict[str, Any], now_seconds: float) -> tuple[str, dict[str, Any]]:
    """Build the URL and JSON body that send `message` through `robot`."""
    url = reveal(robot.url)
    if robot.provider == "wecom":
        return url, _wecom_body(robot, message)
    if robot.provider == "dingtalk":
        body = _dingtalk_body(robot, message)
        if robot.secret is not None:
            timestamp_ms = int(now_seconds * 1000)
            sign = dingtalk_sign(reveal(robot.secret), timestamp_ms)
            url = _add_query(url, {"timestamp": str(timestamp_ms), "sign": sign})
        return url, body
    body = _feishu_body(robot, message)
    if robot.secret is not None:
        timestamp_s = int(now_seconds)
        body["timestamp"] = str(timestamp_s)
        body["sign"] = feishu_sign(reveal(robot.secret), timestamp_s)
    return url, body


def judge(robot: Robot, payload: Any) -> Outcome:
    """Classify the provider's JSON response."""
    if not isinstance(payload, dict):
        return Outcome(False, None, f"unexpected answer {str(payload)[:200]!r}")
    if robot.provider == "feishu":
        code = payload.get("code", payload.get("StatusCode"))
        text = str(payload.get("msg", payload.get("StatusMessage", "")))
        if code == 0:
            return Outcome(True, code, text)
        if code == 19021:
            return Outcome(False, code, text, bad_credentials=True)
        if code == 11232:
            return Outcome(False, code, text, throttled=True, retry_after=60)
        return Outcome(False, code, text)

    code = payload.get("errcode")
    text = str(payload.get("errmsg", ""))
    if code == 0:
        return Outcome(True, code, text)
    if robot.provider == "wecom":
        if code == 45009:
            return Outcome(False, code, text, throttled=True, retry_after=60)
        if code in (93000, 40008, 40058):
            return Outcome(False, code, text, bad_credentials=code == 93000)
        return Outcome(False, code, text)
    if code == 130101:
        return Outcome(False, code, text, throttled=True, retry_after=DINGTALK_THROTTLE_SECONDS)
    if code in (310000, 300001):
        return Outcome(False, code, text, bad_credentials=True)
    return Outcome(False, code, text)


def _with_keyword(robot: Robot, text: str) -> str:
    if robot.keyword and robot.keyword not in text:
        return f"{robot.keyword} {text}"
    return text


def _wecom_body(robot: Robot, message: dict[str, Any]) -> dict[str, Any]:
    if robot.format == "text":
        return {"msgtype": "text", "text": {"content": truncate_utf8(message["text"], WECOM_TEXT_BYTES)}}
    if robot.format == "card":
        return {
            "msgtype": "template_card",
            "template_card": {
                "card_type": "text_notice",
                "main_title": {"title": truncate_utf8(message["subject"], 120)},
                "sub_title_text": truncate_utf8(message["text"], 1000),
                "card_action": {"type": 1, "url": message.get("link", "")},
            },
        }
    return {"msgtype": "markdown", "markdown": {"content": truncate_utf8(message["markdown"], WECOM_MARKDOWN_BYTES)}}


def _dingtalk_body(robot: Robot, message: dict[str, Any]) -> dict[str, Any]:
    if robot.format == "text":
        return {"msgtype": "text", "text": {"content": _with_keyword(robot, message["text"])}}
    if robot.format == "card":
        return {
            "msgtype": "actionCard",
            "actionCard": {
                "title": _with_keyword(robot, message["subject"]),
                "text": _with_keyword(robot, message["markdown"]),
                "singleTitle": message["subject"][:20],
                "singleURL": message.get("link", ""),
            },
        }
    return {
        "msgtype": "markdown",
        "markdown": {"title": _with_keyword(robot, message["subject"]), "text": _with_keyword(robot, message["markdown"])},
    }


def _feishu_body(robot: Robot, message: dict[str, Any]) -> dict[str, Any]:
    if robot.format == "text":
        return {"msg_type": "text", "content": {"text": message["text"]}}
    elements: list[dict[str, Any]] = [{"tag": "div", "text": {"tag": "lark_md", "content": message["markdown"]}}]
    if robot.format == "card" and message.get("link"):
        elements.append(
            {
                "tag": "action",
                "actions": [
                    {"tag": "button", "text": {"tag": "plain_text", "content": message["subject"][:30]}, "url": message["link"], "type": "primary"}
                ],
            }
        )
    return {
        "msg_type": "interactive",
        "card": {
            "header": {"title": {"tag": "plain_text", "content": message["subject"]}},
            "elements": elements,
        },
    }


def _add_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    extra = urlencode(params, quote_via=quote_plus)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
