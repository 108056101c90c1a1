"""Sandbox credentials: Basic (till user + MD5 of the password) and OAuth tokens."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Literal

SANDBOX_USERNAME = "sandbox"
SANDBOX_PASSWORD = "sandbox"
SANDBOX_OAUTH_KEY = "sandbox"
SANDBOX_OAUTH_SECRET = "sandbox"

OAUTH_HEADER = "X-CAP-API-OAUTH-TOKEN"
AuthKind = Literal["basic", "oauth", "none"]


def basic_header(username: str = SANDBOX_USERNAME, password: str = SANDBOX_PASSWORD) -> str:
    """The ``Authorization`` value Capillary expects: Basic base64(user:md5hex(password))."""
    digest = hashlib.md5(password.encode()).hexdigest()
    return "Basic " + base64.b64encode(f"{username}:{digest}".encode()).decode()


class TokenStore:
    """OAuth access tokens with their expiry times."""

    def __init__(self, ttl_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def generate(self, key: object, secret: object) -> str | None:
        """A new token for the right key/secret, else None."""
        if not (_same(key, SANDBOX_OAUTH_KEY) and _same(secret, SANDBOX_OAUTH_SECRET)):
            return None
        token = secrets.token_urlsafe(24)
        self._expiry[token] = self._clock() + self.ttl_seconds
        return token

    def valid(self, token: str) -> bool:
        """True while the token exists and its TTL has not elapsed."""
        expiry = self._expiry.get(token)
        return expiry is not None and self._clock() < expiry

    def expire_all(self) -> None:
        """Invalidate every token issued so far."""
        self._expiry.clear()


def authenticate(headers: Mapping[str, str], tokens: TokenStore) -> tuple[AuthKind, bool]:
    """Which scheme the request used and whether its credentials are good."""
    token = headers.get(OAUTH_HEADER)
    if token is not None:
        return "oauth", tokens.valid(token.strip())
    authorization = headers.get("Authorization")
    if authorization is None:
        return "none", False
    return "basic", _basic_ok(authorization)


def _basic_ok(authorization: str) -> bool:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(decoded, _expected_pair().encode())


def _expected_pair() -> str:
    return f"{SANDBOX_USERNAME}:{hashlib.md5(SANDBOX_PASSWORD.encode()).hexdigest()}"


def _same(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())
