"""Decoding of the corpus, message by message, without a database."""

from __future__ import annotations

import pytest

from wenti_intake_email.decode import decode_header_bytes, html_to_text
from wenti_intake_email.parse import UnreadableMail, parse_mail, strip_quoted


def test_corpus_decodes(mail_corpus):
    checked = 0
    for name, raw, expected in mail_corpus:
        if expected.get("action") == "quarantined":
            with pytest.raises(UnreadableMail):
                parse_mail(raw, "wenti.example.com")
            checked += 1
            continue
        mail = parse_mail(raw, "wenti.example.com")
        if expected.get("action") == "ignored":
            assert mail.automatic is not None, name
            assert expected["reason"] in mail.automatic, name
            checked += 1
            continue
        assert mail.automatic is None, name
        assert mail.subject == expected["subject"], name
        if "text" in expected:
            assert expected["text"] in mail.text, name
        for absent in expected.get("absent", []):
            assert absent not in mail.text, name
        assert [item.filename for item in mail.attachments] == expected.get("attachments", []), name
        checked += 1
    assert checked == len(mail_corpus)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"),
        (b"=?utf-8?Q?a?=\r\n =?utf-8?Q?b?=", "ab"),
        (b"plain =?utf-8?Q?a?= text", "plain a text"),
        (b"=?GB2312?B?tPLTobv6?=", "打印机"),
        (b"=?unknown-charset?B?5omT5Y2w5py6?=", "打印机"),
        (b"=?utf-8?B?5omT5Y2w5py6?=", "打印机"),
        (b"=?utf-8?B?5omT5Y2w5py6?", "=?utf-8?B?5omT5Y2w5py6?"),
    ],
)
def test_header_decoding_cases(raw, text):
    assert decode_header_bytes(raw) == text


def test_html_to_text_drops_markup():
    text = html_to_text("<p>第一行</p><script>x()</script><br>第二行&lt;b&gt;")

    assert text == "第一行\n\n第二行<b>"


def test_strip_quoted_keeps_new_text():
    body = "已经解决了，谢谢。\n\n在 2026年3月2日 09:15，IT 服务台 写道：\n> 请重启打印机"

    assert strip_quoted(body) == "已经解决了，谢谢。"


def test_missing_message_id_gets_stable_one(mail_corpus):
    raw = next(raw for name, raw, _ in mail_corpus if name == "message without Message-ID")

    first = parse_mail(raw).message_id
    second = parse_mail(raw).message_id

    assert first == second
    assert first.endswith("@no-message-id.wenti>")
