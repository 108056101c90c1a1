"""An approval from a card left behind: the bot removed from the channel, or the channel
archived, after the request was asked. End to end: signed clicks and modal submissions over
HTTP, the Capillary sandbox, the Slack emulator (which refuses posts there as Slack does:
``not_in_channel``, ``is_archived``), the approvals in a real SQLite file."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import LEAD, RIYA, SUPPORT, Stack

from bot.ids import BlockId
from bot.sandbox.slack import BOT_USER_ID, Message

REDEEM = "/v1.1/coupon/redeem"


def shown(message: Message) -> str:
    return f"{message.text} {json.dumps(message.blocks, ensure_ascii=False)}"


def db_states(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT state FROM approvals ORDER BY created_at")]


def dms(stack: Stack, user: str) -> list[Message]:
    """What the bot said to ``user`` in its direct messages (the app's Messages tab)."""
    return stack.emulator.state.messages("D" + user[1:])


def kick(stack: Stack) -> None:
    stack.emulator.state.remove_member(SUPPORT, BOT_USER_ID)


def archive(stack: Stack) -> None:
    stack.emulator.state.archive(SUPPORT)


@pytest.mark.parametrize(("gone", "code"), [(kick, "not_in_channel"), (archive, "is_archived")])
async def test_gone_before_the_approval_nothing_is_sent_and_the_approver_is_told(
    stack: Stack,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    gone: Callable[[Stack], None],
    code: str,
) -> None:
    await stack.command(f"redeem GOOD100 {RIYA} txn=B-1182")
    card = await stack.card()
    view = await stack.open_decision(card, by=LEAD)  # the lead opens Approve…
    gone(stack)  # …and meanwhile the bot is removed, or the channel archived
    calls = stack.capillary_calls()
    await stack.slack.submit(view.id, {BlockId.NOTE: "ok"}, user=LEAD)
    assert stack.slack.last_ack_outcome == "closed"

    (dm,) = await stack.emulator.state.wait_for(lambda: dms(stack, LEAD), timeout=10)
    assert "You approved request R" in dm.text and "redeem GOOD100 for ••••3210" in dm.text
    assert "*not carried out*" in dm.text and f"(Slack: `{code}`;" in dm.text
    assert "nothing was sent to Capillary" in dm.text and "9876543210" not in dm.text
    assert stack.capillary_calls() == calls  # not even the re-check before the redeem
    assert db_states(tmp_path / "bot.sqlite3") == ["failed"]
    assert "unexpected error" not in caplog.text  # no traceback is the only trace any more

    if gone is kick:  # Slack still lets the bot edit its own messages there
        now = stack.emulator.state.message(card.channel, card.ts)
        assert now is not None and "Not carried out: the bot can no longer post" in shown(now)
        assert BlockId.DECISION not in shown(now)
        assert stack.parents()[0].text.endswith("❌")


async def test_removed_during_the_call_the_redeem_is_kept_and_the_approver_gets_the_result(
    stack: Stack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await stack.command(f"redeem GOOD100 {RIYA} txn=B-1182")
    card = await stack.card()
    # Capillary carries the redeem out at once but answers 3 s later: the bot is removed
    # from the channel while the answer is on its way.
    await stack.faults(
        timeout_next=1, timeout_seconds=3, timeout_processes=True, only_path="coupon/redeem"
    )
    caplog.set_level(logging.WARNING, logger="bot.approval_flow")
    await stack.decide(card, by=LEAD)
    await stack.emulator.state.wait_for(lambda: stack.capillary_calls(REDEEM) == 1, timeout=10)
    kick(stack)

    (dm,) = await stack.emulator.state.wait_for(lambda: dms(stack, LEAD), timeout=15)
    text = shown(dm)
    assert "could not be posted in its thread in <#C01SUPPORT> (Slack: `not_in_channel`)" in text
    assert "GOOD100 redeemed for ••••3210 · redemption id" in text
    assert "Please tell <@U03AGENT>." in text and "9876543210" not in text
    assert stack.capillary_calls(REDEEM) == 1
    assert db_states(tmp_path / "bot.sqlite3") == ["done"]

    now = stack.emulator.state.message(card.channel, card.ts)
    assert now is not None and "✅ Redeemed · redemption id" in shown(now)
    parent = stack.parents()[0]
    assert parent.text.endswith("✅") and "⏳" not in parent.text
    thread = " ".join(shown(r) for r in stack.replies(parent))
    assert "redeemed for" not in thread  # the thread took nothing after the removal
    (said,) = stack.emulator.state.ephemerals(LEAD)  # before the call, still in the channel
    assert said.text.startswith("You approved this redeem of GOOD100: it is being carried")
    assert "not posted in its thread (not_in_channel); telling U02LEAD directly" in caplog.text
    assert "unexpected error" not in caplog.text and "9876543210" not in caplog.text
