"""Regression test (was a bug):
an issue or redeem answered with a code the bot doesn't know was reported as "❌ didn't
work", though nothing said it hadn't happened.

``bot.capillary.client.is_ambiguous`` treated every item code other than 683/730 as a
definite refusal, and every request-level code below 500 too. So an item code outside the
catalogue (687 "points activities queued", listed on Capillary's V2 code page: the
redemption is done and its side effects are queued) and request code 407 ("unknown error",
the request-level twin of item code 730) became ``Failed``: the thread said the redeem
didn't work, the request was stored ``failed`` (no duplicate protection, not counted
against the limit) and the agent was free to redeem again at once. A write answered with a
code the bot can't read is now ``unknown``: a redeem is checked with ``coupon/get``, an
issue says it can't tell.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import SecretStr

from bot.blocks.results import result_message
from bot.capillary.auth import BasicAuth
from bot.capillary.client import CapillaryClient
from bot.capillary.identifiers import parse_customer
from bot.commands import Issue, Redeem, Resend
from bot.service import CouponService, Known, Unknown

RIYA = parse_customer("+919876543210")
FAILED = {"success": "false", "code": 500, "message": "All requests have failed due to errors"}


def envelope(status: dict[str, Any], **payload: Any) -> dict[str, Any]:
    return {"response": {"status": status, **payload}}


def answering(*bodies: tuple[int, dict[str, Any]]) -> httpx.MockTransport:
    script = list(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        status, body = script.pop(0)
        return httpx.Response(status, json=body, headers={"X-Cap-Requestid": "rid-1"})

    return httpx.MockTransport(handler)


async def outcome_of(command: Issue | Redeem, transport: httpx.MockTransport) -> object:
    client = CapillaryClient(
        "https://eu.api.example", BasicAuth("u", SecretStr("p")), transport=transport
    )
    async with client:
        return await CouponService(client).run(command)


async def test_a_redeem_answered_with_an_unknown_item_code_is_checked_not_failed() -> None:
    queued = {"success": "true", "code": 687, "message": "Points activities queued"}
    redeemed = {
        "id": "9000001",
        "code": "GOOD100",
        "item_status": {"success": "true", "code": 700},
        "redemption_info": {
            "redeemed": "true",
            "id": "88213",
            "transaction": {"bill_number": "B-1182"},
        },
    }
    ok = {"success": "true", "code": 200}
    transport = answering(
        (500, envelope(FAILED, coupons={"coupon": {"code": "GOOD100", "item_status": queued}})),
        (200, envelope(ok, coupons={"coupon": [redeemed]})),
    )
    outcome = await outcome_of(Redeem("GOOD100", RIYA, bill_number="B-1182"), transport)
    assert isinstance(outcome, Unknown) and outcome.known is Known.HAPPENED
    shown = json.dumps(result_message(outcome).as_kwargs(), ensure_ascii=False)
    assert "didn't work" not in shown and "Don't redeem it again" in shown


async def test_an_issue_answered_with_unknown_error_407_is_unknown_not_failed() -> None:
    status = {"success": "false", "code": 407, "message": "Unknown error"}
    outcome = await outcome_of(Issue("1001", RIYA), answering((200, envelope(status))))
    assert isinstance(outcome, Unknown) and outcome.known is Known.CANNOT_TELL
    shown = result_message(outcome).text
    assert "didn't work" not in shown and "code 407" in shown  # the code, for escalation


async def test_a_resend_answered_with_an_unknown_code_does_not_say_no_answer_came() -> None:
    # Review of e2504f9 (issue and redeem only, by its message): is_ambiguous also decides
    # a resend's "maybe sent", so a resend answered 687 now read "Capillary's answer never
    # came", though the answer did come, with a code the bot can't read.
    queued = {"success": "false", "code": 687, "message": "Points activities queued"}
    body = envelope(FAILED, coupons={"coupon": {"code": "GOOD100", "item_status": queued}})
    client = CapillaryClient(
        "https://eu.api.example", BasicAuth("u", SecretStr("p")), transport=answering((200, body))
    )
    async with client:
        outcome = await CouponService(client).run(Resend("GOOD100", RIYA))
    shown = json.dumps(result_message(outcome).as_kwargs(), ensure_ascii=False)
    assert "never came" not in shown and "687" in shown
