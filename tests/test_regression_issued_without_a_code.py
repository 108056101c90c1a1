"""Regression test (was a bug):
an issue answered "700, processed" with an empty or ``"NULL"`` coupon code showed
"✅ Issued ** to ••••3210": a success naming no coupon, which the agent can neither read out
nor look up.

``IssuedCoupon.code`` was a plain ``str``, so ``""`` and Capillary's ``"NULL"`` string (a
documented quirk) passed, while ``null`` already failed validation and became *unknown*.
All three now do: a coupon is issued only when Capillary names it.
"""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from bot.capillary.auth import BasicAuth
from bot.capillary.client import CapillaryClient
from bot.capillary.identifiers import parse_customer
from bot.commands import Issue
from bot.service import CouponService, Issued, Unknown


@pytest.mark.parametrize("code", ["", "NULL", None, "GD7K2P"])
async def test_an_issue_is_done_only_when_capillary_names_the_coupon(code: str | None) -> None:
    body = {
        "response": {
            "status": {"success": True, "code": 200, "message": "Success"},
            "coupon": {"code": code, "item_status": {"success": True, "code": 700}},
        }
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    auth = BasicAuth("u", SecretStr("p"))
    async with CapillaryClient("https://eu.api.example", auth, transport=transport) as client:
        outcome = await CouponService(client).run(Issue("1001", parse_customer("+919876543210")))
    assert isinstance(outcome, Issued if code == "GD7K2P" else Unknown)
