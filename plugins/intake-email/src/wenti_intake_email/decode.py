"""Decoding of real-world mail headers and bodies, Chinese mail first.

The standard library decodes well-formed mail. Mail from Chinese senders is often
not well formed, and these are the cases handled here:

* A charset labelled `gb2312` (or `gbk`, `cp936`, `euc-cn`) whose text contains
  characters outside GB2312. GB18030 is a superset of all of them, so every such
  label is decoded as GB18030.
* RFC 2047 encoded-words that split one multi-byte character across two words.
  Adjacent words in the same charset are joined as bytes before decoding.
* Encoded-words glued to surrounding text without the whitespace RFC 2047 requires (`=?gbk?B?...?=abc`), and whitespace between two words, which must vanish.
* Raw 8-bit header values (GBK or UTF-8 bytes with no encoding at all), mostly
  attachment names. They are tried as UTF-8 first, because GBK text is rarely
  valid UTF-8 while the reverse often decodes to nonsense, then as GB18030.
* RFC 2231 parameters (`filename*=gb2312''%C4%E3...`), continuations included.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import quopri
import re
from html.parser import HTMLParser
from typing import Any

# Labels whose text we decode as GB18030, which contains all of them.
GB_FAMILY = {"gb2312", "gbk", "cp936", "x-gbk", "euc-cn", "euccn", "gb_2312-80", "gb2312-80", "csgb2312", "x-euc-cn", "ms936", "windows-936"}

# Tried in order when a label is missing, unknown or wrong.
FALLBACK_CHARSETS = ("utf-8", "gb18030", "big5")

ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
LINEAR_WHITESPACE = re.compile(rb"^[ \t\r\n]*$")


def charset_codec(label: str | None) -> str | None:
    """Return the Python codec for a MIME charset label, or None when it is unknown."""
    if not label:
        return None
    name = label.strip().strip('"').lower().split("*", 1)[0]
    if name in GB_FAMILY:
        return "gb18030"
    if name in ("utf8", "unicode-1-1-utf-8"):
        return "utf-8"
    if name in ("ks_c_5601-1987", "ks_c_5601"):
        return "cp949"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Decode bytes in the labelled charset, else the fallbacks; never raises."""
    codec = charset_codec(label)
    tried = []
    for candidate in ((codec,) if codec else ()) + FALLBACK_CHARSETS:
        if candidate in tried:
            continue
        tried.append(candidate)
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    return data.decode(codec or "utf-8", errors="replace")


def _decode_word(encoding: bytes, text: bytes) -> bytes:
    if encoding in (b"b", b"B"):
        cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
        cleaned += b"=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned)
        except binascii.Error:
            return text
    return quopri.decodestring(text.replace(b"_", b" "), header=False)


def decode_header_bytes(raw: bytes) -> str:
    """Decode a raw header value (bytes as they were on the wire) into text."""
    unfolded = re.sub(rb"\r?\n(?=[ \t])", b"", raw)
    pieces: list[tuple[str | None, bytes]] = []
    position = 0
    for match in ENCODED_WORD.finditer(unfolded):
        gap = unfolded[position : match.start()]
        follows_word = bool(pieces) and pieces[-1][0] is not None
        if gap and not (follows_word and LINEAR_WHITESPACE.match(gap)):
            pieces.append((None, gap))
        charset = match.group(1).decode("ascii", "replace")
        data = _decode_word(match.group(2), match.group(3))
        if pieces and pieces[-1][0] is not None and charset_codec(pieces[-1][0]) == charset_codec(charset):
            pieces[-1] = (pieces[-1][0], pieces[-1][1] + data)
        else:
            pieces.append((charset, data))
        position = match.end()
    tail = unfolded[position:]
    if tail:
        pieces.append((None, tail))

    parts = []
    for charset, data in pieces:
        if charset is None:
            parts.append(data.decode("ascii") if data.isascii() else decode_bytes(data))
        else:
            parts.append(decode_bytes(data, charset))
    return "".join(parts).strip()


def raw_header_bytes(value: Any) -> bytes:
    """Return the wire bytes of a header value from `email` parsed with `policy.compat32`."""
    if isinstance(value, bytes):
        return value
    text = str(value)
    return text.encode("ascii", "surrogateescape") if _is_surrogate_escaped(text) else text.encode("utf-8")


def _is_surrogate_escaped(text: str) -> bool:
    try:
        text.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


def decode_header_value(value: Any) -> str:
    """Decode one header value as the message parser returned it."""
    return decode_header_bytes(raw_header_bytes(value))


def decode_param(value: Any) -> str:
    """Decode a MIME parameter (filename, name) in any of the forms senders use.

    An RFC 2231 value arrives as a `(charset, language, text)` tuple whose text
    contains the percent-decoded bytes one per character; plain values may carry
    encoded-words or raw 8-bit bytes.
    """
    if isinstance(value, tuple):
        charset, _language, text = value
        data = bytes(text, "raw-unicode-escape") if _is_latin1(text) else raw_header_bytes(text)
        return decode_bytes(data, charset).strip()
    return decode_header_value(value)


def _is_latin1(text: str) -> bool:
    return all(ord(char) < 256 for char in text)


class _TextExtractor(HTMLParser):
    BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "hr"}
    SKIPPED_TAGS = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIPPED_TAGS:
            self.skipping += 1
        elif tag in self.BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body: tags, scripts and styles removed, blocks on their own lines."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    text = html.unescape("".join(extractor.parts)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    compact: list[str] = []
    for line in lines:
        if line or (compact and compact[-1]):
            compact.append(line)
    return "\n".join(compact).strip()
