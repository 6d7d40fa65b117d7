from __future__ import annotations

import base64

import pytest

from wenti_webhooks.signing import (
    InvalidSecret,
    VerificationFailed,
    new_secret,
    secret_key,
    sign_headers,
    signature,
    verify,
)

# The example of the Standard Webhooks specification: this secret, id, timestamp and
# body sign to this value.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_spec_example():
    assert signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_verify_accepts_either_rotated_secret():
    old, new = new_secret(), new_secret()
    headers = sign_headers([old, new], "msg1", 1_700_000_000, b"{}")

    assert headers["webhook-signature"].count("v1,") == 2
    assert verify(old, headers, b"{}", 1_700_000_010) == "msg1"
    assert verify(new, headers, b"{}", 1_700_000_010) == "msg1"


def test_verify_rejects_wrong_secret_and_tampering():
    secret = new_secret()
    headers = sign_headers([secret], "msg1", 1_700_000_000, b'{"a":1}')

    with pytest.raises(VerificationFailed, match="no v1 signature"):
        verify(new_secret(), headers, b'{"a":1}', 1_700_000_000)
    with pytest.raises(VerificationFailed, match="no v1 signature"):
        verify(secret, headers, b'{"a":2}', 1_700_000_000)


def test_verify_rejects_stale_and_future_timestamps():
    secret = new_secret()
    headers = sign_headers([secret], "msg1", 1_700_000_000, b"{}")

    with pytest.raises(VerificationFailed, match="more than 300 s"):
        verify(secret, headers, b"{}", 1_700_000_301)
    with pytest.raises(VerificationFailed, match="more than 300 s"):
        verify(secret, headers, b"{}", 1_699_999_699)
    assert verify(secret, headers, b"{}", 1_700_000_300) == "msg1"


def test_verify_names_missing_headers():
    with pytest.raises(VerificationFailed, match="missing webhook-id"):
        verify(new_secret(), {"webhook-id": "x"}, b"", 0)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with 'whsec_'"),
        ("whsec_not base64!", "not valid base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "decodes to 5 bytes"),
    ],
)
def test_secret_key_rejects_bad_secrets(secret, message):
    with pytest.raises(InvalidSecret, match=message):
        secret_key(secret)


def test_new_secret_has_32_key_bytes():
    assert len(secret_key(new_secret())) == 32
