"""People's passwords: argon2id (RFC 9106), the OWASP-recommended password hash, via argon2-cffi."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# The API's and the CLI's minimum for a person's password (OWASP ASVS 2.1.1 asks for 12 or more).
MIN_PASSWORD_LENGTH = 12
_HASHER = PasswordHasher()
# Verified against when the user does not exist, so that a login takes as long either way (no user probing).
_DUMMY_HASH = _HASHER.hash("vigie-no-such-user")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
