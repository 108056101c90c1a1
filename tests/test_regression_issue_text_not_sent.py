"""Regression test (was a bug):
an issue answered with item code 704 or 724 (the text message with the coupon couldn't be
sent) was reported as "❌ didn't work", stored ``failed`` and free to be asked again at once.

Capillary's code says only that the message failed, not that no coupon was issued: asking
again could give the customer a second coupon. Such an issue is now ``unknown`` ("check the
customer's coupons in Capillary before you issue again"), with Capillary's words in the
reason. A resend answered 704 still fails plainly: there the message *is* the action.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.blocks.results import result_message
from bot.capillary.auth import BasicAuth
from bot.capillary.client import CapillaryClient
from bot.capillary.identifiers import parse_customer
from bot.commands import Issue, Resend
from bot.service import CouponService, Failed, Known, Unknown

RIYA = parse_customer("+919876543210")
FAILED = {"success": "false", "code": 500, "message": "All requests have failed due to errors"}


def not_sent(code: int) -> httpx.MockTransport:
    item = {"success": "false", "code": code, "message": "Unable to send message"}
    body = {"response": {"status": FAILED, "coupon": {"code": "", "item_status": item}}}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json=body, headers={"X-Cap-Requestid": "rid-1"})

    return httpx.MockTransport(handler)


async def outcome_of(command: Any, transport: httpx.MockTransport) -> object:
    client = CapillaryClient(
        "https://eu.api.example", BasicAuth("u", SecretStr("p")), transport=transport
    )
    async with client:
        return await CouponService(client).run(command)


@pytest.mark.parametrize("code", [704, 724])
async def test_an_issue_whose_text_message_failed_is_unknown_not_failed(code: int) -> None:
    outcome = await outcome_of(Issue("1001", RIYA), not_sent(code))

    assert isinstance(outcome, Unknown) and outcome.known is Known.CANNOT_TELL
    shown = " ".join(str(b) for b in result_message(outcome).as_kwargs().values())
    assert "didn't work" not in shown
    assert "couldn't be sent" in shown and "before you issue again" in shown


async def test_a_resend_whose_text_message_failed_still_fails() -> None:
    outcome = await outcome_of(Resend("GOOD100", RIYA), not_sent(704))

    assert isinstance(outcome, Failed)
