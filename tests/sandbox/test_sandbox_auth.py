"""Basic and OAuth authentication, 401 envelopes, and the X-Cap-Requestid header."""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest

from bot.sandbox.capillary import RunningSandbox, running_sandbox

SERIES = "/v1.1/coupon/series"
UNAUTHORIZED = {"response": {"status": {"success": False, "code": 401, "message": "Unauthorized"}}}


def basic(username: str, secret_hex_or_raw: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{secret_hex_or_raw}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


async def oauth_token(anon: httpx.AsyncClient, key: str = "sandbox") -> httpx.Response:
    return await anon.post("/v3/oauth/token/generate", json={"key": key, "secret": "sandbox"})


async def test_basic_auth_with_md5_password_works(anon: httpx.AsyncClient) -> None:
    resp = await anon.get(SERIES, headers=basic("sandbox", md5("sandbox")))
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("sandbox", "sandbox"),  # raw password instead of its MD5
        basic("sandbox", md5("wrong")),
        basic("someone", md5("sandbox")),
        basic("sandbox", md5("sandbox").upper()),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Bearer abc"},
        {"X-CAP-API-OAUTH-TOKEN": "made-up"},
    ],
)
async def test_bad_or_missing_credentials_are_401(
    anon: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    resp = await anon.get(SERIES, headers=headers)
    assert resp.status_code == 401
    assert resp.json() == UNAUTHORIZED
    assert resp.headers["X-Cap-Requestid"]


async def test_oauth_token_works(anon: httpx.AsyncClient) -> None:
    resp = await oauth_token(anon)

    assert resp.status_code == 200
    body = resp.json()
    assert body["errors"] is None
    assert body["data"]["ttlSeconds"] == 300
    token = body["data"]["accessToken"]
    api = await anon.get(SERIES, headers={"X-CAP-API-OAUTH-TOKEN": token})
    assert api.status_code == 200


async def test_oauth_bad_key_is_401(anon: httpx.AsyncClient) -> None:
    resp = await oauth_token(anon, key="nope")
    assert resp.status_code == 401
    body = resp.json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Invalid key/secret"


async def test_oauth_bad_json_is_400(anon: httpx.AsyncClient) -> None:
    resp = await anon.post("/v3/oauth/token/generate", content=b"nope")
    assert resp.status_code == 400
    assert resp.json()["data"] is None


async def test_expired_token_is_401() -> None:
    async with (
        running_sandbox(token_ttl_seconds=0) as sandbox,
        httpx.AsyncClient(base_url=sandbox.base_url) as anon,
    ):
        token = (await oauth_token(anon)).json()["data"]["accessToken"]
        resp = await anon.get(SERIES, headers={"X-CAP-API-OAUTH-TOKEN": token})
        assert resp.status_code == 401
        assert resp.json() == UNAUTHORIZED


async def test_request_id_on_every_response_and_unique(anon: httpx.AsyncClient) -> None:
    responses = [
        await anon.get(SERIES, headers=basic("sandbox", md5("sandbox"))),
        await anon.get(SERIES),  # 401
        await anon.get("/v1.1/unknown"),  # 404
        await anon.post("/v3/oauth/token/generate", json={}),  # 401 OAuth
        await anon.get("/__sandbox/faults"),
        await anon.post("/__sandbox/faults", json={"bogus": 1}),  # 400
    ]
    ids = [r.headers.get("X-Cap-Requestid") for r in responses]
    assert all(ids)
    assert all(len(i or "") == 32 and int(i or "", 16) >= 0 for i in ids)
    assert len(set(ids)) == len(ids)


async def test_calls_record_auth_kind(sandbox: RunningSandbox, anon: httpx.AsyncClient) -> None:
    token = (await oauth_token(anon)).json()["data"]["accessToken"]
    await anon.get(SERIES, params={"id": "1001"}, headers={"X-CAP-API-OAUTH-TOKEN": token})
    await anon.get(SERIES, headers=basic("sandbox", md5("sandbox")))
    await anon.get(SERIES)

    kinds = [(c.path, c.auth, c.status) for c in sandbox.calls]
    assert kinds == [
        ("/v3/oauth/token/generate", "none", 200),
        (SERIES, "oauth", 200),
        (SERIES, "basic", 200),
        (SERIES, "none", 401),
    ]
    assert sandbox.calls[1].query == {"id": "1001"}
