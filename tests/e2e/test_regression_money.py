"""Regression tests (were bugs) found by trying to make the bot do something wrong with money.

- ``amount=14,50`` (a decimal comma, as much of the world writes ₹14.50) was read as ₹1,450:
  the amount pattern took any comma as a thousands separator, wherever it stood. For
  BILL250 (₹250 off bills of ₹1,000 or more) the request went to the approver as a ₹1,450
  bill and Capillary redeemed it against a ₹14.50 one. A comma now only groups digits the
  way Indian and Western numbers are grouped (1,450 · 1,45,000 · 1,450,000); anything else
  is refused with the usage line, in the slash command and in the form alike.
- A redeem answered with an item code the bot doesn't know (687, "points activities
  queued") was reported "❌ didn't work" and stored ``failed``, free to be asked again,
  though nothing said it hadn't happened. It is now checked with ``coupon/get`` first
  (tests/test_regression_unrecognised_answer_to_a_write.py has the case where it had).
- A redeem of a shareable coupon whose answer was lost was reported "checking shows it went
  through", because the coupon showed a redemption from the last hour: another customer's.
  The customer was told they had the discount and a retry was refused as a duplicate.
  Capillary's redemption time (which names no zone) is no longer used: the customer's own
  count of redemptions, from ``isredeemable`` before the call and after, decides.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import AGENT, RIYA, Stack, running_stack

from bot.commands import Verb
from bot.grammar import FormErrors, parse_form


@pytest.mark.parametrize("amount", ["14,50", "1,5", "1450,00"])
async def test_an_amount_with_a_decimal_comma_is_refused_not_read_as_more(
    stack: Stack, tmp_path: Path, amount: str
) -> None:
    await stack.command(f"redeem BILL250 {RIYA} txn=B-7 amount={amount}")
    (*_, last) = stack.emulator.state.ephemerals(AGENT)
    assert "amount=" in last.text and "Usage:" in last.text
    assert stack.parents() == [] and stack.capillary_calls() == 0
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM approvals").fetchone() == (0,)


def test_the_form_refuses_a_decimal_comma_too() -> None:
    values = {"code": "BILL250", "customer": RIYA, "txn": "B-7", "amount": "14,50"}
    with pytest.raises(FormErrors) as refused:
        parse_form(Verb.REDEEM, values)
    assert set(refused.value.errors) == {"amount"}


async def test_a_redeem_answered_with_a_code_the_bot_does_not_know_is_checked(
    stack: Stack,
) -> None:
    await stack.faults(transient_code=687, transient_next=1, only_path="coupon/redeem")
    parent = await stack.approved(f"redeem GOOD100 {RIYA} txn=B-7")
    thread = "\n".join(r.text for r in stack.replies(parent))
    assert "didn't work" not in thread
    assert "checking shows it did not go through" in thread
    assert stack.capillary_calls("/v1.1/coupon/redeem") == 1
    assert stack.capillary_calls("/v1.1/coupon/get") == 2  # "not redeemed" is asked twice


ARJUN = "+919812345678"


@pytest.mark.parametrize("carried_out", [False, True])
async def test_a_lost_redeem_is_not_taken_for_another_customer_s_redemption(
    tmp_path: Path, carried_out: bool
) -> None:
    async with running_stack(tmp_path, timeout=0.5) as stack:
        # A new shareable, multi-use coupon for Riya, which she redeems: it shows a redemption
        # made a moment ago, hers.
        before = set(stack.sandbox.state.coupons)
        await stack.approved(f"issue 1007 {RIYA}")
        (code,) = set(stack.sandbox.state.coupons) - before
        await stack.approved(f"redeem {code} {RIYA}")
        assert stack.capillary_calls("/v1.1/coupon/redeem") == 1
        await stack.faults(
            timeout_next=1,
            timeout_seconds=3,
            timeout_processes=carried_out,
            only_path="coupon/redeem",
        )
        parent = await stack.approved(f"redeem {code} {ARJUN}")
        thread = "\n".join(
            f"{r.text} {json.dumps(r.blocks, ensure_ascii=False)}" for r in stack.replies(parent)
        )
        if carried_out:
            assert "❓" in parent.text and "shows as redeemed" in thread
        else:
            assert "❌" in parent.text and "checking shows it did not go through" in thread
            assert "shows as redeemed" not in thread
        # Each redeem sent once (the hung one is counted when its late answer goes out).
        await stack.emulator.state.wait_for(
            lambda: stack.capillary_calls("/v1.1/coupon/redeem") == 2, timeout=10
        )
