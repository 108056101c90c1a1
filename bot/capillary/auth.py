"""Capillary authentication: Basic (till username + MD5 of the password) or OAuth.

OAuth tokens come from ``POST /v3/oauth/token/generate`` and are cached for their TTL
(less a safety margin). Concurrent callers share one token fetch. On a 401 the client calls
:meth:`OAuth.invalidate` with the token it used and tries once more with a fresh one.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Callable
from typing import Protocol

import httpx
from pydantic import SecretStr

from bot.capillary.catalogue import TransportFailure
from bot.capillary.errors import CapillaryRequestError, CapillaryTransportError
from bot.capillary.models import to_int, to_text

__all__ = ["OAUTH_HEADER", "TOKEN_PATH", "Auth", "BasicAuth", "OAuth", "normalize_base_url"]

OAUTH_HEADER = "X-CAP-API-OAUTH-TOKEN"
TOKEN_PATH = "/v3/oauth/token/generate"
_MARGIN_SECONDS = 15.0


def normalize_base_url(url: str) -> str:
    """The cluster host, e.g. ``https://eu.api.capillarytech.com``; ``/`` and ``/v1.1`` dropped."""
    return url.strip().rstrip("/").removesuffix("/v1.1").rstrip("/")


class Auth(Protocol):
    """What the client needs from an authentication scheme."""

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        """Headers that authenticate one request."""
        ...

    def invalidate(self, used: dict[str, str]) -> bool:
        """Forget credentials that got a 401; True when trying again may help."""
        ...


class BasicAuth:
    """``Authorization: Basic base64(username:md5hex(password))``: Capillary's till login."""

    def __init__(self, username: str, password: SecretStr):
        digest = hashlib.md5(
            password.get_secret_value().encode()
        ).hexdigest()  # Capillary's scheme, not ours
        token = base64.b64encode(f"{username}:{digest}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}"}

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        return dict(self._headers)

    def invalidate(self, used: dict[str, str]) -> bool:
        return False

    def __repr__(self) -> str:
        return "BasicAuth(***)"


class OAuth:
    """An OAuth client key and secret, exchanged for a short-lived token."""

    def __init__(
        self,
        base_url: str,
        key: SecretStr,
        secret: SecretStr,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._url = normalize_base_url(base_url) + TOKEN_PATH
        self._key = key
        self._secret = secret
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        async with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._token, ttl = await self._generate(http)
                self._expires_at = self._clock() + max(ttl - _MARGIN_SECONDS, ttl / 2)
            return {OAUTH_HEADER: self._token}

    def invalidate(self, used: dict[str, str]) -> bool:
        if used.get(OAUTH_HEADER) == self._token:
            self._token = None
        return True

    async def _generate(self, http: httpx.AsyncClient) -> tuple[str, float]:
        body = {"key": self._key.get_secret_value(), "secret": self._secret.get_secret_value()}
        try:
            response = await http.post(self._url, json=body)
        except httpx.TimeoutException as exc:
            raise CapillaryTransportError(
                TransportFailure.TIMEOUT, "token", sent=False, endpoint=TOKEN_PATH
            ) from exc
        except httpx.TransportError as exc:
            raise CapillaryTransportError(
                TransportFailure.CONNECTION_REFUSED,
                type(exc).__name__,
                sent=False,
                endpoint=TOKEN_PATH,
            ) from exc
        try:
            return _read_token(response)
        except CapillaryRequestError as error:
            error.sent = False
            raise

    def __repr__(self) -> str:
        return "OAuth(***)"


def _read_token(response: httpx.Response) -> tuple[str, float]:
    """``{"data": {"accessToken": …, "ttlSeconds": …}, "errors": …}`` → (token, ttl)."""
    try:
        document = response.json()
    except ValueError:
        document = None
    data = document.get("data") if isinstance(document, dict) else None
    token = to_text(data.get("accessToken")) if isinstance(data, dict) else None
    if token is None:
        raise CapillaryRequestError(
            401 if response.status_code in (200, 400, 401, 403) else response.status_code,
            _token_error(document),
            http_status=response.status_code,
            endpoint=TOKEN_PATH,
            request_id=response.headers.get("X-Cap-Requestid"),
        )
    ttl = to_int(data.get("ttlSeconds")) if isinstance(data, dict) else None
    return token, float(ttl if ttl and ttl > 0 else 300)


def _token_error(document: object) -> str:
    errors = document.get("errors") if isinstance(document, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    message = to_text(first.get("message")) if isinstance(first, dict) else None
    return message or "The OAuth token could not be generated."
