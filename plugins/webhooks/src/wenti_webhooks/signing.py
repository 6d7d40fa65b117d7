"""Standard Webhooks 1.0.0 signatures (symmetric `v1` scheme).

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the signature is
the base64 HMAC-SHA256 of it, keyed with the secret's bytes. A secret is written
`whsec_` followed by base64 of 24 to 64 random bytes. The `webhook-signature`
header lists one `v1,<signature>` per active secret, separated by spaces, which is
how a secret is rotated without a gap: sign with the old and the new secret until
every receiver has the new one.

`verify()` is the receiver's side, used by the tests' receiver and offered to
people who write receivers in Python.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as random_secrets
from collections.abc import Mapping, Sequence

PREFIX = "whsec_"
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
DEFAULT_TOLERANCE_SECONDS = 300


class InvalidSecret(ValueError):
    """A configured secret is not `whsec_` + base64 of 24 to 64 bytes."""


class VerificationFailed(ValueError):
    """A received webhook's signature or timestamp is not acceptable."""


def new_secret() -> str:
    """Generate a fresh secret of 32 random bytes."""
    return PREFIX + base64.b64encode(random_secrets.token_bytes(32)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """Decode a `whsec_...` secret into its key bytes, checking its form and length."""
    if not secret.startswith(PREFIX):
        raise InvalidSecret(f"webhook secret must start with {PREFIX!r}; generate one with `wenti webhooks new-secret`")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except binascii.Error as error:
        raise InvalidSecret(f"webhook secret after {PREFIX!r} is not valid base64: {error}") from error
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise InvalidSecret(
            f"webhook secret decodes to {len(key)} bytes; it must be {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes"
        )
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Compute the `v1,<base64>` signature of one message under one secret."""
    content = message_id.encode("utf-8") + b"." + str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_headers(secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Build the three Standard Webhooks headers, signed with every active secret."""
    if not secrets:
        raise InvalidSecret("a webhook endpoint needs at least one secret")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(secret, message_id, timestamp, body) for secret in secrets),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Check a received webhook; return its `webhook-id` or raise `VerificationFailed`.

    The timestamp must be within `tolerance_seconds` of `now` (Unix seconds), and
    one of the listed `v1` signatures must match, compared in constant time.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get("webhook-id")
    timestamp_text = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not message_id or not timestamp_text or not signatures:
        raise VerificationFailed("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(timestamp_text)
    except ValueError as error:
        raise VerificationFailed(f"webhook-timestamp {timestamp_text!r} is not an integer") from error
    if abs(now - timestamp) > tolerance_seconds:
        raise VerificationFailed(f"webhook-timestamp {timestamp} is more than {tolerance_seconds} s from now ({int(now)})")

    expected = signature(secret, message_id, timestamp, body).split(",", 1)[1]
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode("ascii", "replace"), expected.encode("ascii")):
            return message_id
    raise VerificationFailed("no v1 signature in webhook-signature matches the secret")
