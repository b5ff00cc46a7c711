"""Bearer tokens: JWT (RFC 7519) signed with HS256 for people, opaque API keys for machines.

A JWT carries the principal's role and scope, so the API authorises a request without a database read; it
lives one shift (``token_ttl_s``) and a disabled user is refused at the next login. API keys are
``vk_<key_id>_<secret>``: the id finds the row, the secret's SHA-256 is compared in constant time (a 256-bit
random secret needs no slow hash).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt

from services.access import Principal, Role

ALGORITHM = "HS256"
ISSUER = "vigie"
API_KEY_PREFIX = "vk_"


class InvalidToken(ValueError):
    """The token is malformed, expired, or not signed by this deployment."""


def issue_jwt(principal: Principal, secret: str, now: datetime, ttl_s: float) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER, "sub": principal.subject, "role": principal.role.value, "iat": now,
        "exp": now + timedelta(seconds=ttl_s), "crews": sorted(principal.crew_ids),
        "agent_id": principal.agent_id, "names": principal.names_allowed,
    }  # fmt: skip
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_jwt(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "role"]})  # fmt: skip
        role = Role(claims["role"])
        crews = claims.get("crews") or []
        if not isinstance(crews, list) or not all(isinstance(c, str) for c in crews):
            raise InvalidToken("bad crews claim")
        return Principal(str(claims["sub"]), role, frozenset(crews), claims.get("agent_id"),
                         bool(claims.get("names", False)))  # fmt: skip
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc


def new_api_key() -> tuple[str, str, bytes]:
    """(key_id, full key to hand out once, hash of its secret to store)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{API_KEY_PREFIX}{key_id}_{secret}", hashlib.sha256(secret.encode()).digest()


def split_api_key(key: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed key, else None."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    key_id, sep, secret = key[len(API_KEY_PREFIX):].partition("_")
    if not sep or not key_id or not secret:
        return None
    return key_id, secret


def secret_matches(secret: str, secret_hash: bytes) -> bool:
    return hmac.compare_digest(hashlib.sha256(secret.encode()).digest(), secret_hash)
