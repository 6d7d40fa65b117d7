"""Password hashing with Argon2id and the password policy.

Parameters follow the OWASP Password Storage Cheat Sheet minimum for Argon2id:
19 MiB of memory, 2 iterations, 1 lane. The policy follows OWASP ASVS 5.0 V6.2:
at least 8 characters, up to 256, no composition rules, and no password from a
list of common ones.
"""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from wenti.i18n import N_

MIN_LENGTH = 8
MAX_LENGTH = 256

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_COMMON_PATH = Path(__file__).parent / "data" / "common-passwords.txt"
_common: frozenset[str] | None = None

# A valid hash of a password nobody has, so a login for an unknown user costs the
# same time as one for a known user and does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("wenti-dummy-password-for-timing")


def _common_passwords() -> frozenset[str]:
    global _common
    if _common is None:
        lines = _COMMON_PATH.read_text(encoding="utf-8").splitlines()
        _common = frozenset(line.strip().lower() for line in lines if line.strip())
    return _common


def policy_problem(password: str, username: str = "") -> str | None:
    """Return the English msgid of why `password` is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return N_("The password must have at least 8 characters.")
    if len(password) > MAX_LENGTH:
        return N_("The password must have at most 256 characters.")
    if password.lower() in _common_passwords():
        return N_("This password is too common. Choose a longer, less common one.")
    if username and password.lower() == username.lower():
        return N_("The password must not be the same as the username.")
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check `password` against a stored hash; a missing hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
