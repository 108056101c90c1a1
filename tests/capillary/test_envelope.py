"""The envelope parser over every documented variant (capillary-v1.1.md), without a network."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from bot.capillary.catalogue import Category
from bot.capillary.envelope import (
    Endpoint,
    decode,
    parse_get,
    parse_is_redeemable,
    parse_issue,
    parse_redeem,
    parse_resend,
    parse_series,
    parse_series_list,
)
from bot.capillary.errors import (
    CapillaryItemError,
    CapillaryProtocolError,
    CapillaryRequestError,
)


def envelope(body: Any, *, http_status: int = 200, request_id: str | None = "req-1") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return decode(raw, http_status=http_status, request_id=request_id, endpoint="test")


def ok_status(**overrides: Any) -> dict[str, Any]:
    return {"success": True, "code": 200, "message": "Success", **overrides}


ITEM_OK_STRINGS = {"success": "true", "code": "700", "message": "Coupon processing successful"}
ITEM_OK_NATIVE = {"success": True, "code": 700, "message": "Coupon processing successful"}

ISSUE_CURRENT = {
    "response": {
        "status": ok_status(),
        "coupon": {
            "code": "QX7TR2ML",
            "series_id": 757291,
            "description": "Diwali welcome",
            "discount_code": "DIWALI100",
            "valid_till": "2026-12-31",
            "discount_type": "ABS",
            "discount_value": "100",
            "discount_upto": 0,
            "discount_on": "BILL",
            "customer": {"mobile": "919876543210", "email": None, "external_id": None},
            "item_status": ITEM_OK_NATIVE,
        },
    }
}


class TestIssue:
    def test_current_shape_native_types(self) -> None:
        coupon = parse_issue(envelope(ISSUE_CURRENT))
        assert coupon.code == "QX7TR2ML"
        assert coupon.series_id == "757291"
        assert coupon.valid_till == date(2026, 12, 31)
        assert coupon.discount_value == Decimal(100)
        assert coupon.customer is not None and coupon.customer.mobile == "919876543210"
        assert coupon.request_id == "req-1"

    def test_string_status_fields(self) -> None:
        body = json.loads(json.dumps(ISSUE_CURRENT))
        body["response"]["status"] = {"success": "true", "code": "200", "message": "Success"}
        body["response"]["coupon"]["item_status"] = ITEM_OK_STRINGS
        assert parse_issue(envelope(body)).code == "QX7TR2ML"

    def test_older_series_info_nesting(self) -> None:
        body = {
            "response": {
                "status": {"success": "true", "code": "200", "message": "SUCCESS"},
                "coupon": {
                    "code": "OLD1",
                    "series_info": {
                        "id": "99",
                        "description": "Old style",
                        "valid_till": "2027-01-15",
                        "discount_type": "PERC",
                        "discount_value": "15",
                    },
                    "item_status": ITEM_OK_STRINGS,
                },
            }
        }
        coupon = parse_issue(envelope(body))
        assert (coupon.series_id, coupon.description, coupon.discount_type) == (
            "99",
            "Old style",
            "PERC",
        )
        assert coupon.valid_till == date(2027, 1, 15)
        assert coupon.discount_value == Decimal(15)

    def test_item_error_carries_code_message_and_request_id(self) -> None:
        body = {
            "response": {
                "status": {
                    "success": False,
                    "code": 500,
                    "message": "All requests have failed due to errors",
                },
                "coupon": {
                    "code": None,
                    "item_status": {"success": False, "code": 707, "message": "Invalid series"},
                },
            }
        }
        with pytest.raises(CapillaryItemError) as caught:
            parse_issue(envelope(body, request_id="abc"))
        assert caught.value.item_code == 707
        assert caught.value.request_id == "abc"
        assert caught.value.explanation.capillary_message == "Invalid series"
        assert caught.value.explanation.category is Category.COUPON

    def test_success_without_payload_is_protocol_error(self) -> None:
        with pytest.raises(CapillaryProtocolError):
            parse_issue(envelope({"response": {"status": ok_status()}}))

    def test_success_item_without_code_field_is_protocol_error(self) -> None:
        body = {"response": {"status": ok_status(), "coupon": {"item_status": ITEM_OK_NATIVE}}}
        with pytest.raises(CapillaryProtocolError):
            parse_issue(envelope(body))


class TestRequestLevel:
    def test_request_error_without_items(self) -> None:
        body = {
            "response": {"status": {"success": "false", "code": "401", "message": "Unauthorized"}}
        }
        with pytest.raises(CapillaryRequestError) as caught:
            parse_series(envelope(body, http_status=401))
        assert caught.value.status_code == 401
        assert caught.value.explanation.category is Category.CONFIGURATION

    def test_non_json_with_error_status_is_request_error(self) -> None:
        with pytest.raises(CapillaryRequestError) as caught:
            envelope(b"<html>Bad gateway</html>", http_status=502)
        assert caught.value.status_code == 502

    @pytest.mark.parametrize(
        "body",
        [
            b"<html>oops</html>",
            b"",
            b"null",
            b"[]",
            b'{"response": []}',
            b'{"response": {"status": 5}}',
            b"{",
        ],
    )
    def test_non_envelope_with_200_is_protocol_error(self, body: bytes) -> None:
        with pytest.raises(CapillaryProtocolError):
            envelope(body)

    def test_documented_400_with_empty_object(self) -> None:
        with pytest.raises(CapillaryRequestError) as caught:
            envelope({}, http_status=400)
        assert caught.value.status_code == 400


REDEEM_OK = {
    "response": {
        "status": {"success": "true", "code": 200, "message": "Success"},
        "coupons": {
            "coupon": {
                "customer": {"mobile": "447700900000", "email": "", "external_id": ""},
                "redemption_id": "88213",
                "code": "GOOD200",
                "discount_code": "D200",
                "series_code": "S1",
                "series_info": [],
                "is_absolute": "true",
                "coupon_value": "200",
                "transaction": {"amount": "5000.00", "number": "bill-110"},
                "side_effects": [],
                "item_status": {
                    "success": "true",
                    "code": 700,
                    "message": "Coupon processing successful",
                },
            }
        },
    }
}


class TestRedeem:
    def test_success_object_payload(self) -> None:
        redeemed = parse_redeem(envelope(REDEEM_OK))
        assert (redeemed.code, redeemed.redemption_id, redeemed.bill_number) == (
            "GOOD200",
            "88213",
            "bill-110",
        )
        assert redeemed.bill_amount == Decimal("5000.00")
        assert redeemed.is_absolute is True
        assert redeemed.customer is not None and redeemed.customer.email is None

    def test_array_payload_array_transaction_and_old_redemption_id_key(self) -> None:
        body = json.loads(json.dumps(REDEEM_OK))
        coupon = body["response"]["coupons"]["coupon"]
        del coupon["redemption_id"]
        coupon["redemptionId"] = 42
        coupon["transaction"] = [{"number": "B-1", "amount": 10}]
        body["response"]["coupons"]["coupon"] = [coupon]
        redeemed = parse_redeem(envelope(body))
        assert (redeemed.redemption_id, redeemed.bill_number, redeemed.bill_amount) == (
            "42",
            "B-1",
            Decimal(10),
        )

    def test_http_500_with_normal_envelope_gives_item_error(self) -> None:
        body = {
            "response": {
                "status": {
                    "success": "false",
                    "code": 500,
                    "message": "All requests have failed due to errors",
                },
                "coupons": {
                    "coupon": {
                        "code": "GOOD200",
                        "item_status": {
                            "success": "false",
                            "code": 696,
                            "message": "Redemption per coupon code limit has reached max limit",
                        },
                    }
                },
            }
        }
        with pytest.raises(CapillaryItemError) as caught:
            parse_redeem(envelope(body, http_status=500))
        assert caught.value.item_code == 696
        assert caught.value.explanation.category is Category.LIMIT

    def test_item_success_false_but_code_missing_on_failed_request(self) -> None:
        body = {
            "response": {
                "status": {"success": False, "code": 500, "message": "failed"},
                "coupons": {"coupon": {"code": "X", "item_status": {"success": False}}},
            }
        }
        with pytest.raises(CapillaryItemError):
            parse_redeem(envelope(body, http_status=500))


GET_BODY = {
    "response": {
        "status": {"success": "true", "status": "true", "code": 200, "message": "Success"},
        "coupons": {
            "coupon": [
                {
                    "id": 1234,
                    "code": "pt4i43yn",
                    "valid_till": "31-12-2026",
                    "issued_on": "2026-11-02 10:15:00",
                    "valid_from": "2026-11-02 00:00:00",
                    "series_id": 1001,
                    "is_absolute": True,
                    "value": 100,
                    "discount_upto": 0,
                    "customer": {"id": 98662653, "name": "Asha", "mobile": "919876543210"},
                    "pincode": "NULL",
                    "issued_store": {"code": "S12", "name": "Store 12"},
                    "redemption_info": {
                        "redeemed": "true",
                        "id": 88213,
                        "redeemed_on": "2026-11-20 14:02:00",
                        "redeemed_at": "store12.till",
                        "store": {"code": "S12", "name": "Store 12"},
                        "transaction": {"id": 5, "bill_number": "B-1182"},
                    },
                    "item_status": {
                        "success": "true",
                        "status": "true",
                        "code": 700,
                        "message": "ok",
                    },
                },
                {
                    "id": -1,
                    "code": "wl2zbjzk",
                    "valid_till": None,
                    "series_id": None,
                    "item_status": {
                        "success": "false",
                        "code": 705,
                        "message": "Both coupon code and validation code are invalid",
                    },
                },
            ]
        },
    }
}


class TestGet:
    def test_found_and_missing(self) -> None:
        lookup = parse_get(envelope(GET_BODY))
        (coupon,) = lookup.coupons
        assert coupon.code == "pt4i43yn"
        assert coupon.valid_till == date(2026, 12, 31)  # DD-MM-YYYY on get
        assert coupon.issued_on == datetime(2026, 11, 2, 10, 15)
        assert coupon.redeemed
        assert coupon.redemption is not None
        assert coupon.redemption.bill_number == "B-1182"
        assert coupon.redemption.store is not None and coupon.redemption.store.name == "Store 12"
        (missing,) = lookup.missing
        assert missing.code == "wl2zbjzk"
        assert missing.explanation.code == "705"
        # No validation code was sent: for a lookup, 705 means there is no such coupon.
        assert missing.explanation.sentence == "No coupon with this code exists."
        assert lookup.request_id == "req-1"

    def test_single_object_and_unredeemed(self) -> None:
        item = {
            "id": "7",
            "code": "GOOD100",
            "valid_till": "",
            "series_id": "1001",
            "item_status": {"status": "true", "code": "700"},
        }
        body = {"response": {"status": ok_status(), "coupons": {"coupon": item}}}
        (coupon,) = parse_get(envelope(body)).coupons
        assert coupon.valid_till is None
        assert not coupon.redeemed

    def test_old_top_level_redemption_fields(self) -> None:
        item = {
            "id": "7",
            "code": "OLD",
            "redeemed_on": "2025-01-02 03:04:05",
            "redeemed_by": {"firstname": "A"},
            "store": {"code": "S1", "name": "One"},
            "transaction": {"number": "T-9", "id": "3"},
            "item_status": {"status": "true", "code": "700"},
        }
        body = {"response": {"status": ok_status(), "coupons": {"coupon": [item]}}}
        (coupon,) = parse_get(envelope(body)).coupons
        assert coupon.redemption is not None
        assert coupon.redemption.bill_number == "T-9"
        assert coupon.redemption.redeemed_on == datetime(2025, 1, 2, 3, 4, 5)

    def test_empty_payload_success_gives_empty_lookup(self) -> None:
        body = {"response": {"status": ok_status(), "coupons": {"coupon": []}}}
        lookup = parse_get(envelope(body))
        assert lookup.coupons == () and lookup.missing == ()

    def test_transient_item_code_is_raised_for_retry(self) -> None:
        body = {
            "response": {
                "status": ok_status(),
                "coupons": {
                    "coupon": [{"code": "X", "item_status": {"success": "false", "code": 791}}]
                },
            }
        }
        with pytest.raises(CapillaryItemError) as caught:
            parse_get(envelope(body))
        assert caught.value.retry_later_helps


def redeemable_body(**item: Any) -> dict[str, Any]:
    return {"response": {"status": ok_status(), "coupons": {"redeemable": item}}}


class TestIsRedeemable:
    def test_redeemable(self) -> None:
        body = redeemable_body(
            code="GOOD100",
            is_redeemable="true",
            redemptions_left="1",
            no_of_redemptions_by_user="0",
            item_status={"success": "true", "status": "true", "code": 700},
        )
        result = parse_is_redeemable(envelope(body))
        assert result.is_redeemable and result.reason is None
        assert (result.redemptions_left, result.redemptions_by_user) == (1, 0)

    def test_discount_type_is_read_from_series_info(self) -> None:
        body = redeemable_body(
            code="VALID20",
            is_redeemable="true",
            coupon_value="20",
            series_info={"discount_type": "PERC", "discount_value": "20"},
            item_status=ITEM_OK_NATIVE,
        )
        result = parse_is_redeemable(envelope(body))
        assert (result.discount_type, result.coupon_value) == ("PERC", Decimal("20"))

    def test_discount_type_is_none_without_series_info(self) -> None:
        body = redeemable_body(code="A", is_redeemable="true", coupon_value="20", series_info=[])
        assert parse_is_redeemable(envelope(body)).discount_type is None

    def test_unlimited(self) -> None:
        body = redeemable_body(
            code="A", is_redeemable=True, redemptions_left=-1, item_status=ITEM_OK_NATIVE
        )
        assert parse_is_redeemable(envelope(body)).unlimited

    def test_not_redeemable_is_an_answer_with_a_reason(self) -> None:
        body = redeemable_body(
            code="OLD500",
            is_redeemable="false",
            item_status={"success": "false", "code": 713, "message": "Coupon has expired"},
        )
        result = parse_is_redeemable(envelope(body))
        assert not result.is_redeemable
        assert result.reason is not None and result.reason.code == "713"
        assert result.reason.capillary_message == "Coupon has expired"

    def test_flag_true_but_error_code_is_not_redeemable(self) -> None:
        body = redeemable_body(
            code="A", is_redeemable="true", item_status={"success": "false", "code": 711}
        )
        assert not parse_is_redeemable(envelope(body)).is_redeemable

    def test_transient_code_raises_for_retry(self) -> None:
        body = redeemable_body(code="A", is_redeemable="false", item_status={"code": "789"})
        with pytest.raises(CapillaryItemError):
            parse_is_redeemable(envelope(body))

    def test_no_payload_with_failed_request(self) -> None:
        body = {
            "response": {"status": {"success": False, "code": 521, "message": "Concurrent actions"}}
        }
        with pytest.raises(CapillaryRequestError) as caught:
            parse_is_redeemable(envelope(body))
        assert caught.value.retry_later_helps


class TestSeriesAndResend:
    SERIES_ITEM: ClassVar[dict[str, Any]] = {
        "id": "1001",
        "description": "Diwali welcome",
        "discount_type": "ABS",
        "discount_value": "100",
        "valid_till_date": "2026-12-31",
        "max_create": "-1",
        "max_redeem": "1",
        "is_validation_required": "0",
        "coupons": {"issued": "25", "redeemed": "3"},
        "item_status": {
            "success": "true",
            "code": "700",
            "message": "Coupon series fetched successfully",
        },
    }

    def test_series_object(self) -> None:
        body = {
            "response": {"status": ok_status(), "series": {"items": {"item": self.SERIES_ITEM}}}
        }
        series = parse_series(envelope(body))
        assert (series.id, series.max_create, series.issued, series.redeemed) == ("1001", -1, 25, 3)
        assert series.is_validation_required is False
        assert series.valid_till == date(2026, 12, 31)

    def test_series_list_array(self) -> None:
        second = {**self.SERIES_ITEM, "id": "1002"}
        body = {
            "response": {
                "status": ok_status(),
                "series": {"items": {"item": [self.SERIES_ITEM, second]}},
            }
        }
        assert [s.id for s in parse_series_list(envelope(body))] == ["1001", "1002"]

    def test_unknown_series(self) -> None:
        item = {"id": "9", "item_status": {"success": "false", "code": "707", "message": "invalid"}}
        body = {"response": {"status": ok_status(), "series": {"items": {"item": item}}}}
        with pytest.raises(CapillaryItemError) as caught:
            parse_series(envelope(body))
        assert caught.value.item_code == 707

    @pytest.mark.parametrize("as_array", [True, False])
    def test_resend_array_or_object(self, as_array: bool) -> None:
        item = {
            "id": "5",
            "code": "GOOD100",
            "item_status": {"success": "true", "code": "700", "message": "Coupon Resent"},
        }
        body = {
            "response": {
                "status": {"success": "true", "code": "200", "message": "SUCCESS"},
                "coupons": {"coupon": [item] if as_array else item},
            }
        }
        assert parse_resend(envelope(body)).code == "GOOD100"


def test_every_endpoint_has_a_payload_path() -> None:
    from bot.capillary.envelope import PAYLOAD_PATHS

    assert set(PAYLOAD_PATHS) == set(Endpoint)


class TestReviewFindings:
    """Edge cases a review found: each once mis-parsed."""

    def test_failed_request_with_item_lacking_verdict_is_a_request_error(self) -> None:
        body = {
            "response": {
                "status": {"success": False, "code": 500, "message": "Server error"},
                "coupons": {"coupon": {"code": "GOOD100"}},
            }
        }
        with pytest.raises(CapillaryRequestError) as caught:
            parse_redeem(envelope(body, http_status=500))
        assert caught.value.status_code == 500

    def test_explicit_item_failure_without_code_is_an_item_error(self) -> None:
        body = {
            "response": {
                "status": ok_status(),
                "coupons": {"coupon": {"code": "A", "item_status": {"success": "false"}}},
            }
        }
        with pytest.raises(CapillaryItemError):
            parse_redeem(envelope(body))

    @pytest.mark.parametrize("info", [[], {}, "", "NULL", None, {"redeemed": "false", "id": 5}])
    def test_empty_redemption_info_is_not_a_redemption(self, info: Any) -> None:
        item = {"id": 1, "code": "A", "redemption_info": info, "item_status": {"code": 700}}
        body = {"response": {"status": ok_status(), "coupons": {"coupon": [item]}}}
        (coupon,) = parse_get(envelope(body)).coupons
        assert not coupon.redeemed

    def test_old_style_null_redemption_fields_are_not_a_redemption(self) -> None:
        item = {
            "id": 1,
            "code": "A",
            "redeemed_on": None,
            "transaction": None,
            "item_status": {"code": 700},
        }
        body = {"response": {"status": ok_status(), "coupons": {"coupon": [item]}}}
        (coupon,) = parse_get(envelope(body)).coupons
        assert not coupon.redeemed

    def test_numeric_code_and_series_id(self) -> None:
        body = {
            "response": {
                "status": ok_status(),
                "coupon": {"code": 12345678, "item_status": ITEM_OK_NATIVE},
            }
        }
        assert parse_issue(envelope(body)).code == "12345678"
        item = {"id": 1001, "item_status": {"code": 700}}
        series_body = {"response": {"status": ok_status(), "series": {"items": {"item": item}}}}
        assert parse_series(envelope(series_body)).id == "1001"

    @pytest.mark.parametrize("number", ["1e9999999", "-1e1000000", "9" * 80])
    def test_absurd_numbers_are_ignored_quickly(self, number: str) -> None:
        body = {"response": {"status": {"success": True, "code": number}, "coupon": {"code": "A"}}}
        assert parse_issue(envelope(body)).code == "A"
