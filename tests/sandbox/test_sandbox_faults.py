"""Fault injection through /__sandbox/faults, reset, and recorded calls."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from bot.sandbox.capillary import RunningSandbox

RIYA = "919876543210"
SERIES = "/v1.1/coupon/series"
REDEEM_GOOD100 = {
    "root": {"coupon": {"code": "GOOD100", "customer": {"mobile": RIYA}, "transaction": []}}
}


async def set_faults(anon: httpx.AsyncClient, **settings: Any) -> dict[str, Any]:
    resp = await anon.post("/__sandbox/faults", json=settings)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def is_redeemed(client: httpx.AsyncClient, code: str) -> bool:
    resp = await client.get("/v1.1/coupon/get", params={"code": code})
    return "redemption_info" in resp.json()["response"]["coupons"]["coupon"][0]


async def test_get_faults_defaults(anon: httpx.AsyncClient) -> None:
    resp = await anon.get("/__sandbox/faults")
    assert resp.json() == {
        "latency_ms": 0,
        "http_500_next": 0,
        "malformed_next": 0,
        "timeout_next": 0,
        "timeout_seconds": 60.0,
        "timeout_processes": True,
        "transient_code": 791,
        "transient_next": 0,
        "only_path": "",
        "rate_limit_per_minute": None,
        "expire_tokens": False,
    }


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"nonsense": 1}, "nonsense"),
        ({"http_500_next": -1}, "http_500_next"),
        ({"http_500_next": "2"}, "http_500_next"),
        ({"latency_ms": True}, "latency_ms"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"rate_limit_per_minute": 0}, "rate_limit_per_minute"),
        ({"transient_code": 200}, "transient_code"),
        ({"expire_tokens": "yes"}, "expire_tokens"),
        ({"only_path": 3}, "only_path"),
    ],
)
async def test_bad_fault_updates_are_400(
    anon: httpx.AsyncClient, payload: dict[str, Any], needle: str
) -> None:
    resp = await anon.post("/__sandbox/faults", json=payload)
    assert resp.status_code == 400
    assert needle in resp.json()["error"]
    assert (await anon.get("/__sandbox/faults")).json()["http_500_next"] == 0


async def test_fault_body_must_be_an_object(anon: httpx.AsyncClient) -> None:
    assert (await anon.post("/__sandbox/faults", json=[1])).status_code == 400
    assert (await anon.post("/__sandbox/faults", content=b"{")).status_code == 400


async def test_http_500_next(anon: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    assert (await set_faults(anon, http_500_next=2))["http_500_next"] == 2

    for _ in range(2):
        resp = await client.get(SERIES)
        assert resp.status_code == 500
        body = resp.json()["response"]
        assert body["status"]["code"] == 500
        assert body["status"]["success"] is False
        assert set(body) == {"status"}  # no item at all
    assert (await client.get(SERIES)).status_code == 200
    assert (await anon.get("/__sandbox/faults")).json()["http_500_next"] == 0


async def test_faults_skip_admin_and_oauth(
    anon: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await set_faults(anon, http_500_next=1, latency_ms=5000)
    assert (await anon.get("/__sandbox/faults")).status_code == 200
    token = await anon.post(
        "/v3/oauth/token/generate", json={"key": "sandbox", "secret": "sandbox"}
    )
    assert token.status_code == 200
    assert (await anon.get("/__sandbox/calls")).status_code == 200
    await set_faults(anon, latency_ms=0)
    assert (await client.get(SERIES)).status_code == 500


async def test_malformed_next(anon: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    await set_faults(anon, malformed_next=1)

    resp = await client.get(SERIES)
    assert resp.status_code == 200
    assert resp.text.startswith("<html>")
    assert resp.headers["X-Cap-Requestid"]
    with pytest.raises(ValueError, match="Expecting value"):
        resp.json()
    assert (await client.get(SERIES)).json()["response"]["status"]["code"] == "200"


async def test_latency(anon: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    await set_faults(anon, latency_ms=150)
    started = time.monotonic()
    assert (await client.get(SERIES)).status_code == 200
    assert time.monotonic() - started >= 0.15


async def test_timeout_still_processes_and_does_not_block(
    anon: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await set_faults(anon, timeout_next=1, timeout_seconds=2)

    hung = asyncio.create_task(client.post("/v1.1/coupon/redeem", json=REDEEM_GOOD100, timeout=0.3))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    other = await client.get(SERIES, params={"id": "1001"})  # served while the other hangs
    assert other.status_code == 200
    assert time.monotonic() - started < 1.0  # well inside the 2 s hang
    with pytest.raises(httpx.ReadTimeout):
        await hung
    assert await is_redeemed(client, "GOOD100")  # the outcome was "unknown", but it happened


async def test_timeout_without_processing(
    anon: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await set_faults(anon, timeout_next=1, timeout_seconds=0.2, timeout_processes=False)

    resp = await client.post("/v1.1/coupon/redeem", json=REDEEM_GOOD100, timeout=2)
    assert resp.status_code == 504
    assert resp.json()["response"]["status"]["code"] == 504
    assert not await is_redeemed(client, "GOOD100")


async def test_transient_on_redeem(anon: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    await set_faults(anon, transient_next=1)

    resp = await client.post("/v1.1/coupon/redeem", json=REDEEM_GOOD100)
    assert resp.status_code == 500
    body = resp.json()["response"]
    assert body["status"]["code"] == 500
    assert body["coupons"]["coupon"]["item_status"] == {
        "success": "false",
        "code": 791,
        "message": "Unable to process coupon. Please try again later",
    }
    assert not await is_redeemed(client, "GOOD100")
    assert (await client.post("/v1.1/coupon/redeem", json=REDEEM_GOOD100)).status_code == 200


async def test_transient_keeps_each_endpoint_shape(
    anon: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await set_faults(anon, transient_next=5, transient_code=786)
    issue_body = {"root": {"coupon": {"series_id": 1001, "customer": {"mobile": RIYA}}}}

    issued = (await client.post("/v1.1/coupon/issue", json=issue_body)).json()["response"]
    assert issued["status"]["code"] == 500
    assert issued["coupon"]["item_status"]["code"] == 786
    got = (await client.get("/v1.1/coupon/get", params={"code": "GOOD100"})).json()["response"]
    assert got["status"]["code"] == 200
    assert got["coupons"]["coupon"][0]["id"] == -1
    assert got["coupons"]["coupon"][0]["item_status"]["code"] == 786
    params = {"code": "GOOD100", "mobile": RIYA}
    check = (await client.get("/v1.1/coupon/isredeemable", params=params)).json()["response"]
    assert check["coupons"]["redeemable"]["is_redeemable"] == "false"
    assert check["coupons"]["redeemable"]["item_status"]["code"] == 786
    resent = (await client.get("/v1.1/coupon/resend", params=params)).json()["response"]
    assert resent["coupons"]["coupon"][0]["item_status"]["code"] == "786"
    series = (await client.get(SERIES, params={"id": 1001})).json()["response"]
    assert series["series"]["items"]["item"]["item_status"]["code"] == "786"
    assert (await client.get(SERIES)).status_code == 200


async def test_rate_limit(anon: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    await set_faults(anon, rate_limit_per_minute=2)

    assert (await client.get(SERIES)).status_code == 200
    assert (await anon.get("/__sandbox/faults")).status_code == 200  # admin is not counted
    assert (await client.get(SERIES)).status_code == 200
    limited = await client.get(SERIES)
    assert limited.status_code == 429
    assert limited.json()["response"]["status"] == {
        "success": False,
        "code": 429,
        "message": "Rate limit exceeded",
    }
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    await set_faults(anon, rate_limit_per_minute=None)
    assert (await client.get(SERIES)).status_code == 200


async def test_expire_tokens(anon: httpx.AsyncClient) -> None:
    body = {"key": "sandbox", "secret": "sandbox"}
    token = (await anon.post("/v3/oauth/token/generate", json=body)).json()["data"]["accessToken"]
    headers = {"X-CAP-API-OAUTH-TOKEN": token}
    assert (await anon.get(SERIES, headers=headers)).status_code == 200

    assert (await set_faults(anon, expire_tokens=True))["expire_tokens"] is False
    assert (await anon.get(SERIES, headers=headers)).status_code == 401
    fresh = (await anon.post("/v3/oauth/token/generate", json=body)).json()["data"]["accessToken"]
    assert (await anon.get(SERIES, headers={"X-CAP-API-OAUTH-TOKEN": fresh})).status_code == 200


async def test_reset_restores_seed_and_clears_faults_and_calls(
    sandbox: RunningSandbox, anon: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    assert (await client.post("/v1.1/coupon/redeem", json=REDEEM_GOOD100)).status_code == 200
    await set_faults(anon, latency_ms=10, rate_limit_per_minute=100)
    assert sandbox.calls

    resp = await anon.post("/__sandbox/reset")
    assert resp.status_code == 200
    assert resp.json()["faults"]["latency_ms"] == 0
    assert sandbox.faults.rate_limit_per_minute is None
    assert sandbox.calls == []
    assert not await is_redeemed(client, "GOOD100")
    assert sandbox.state.find_coupon("good100") is not None


async def test_calls_endpoint(anon: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    await client.post("/v1.1/coupon/redeem", json=REDEEM_GOOD100)

    (call,) = (await anon.get("/__sandbox/calls")).json()
    assert call == {
        "method": "POST",
        "path": "/v1.1/coupon/redeem",
        "query": {"format": "json"},
        "json": REDEEM_GOOD100,
        "auth": "basic",
        "status": 200,
    }


async def test_only_path_aims_one_shot_faults_at_one_endpoint(
    anon: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await set_faults(anon, transient_next=1, only_path="coupon/redeem")

    check = await client.get(
        "/v1.1/coupon/isredeemable",
        params={"code": "GOOD100", "mobile": "919876543210", "details": "true"},
    )
    assert check.json()["response"]["coupons"]["redeemable"]["item_status"]["code"] != 791
    resp = await client.post("/v1.1/coupon/redeem", json=REDEEM_GOOD100)
    assert resp.json()["response"]["coupons"]["coupon"]["item_status"]["code"] == 791
    again = await client.post("/v1.1/coupon/redeem", json=REDEEM_GOOD100)
    assert again.json()["response"]["coupons"]["coupon"]["item_status"]["code"] != 791
