"""Each endpoint's success shape, with Capillary's type quirks asserted exactly."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import httpx
import pytest

RIYA = "919876543210"
ARJUN = "919812345678"


def coupon_body(**coupon: Any) -> dict[str, Any]:
    return {"root": {"coupon": coupon}}


async def test_issue_success_shape(client: httpx.AsyncClient) -> None:
    body = {"root": {"coupon": [{"series_id": "1001", "customer": {"mobile": RIYA}}]}}
    resp = await client.post("/v1.1/coupon/issue", json=body)

    assert resp.status_code == 200
    data = resp.json()["response"]
    assert data["status"] == {"success": True, "code": 200, "message": "Success"}
    coupon = data["coupon"]
    assert isinstance(coupon, dict)
    assert re.fullmatch(r"[A-Z0-9]{8}", coupon["code"])
    assert coupon["series_id"] == 1001
    assert coupon["discount_type"] == "ABS"
    assert coupon["discount_value"] == 100
    assert coupon["discount_on"] == "BILL"
    assert date.fromisoformat(coupon["valid_till"]) > date.today()
    assert coupon["customer"] == {
        "mobile": RIYA,
        "email": "riya.sharma@example.com",
        "external_id": "EXT-5001",
    }
    assert coupon["item_status"] == {
        "success": True,
        "code": 700,
        "message": "Coupon processing successful",
    }


async def test_issue_accepts_object_and_int_series_id(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/v1.1/coupon/issue",
        json=coupon_body(series_id=1001, customer={"email": "riya.sharma@example.com"}),
    )
    assert resp.json()["response"]["coupon"]["item_status"]["code"] == 700


async def test_issued_coupon_is_stored_for_the_customer(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/v1.1/coupon/issue", json=coupon_body(series_id="1002", customer={"mobile": ARJUN})
    )
    code = resp.json()["response"]["coupon"]["code"]

    got = (await client.get("/v1.1/coupon/get", params={"code": code})).json()["response"]
    item = got["coupons"]["coupon"][0]
    assert item["customer"]["mobile"] == ARJUN
    assert item["series_id"] == 1002
    series = await client.get("/v1.1/coupon/series", params={"id": "1002"})
    assert series.json()["response"]["series"]["items"]["item"]["coupons"]["issued"] == "2"


async def test_resend_success_shape_uses_strings(client: httpx.AsyncClient) -> None:
    resp = await client.get("/v1.1/coupon/resend", params={"code": "good100", "mobile": RIYA})

    assert resp.status_code == 200
    data = resp.json()["response"]
    assert data["status"] == {"success": "true", "code": "200", "message": "SUCCESS"}
    assert data["coupons"]["coupon"] == [
        {
            "id": "9000001",
            "code": "GOOD100",
            "item_status": {"success": "true", "code": "700", "message": "Coupon Resent"},
        }
    ]


async def test_get_success_shape(client: httpx.AsyncClient) -> None:
    resp = await client.get("/v1.1/coupon/get", params={"code": "GOOD100"})

    assert resp.status_code == 200
    data = resp.json()["response"]
    assert data["status"] == {
        "success": "true",
        "status": "true",
        "code": 200,
        "message": "Success",
    }
    (item,) = data["coupons"]["coupon"]
    assert item["id"] == "9000001"
    assert item["code"] == "GOOD100"
    assert re.fullmatch(r"\d{2}-\d{2}-\d{4}", item["valid_till"])  # DD-MM-YYYY, unlike issue
    assert datetime.strptime(item["valid_till"], "%d-%m-%Y").date() > date.today()
    datetime.strptime(item["issued_on"], "%Y-%m-%d %H:%M:%S")
    datetime.strptime(item["valid_from"], "%Y-%m-%d %H:%M:%S")
    assert item["series_id"] == 1001
    assert item["is_absolute"] is True
    assert item["value"] == 100
    assert item["pincode"] == "NULL"
    assert item["customer"] == {
        "id": "5001",
        "name": "Riya Sharma",
        "mobile": RIYA,
        "email": "riya.sharma@example.com",
        "external_id": "EXT-5001",
    }
    assert item["issued_store"] == {"code": "STORE-SANDBOX", "name": "Sandbox Store"}
    assert "redemption_info" not in item
    assert item["item_status"] == {
        "success": "true",
        "status": "true",
        "code": 700,
        "message": "Coupon processing successful",
    }


async def test_get_redeemed_coupon_has_redemption_info(client: httpx.AsyncClient) -> None:
    resp = await client.get("/v1.1/coupon/get", params={"code": "REDEEMED100"})

    info = resp.json()["response"]["coupons"]["coupon"][0]["redemption_info"]
    assert info["redeemed"] == "true"
    assert info["id"] == 4000001
    assert info["redeemed_at"] == "sandbox.till"
    assert info["store"] == {"code": "STORE-SANDBOX", "name": "Sandbox Store"}
    assert info["transaction"] == {"id": None, "bill_number": "BILL-4000001"}
    datetime.strptime(info["redeemed_on"], "%Y-%m-%d %H:%M:%S")


async def test_get_unmatched_code_is_an_extra_minus_one_item(client: httpx.AsyncClient) -> None:
    resp = await client.get("/v1.1/coupon/get", params={"code": "GOOD100,NoSuch1"})

    assert resp.status_code == 200
    data = resp.json()["response"]
    assert data["status"]["code"] == 200
    good, missing = data["coupons"]["coupon"]
    assert good["item_status"]["code"] == 700
    assert missing["id"] == -1
    assert missing["code"] == "NoSuch1"
    assert missing["valid_till"] is None
    assert missing["item_status"] == {
        "success": "false",
        "code": 705,
        "message": "Both coupon code and validation code are invalid",
    }


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (None, "GOOD100"),
        ("LOWER", "good100"),
        ("lower", "good100"),
        ("UPPER", "GOOD100"),
        ("AS_IT_IS", "GOOD100"),
    ],
)
async def test_get_is_case_insensitive_and_honours_coupon_code_case(
    client: httpx.AsyncClient, case: str | None, expected: str
) -> None:
    params = {"code": "gOoD100"} | ({"coupon_code_case": case} if case else {})
    resp = await client.get("/v1.1/coupon/get", params=params)
    assert resp.json()["response"]["coupons"]["coupon"][0]["code"] == expected


async def test_get_issued_to_ids_filters(client: httpx.AsyncClient) -> None:
    resp = await client.get(
        "/v1.1/coupon/get", params={"code": "GOOD100,ARJUN100", "issuedToIds": "5002"}
    )
    riya, arjun = resp.json()["response"]["coupons"]["coupon"]
    assert riya["id"] == -1
    assert arjun["id"] == "9000003"


async def test_series_one_is_an_object_of_strings(client: httpx.AsyncClient) -> None:
    resp = await client.get("/v1.1/coupon/series", params={"id": "1001"})

    data = resp.json()["response"]
    assert data["status"] == {"success": "true", "code": "200", "message": "Success"}
    item = data["series"]["items"]["item"]
    assert isinstance(item, dict)
    assert item["id"] == "1001"
    assert item["discount_type"] == "ABS"
    assert item["discount_value"] == "100"
    assert item["max_create"] == "-1"
    assert item["is_validation_required"] == "0"
    assert item["same_user_multiple_redeem"] == "0"
    assert item["coupons"] == {"issued": "3", "redeemed": "1"}
    assert item["item_status"] == {
        "success": "true",
        "code": "700",
        "message": "Coupon series fetched successfully",
    }
    assert_all_strings(item)


async def test_series_without_id_lists_every_series_as_array(client: httpx.AsyncClient) -> None:
    resp = await client.get("/v1.1/coupon/series")

    items = resp.json()["response"]["series"]["items"]["item"]
    assert isinstance(items, list)
    assert [i["id"] for i in items] == ["1001", "1002", "1003", "1004", "1005", "1006", "1007"]
    for item in items:
        assert_all_strings(item)
    by_id = {i["id"]: i for i in items}
    assert by_id["1002"]["is_validation_required"] == "1"
    assert by_id["1005"]["max_create"] == "3"
    assert by_id["1006"]["redeem_at_store"] == "[70002]"
    assert by_id["1007"]["multiple_use"] == "1"


def assert_all_strings(value: object) -> None:
    """Every leaf is a string (None allowed in valid_redemption_org_entities)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key != "valid_redemption_org_entities":
                assert_all_strings(inner)
    else:
        assert isinstance(value, str), value


async def test_isredeemable_success_shape(client: httpx.AsyncClient) -> None:
    resp = await client.get(
        "/v1.1/coupon/isredeemable", params={"code": "good100", "mobile": "9876543210"}
    )

    data = resp.json()["response"]
    assert data["status"] == {"success": "true", "code": 200, "message": "Success"}
    redeemable = data["coupons"]["redeemable"]
    assert redeemable == {
        "mobile": RIYA,
        "code": "GOOD100",
        "is_redeemable": "true",
        "redemptions_left": 1,
        "no_of_redemptions_by_user": 0,
        "coupon_value": "100",
        "customer": {
            "mobile": RIYA,
            "email": "riya.sharma@example.com",
            "external_id": "EXT-5001",
        },
        "item_status": {
            "success": "true",
            "status": "true",
            "code": 700,
            "message": "Coupon isRedeem successful",
        },
    }


async def test_isredeemable_details_adds_nested_series_info(client: httpx.AsyncClient) -> None:
    params = {"code": "VALID20", "mobile": RIYA, "details": "true"}
    info = (await client.get("/v1.1/coupon/isredeemable", params=params)).json()
    series_info = info["response"]["coupons"]["redeemable"]["series_info"]
    assert series_info["id"] == "1002"
    assert series_info["discount_type"] == "PERC"
    assert "categories" not in series_info

    params["details"] = "extended"
    info = (await client.get("/v1.1/coupon/isredeemable", params=params)).json()
    extended = info["response"]["coupons"]["redeemable"]["series_info"]
    assert extended["discount_upto"] == "500"
    assert extended["categories"] == {"category": []}
    assert extended["brands"] == {"brand": []}


async def test_isredeemable_several_codes_gives_array(client: httpx.AsyncClient) -> None:
    params = {"code": "GOOD100,REDEEMED100", "mobile": RIYA, "coupon_code_case": "LOWER"}
    resp = await client.get("/v1.1/coupon/isredeemable", params=params)

    good, used = resp.json()["response"]["coupons"]["redeemable"]
    assert (good["code"], good["is_redeemable"]) == ("good100", "true")
    assert (used["code"], used["is_redeemable"], used["item_status"]["code"]) == (
        "redeemed100",
        "false",
        711,
    )


@pytest.mark.parametrize(
    "identifier",
    [
        {"mobile": "+91 98765 43210"},
        {"email": "RIYA.SHARMA@example.com"},
        {"external_id": "EXT-5001"},
        {"id": "5001"},
        {"card_number": "CARD5001"},
    ],
)
async def test_every_customer_identifier_works(
    client: httpx.AsyncClient, identifier: dict[str, str]
) -> None:
    resp = await client.get("/v1.1/coupon/isredeemable", params={"code": "GOOD100"} | identifier)
    assert resp.json()["response"]["coupons"]["redeemable"]["is_redeemable"] == "true"


@pytest.mark.parametrize(
    "transaction",
    [[{"number": "BILL-77", "amount": "5000"}], {"number": "BILL-77", "amount": 5000}],
)
async def test_redeem_success_shape(client: httpx.AsyncClient, transaction: object) -> None:
    body = coupon_body(code="good100", customer={"mobile": RIYA}, transaction=transaction)
    resp = await client.post("/v1.1/coupon/redeem", json=body)

    assert resp.status_code == 200
    data = resp.json()["response"]
    assert data["status"] == {"success": "true", "code": 200, "message": "Success"}
    coupon = data["coupons"]["coupon"]
    assert isinstance(coupon, dict)
    assert re.fullmatch(r"\d+", coupon["redemption_id"])
    assert coupon["code"] == "GOOD100"
    assert coupon["discount_code"] == "DIWALI100"
    assert coupon["series_code"] == "SER1001"
    assert coupon["series_info"] == []
    assert coupon["is_absolute"] == "true"
    assert coupon["coupon_value"] == "100"
    assert coupon["transaction"] == {"amount": "5000.00", "number": "BILL-77"}
    assert coupon["side_effects"] == []
    assert coupon["customer"]["mobile"] == RIYA
    assert coupon["item_status"] == {
        "success": "true",
        "code": 700,
        "message": "Coupon processing successful",
    }


async def test_redeem_records_redemption_and_counters(client: httpx.AsyncClient) -> None:
    body = coupon_body(
        code="GOOD100", customer={"mobile": RIYA}, transaction=[{"number": "B-9", "amount": "800"}]
    )
    redeemed = (await client.post("/v1.1/coupon/redeem", json=body)).json()
    redemption_id = int(redeemed["response"]["coupons"]["coupon"]["redemption_id"])

    got = (await client.get("/v1.1/coupon/get", params={"code": "GOOD100"})).json()
    info = got["response"]["coupons"]["coupon"][0]["redemption_info"]
    assert info["id"] == redemption_id
    assert info["transaction"]["bill_number"] == "B-9"
    series = (await client.get("/v1.1/coupon/series", params={"id": 1001})).json()
    assert series["response"]["series"]["items"]["item"]["coupons"]["redeemed"] == "2"
    check = await client.get(
        "/v1.1/coupon/isredeemable", params={"code": "GOOD100", "mobile": RIYA}
    )
    redeemable = check.json()["response"]["coupons"]["redeemable"]
    assert redeemable["is_redeemable"] == "false"
    assert redeemable["redemptions_left"] == 0
    assert redeemable["no_of_redemptions_by_user"] == 1


async def test_redeem_perc_coupon_value_is_capped(client: httpx.AsyncClient) -> None:
    body = coupon_body(
        code="VALID20",
        validation_code="4321",
        customer={"mobile": RIYA},
        transaction={"number": "B-1", "amount": "10000"},
    )
    coupon = (await client.post("/v1.1/coupon/redeem", json=body)).json()["response"]["coupons"]
    assert coupon["coupon"]["is_absolute"] == "false"
    assert coupon["coupon"]["coupon_value"] == "500"


async def test_redeem_partial_batch_is_201(client: httpx.AsyncClient) -> None:
    body = {
        "root": {
            "coupon": [
                {"code": "GOOD100", "customer": {"mobile": RIYA}},
                {"code": "REDEEMED100", "customer": {"mobile": RIYA}},
            ]
        }
    }
    resp = await client.post("/v1.1/coupon/redeem", json=body)
    assert resp.status_code == 200
    data = resp.json()["response"]
    assert data["status"]["code"] == 201
    assert [c["item_status"]["code"] for c in data["coupons"]["coupon"]] == [700, 711]


async def test_describe_lists_seed(sandbox: Any, anon: httpx.AsyncClient) -> None:
    text = (await anon.get("/__sandbox")).text
    for needle in (
        sandbox.base_url,
        "sandbox",
        "1001",
        RIYA,
        "GOOD100",
        "REDEEMED",
        "/__sandbox/faults",
    ):
        assert needle in text
