"""Fixtures for the Capillary sandbox tests: a live sandbox and httpx clients talking to it.

Auth headers are built by hand (hashlib + base64): these tests never import bot.capillary.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.sandbox.capillary import RunningSandbox, running_sandbox

# httpx builds (and loads CA certificates into) a new SSL context per client: ~50 ms each.
# The sandbox is plain HTTP, so share one context to keep the suite fast.
_SSL = ssl.create_default_context()


def basic_auth(username: str = "sandbox", password: str = "sandbox") -> str:
    """Capillary Basic auth: base64(username + ':' + md5_hex(password))."""
    digest = hashlib.md5(password.encode()).hexdigest()
    return "Basic " + base64.b64encode(f"{username}:{digest}".encode()).decode()


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with running_sandbox() as running:
        yield running


@pytest.fixture
async def client(sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """Authenticated (Basic) client; every call adds format=json like real clients do."""
    headers = {"Authorization": basic_auth(), "Accept": "application/json"}
    async with httpx.AsyncClient(
        base_url=sandbox.base_url,
        headers=headers,
        params={"format": "json"},
        timeout=5,
        verify=_SSL,
    ) as http:
        yield http


@pytest.fixture
async def anon(sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """Client without credentials (admin endpoints, OAuth, 401 checks)."""
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=5, verify=_SSL) as http:
        yield http
