"""Every business-rule item code is reachable with the seeded data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

RIYA = "919876543210"
ARJUN = "919812345678"
FRAUD = "919800000003"
BLOCKED = "919800000004"
UNKNOWN = "919999999999"


async def issue(client: httpx.AsyncClient, series_id: object, mobile: str) -> dict[str, Any]:
    body = {"root": {"coupon": [{"series_id": series_id, "customer": {"mobile": mobile}}]}}
    resp = await client.post("/v1.1/coupon/issue", json=body)
    assert resp.status_code == 200  # issue failures are still HTTP 200
    data: dict[str, Any] = resp.json()["response"]
    return data


async def redeem(
    client: httpx.AsyncClient, code: str, mobile: str, **extra: Any
) -> tuple[int, dict[str, Any]]:
    body = {"root": {"coupon": [{"code": code, "customer": {"mobile": mobile}} | extra]}}
    resp = await client.post("/v1.1/coupon/redeem", json=body)
    return resp.status_code, resp.json()["response"]


async def check(client: httpx.AsyncClient, code: str, mobile: str) -> dict[str, Any]:
    params = {"code": code, "mobile": mobile}
    resp = await client.get("/v1.1/coupon/isredeemable", params=params)
    assert resp.status_code == 200
    data: dict[str, Any] = resp.json()["response"]
    assert data["status"]["code"] == 200  # not redeemable is still a successful request
    redeemable: dict[str, Any] = data["coupons"]["redeemable"]
    return redeemable


async def resend(client: httpx.AsyncClient, code: str, mobile: str) -> dict[str, Any]:
    resp = await client.get("/v1.1/coupon/resend", params={"code": code, "mobile": mobile})
    assert resp.status_code == 200
    data: dict[str, Any] = resp.json()["response"]
    return data


@pytest.mark.parametrize(
    ("series_id", "mobile", "code"),
    [
        (9999, RIYA, 707),
        ("not-a-number", RIYA, 707),
        (1001, UNKNOWN, 701),
        (1004, RIYA, 712),
        (1005, RIYA, 722),
        (1001, FRAUD, 740),
        (1001, BLOCKED, 742),
    ],
)
async def test_issue_failures(
    client: httpx.AsyncClient, series_id: object, mobile: str, code: int
) -> None:
    data = await issue(client, series_id, mobile)
    assert data["status"] == {
        "success": False,
        "code": 500,
        "message": "All requests have failed due to errors",
    }
    item_status = data["coupon"]["item_status"]
    assert item_status["success"] is False
    assert item_status["code"] == code
    assert item_status["message"]


@pytest.mark.parametrize(
    ("coupon", "mobile", "extra", "code"),
    [
        ("GOOD100", UNKNOWN, {}, 701),
        ("NOPE1234", RIYA, {}, 702),
        ("ARJUN100", RIYA, {}, 703),
        ("VALID20", RIYA, {"validation_code": "0000"}, 705),
        ("REDEEMED100", RIYA, {}, 711),
        ("EXPIRED50", RIYA, {}, 713),
        ("LIMIT75", RIYA, {}, 714),
        ("SHARE150", RIYA, {}, 716),
        ("BILL250", RIYA, {"transaction": [{"amount": "1500"}]}, 718),
        ("VALID20", RIYA, {}, 725),
        ("BILL250", RIYA, {"transaction": [{"number": "B1", "amount": "-5"}]}, 733),
        ("BILL250", RIYA, {"transaction": [{"number": "B1", "amount": "abc"}]}, 733),
        ("BILL250", RIYA, {"transaction": [{"number": "B1", "amount": "999"}]}, 733),
        ("BILL250", RIYA, {"transaction": [{"number": "B1"}]}, 733),
        ("GOOD100", RIYA, {"transaction": {"number": "B1", "amount": "12x"}}, 733),
        ("STORE300", RIYA, {}, 735),
        ("GOOD100", FRAUD, {}, 740),
        ("GOOD100", BLOCKED, {}, 742),
    ],
)
async def test_redeem_failures_are_http_500(
    client: httpx.AsyncClient, coupon: str, mobile: str, extra: dict[str, Any], code: int
) -> None:
    status, data = await redeem(client, coupon, mobile, **extra)

    assert status == 500
    assert data["status"] == {
        "success": "false",
        "code": 500,
        "message": "All requests have failed due to errors",
    }
    item = data["coupons"]["coupon"]
    assert item["item_status"]["success"] == "false"
    assert item["item_status"]["code"] == code
    assert "redemption_id" not in item


@pytest.mark.parametrize(
    ("coupon", "mobile", "extra"),
    [
        ("VALID20", RIYA, {"validation_code": "4321"}),
        ("BILL250", RIYA, {"transaction": [{"number": "B1", "amount": "1000"}]}),
        ("SHARE150", ARJUN, {}),  # multi-use, any customer: someone else may use it
        ("good100", "9876543210", {}),
    ],
)
async def test_redeem_successes(
    client: httpx.AsyncClient, coupon: str, mobile: str, extra: dict[str, Any]
) -> None:
    status, data = await redeem(client, coupon, mobile, **extra)
    assert status == 200
    assert data["coupons"]["coupon"]["item_status"]["code"] == 700


async def test_redeem_twice_gives_711(client: httpx.AsyncClient) -> None:
    assert (await redeem(client, "GOOD100", RIYA))[0] == 200
    status, data = await redeem(client, "GOOD100", RIYA)
    assert status == 500
    assert data["coupons"]["coupon"]["item_status"]["code"] == 711


async def test_shared_coupon_second_use_by_same_customer_gives_716(
    client: httpx.AsyncClient,
) -> None:
    assert (await redeem(client, "SHARE150", ARJUN))[0] == 200
    status, data = await redeem(client, "SHARE150", ARJUN)
    assert status == 500
    assert data["coupons"]["coupon"]["item_status"]["code"] == 716


@pytest.mark.parametrize(
    ("coupon", "mobile", "code"),
    [
        ("GOOD100", UNKNOWN, 701),
        ("NOPE1234", RIYA, 702),
        ("ARJUN100", RIYA, 703),
        ("REDEEMED100", RIYA, 711),
        ("EXPIRED50", RIYA, 713),
        ("LIMIT75", RIYA, 714),
        ("SHARE150", RIYA, 716),
        ("STORE300", RIYA, 735),
        ("GOOD100", FRAUD, 740),
        ("GOOD100", BLOCKED, 742),
    ],
)
async def test_isredeemable_failures(
    client: httpx.AsyncClient, coupon: str, mobile: str, code: int
) -> None:
    redeemable = await check(client, coupon, mobile)
    assert redeemable["is_redeemable"] == "false"
    assert redeemable["item_status"]["success"] == "false"
    assert redeemable["item_status"]["code"] == code


async def test_isredeemable_checks_validation_code_only_when_given(
    client: httpx.AsyncClient,
) -> None:
    assert (await check(client, "VALID20", RIYA))["is_redeemable"] == "true"
    params = {"code": "VALID20", "mobile": RIYA, "validation_code": "9999"}
    resp = await client.get("/v1.1/coupon/isredeemable", params=params)
    assert resp.json()["response"]["coupons"]["redeemable"]["item_status"]["code"] == 705


@pytest.mark.parametrize(
    ("coupon", "mobile", "code"),
    [
        ("GOOD100", UNKNOWN, 701),
        ("NOPE1234", RIYA, 702),
        ("ARJUN100", RIYA, 703),
        ("REDEEMED100", RIYA, 711),
        ("EXPIRED50", RIYA, 713),
    ],
)
async def test_resend_failures(
    client: httpx.AsyncClient, coupon: str, mobile: str, code: int
) -> None:
    data = await resend(client, coupon, mobile)
    assert data["status"]["success"] == "false"
    assert data["status"]["code"] == "500"
    (item,) = data["coupons"]["coupon"]
    assert item["item_status"]["success"] == "false"
    assert item["item_status"]["code"] == str(code)


async def test_series_unknown_id_gives_707(client: httpx.AsyncClient) -> None:
    resp = await client.get("/v1.1/coupon/series", params={"id": "9999"})
    item = resp.json()["response"]["series"]["items"]["item"]
    assert item["item_status"] == {
        "success": "false",
        "code": "707",
        "message": "Coupon series id is invalid",
    }


async def test_get_unknown_code_gives_705(client: httpx.AsyncClient) -> None:
    resp = await client.get("/v1.1/coupon/get", params={"code": "NOPE1234"})
    (item,) = resp.json()["response"]["coupons"]["coupon"]
    assert (item["id"], item["item_status"]["code"]) == (-1, 705)


async def test_issue_until_max_create_then_722(client: httpx.AsyncClient) -> None:
    first = await issue(client, 1005, RIYA)  # seeded with 3 of 3 already issued
    assert first["coupon"]["item_status"]["code"] == 722


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "message"),
    [
        ("GET", "/v1.1/coupon/get", {}, "code"),
        ("GET", "/v1.1/coupon/isredeemable", {"params": {"code": "GOOD100"}}, "Customer"),
        ("GET", "/v1.1/coupon/isredeemable", {"params": {"mobile": RIYA}}, "code"),
        ("GET", "/v1.1/coupon/resend", {"params": {"code": "GOOD100"}}, "Customer"),
        ("GET", "/v1.1/coupon/get", {"params": {"code": "X", "coupon_code_case": "x"}}, "case"),
        ("POST", "/v1.1/coupon/redeem", {"content": b"{not json"}, "JSON"),
        ("POST", "/v1.1/coupon/redeem", {"json": {"coupon": {"code": "GOOD100"}}}, "root"),
        (
            "POST",
            "/v1.1/coupon/redeem",
            {"json": {"root": {"coupon": {"customer": {"mobile": RIYA}}}}},
            "code",
        ),
        (
            "POST",
            "/v1.1/coupon/redeem",
            {"json": {"root": {"coupon": {"code": "GOOD100", "customer": {"email": ""}}}}},
            "Customer",
        ),
        ("POST", "/v1.1/coupon/issue", {"json": {"root": {"coupon": {"customer": {}}}}}, "series"),
        ("GET", "/v1.1/coupon/series", {"params": {"format": "xml"}}, "json"),
    ],
)
async def test_bad_input_is_400_envelope(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, Any], message: str
) -> None:
    resp = await client.request(method, path, **kwargs)

    assert resp.status_code == 400
    status = resp.json()["response"]["status"]
    assert status["success"] is False
    assert status["code"] == 400
    assert message.lower() in status["message"].lower()


async def test_unknown_path_and_wrong_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1.1/coupon/nope")
    assert missing.status_code == 404
    assert missing.json()["response"]["status"]["code"] == 404
    wrong = await client.get("/v1.1/coupon/redeem")
    assert wrong.status_code == 405
    assert wrong.json()["response"]["status"]["code"] == 405
