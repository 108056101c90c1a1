"""Reliability: Slack answers 429 (Retry-After: 1) to every third call of each Web API method.

Six commands run at once while the emulator rate-limits: a lookup, a series, a check, a
resend, an approved redeem and a rejected issue (card, modal, decision, result). The bot
waits each 429 out, so:

- every thread message is delivered exactly once and in order: the parent, then (for a
  request) the approval card, then the result or the rejection notice;
- every parent ends with its final status, and each card is updated with the decision and
  loses its buttons;
- nothing is logged at ERROR, and the audit log has every command, call and outcome.

Budget: about 8 s on this 2-core machine (most of it waiting out Retry-After).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from conftest import LEAD, RIYA, Stack, running_stack
from reliability_support import (
    ErrorWatch,
    assert_every_command_audited,
    driver,
    read_ack,
    settled,
)

from bot.ids import BlockId
from bot.sandbox.slack import Message

LEAD2 = "U06LEAD2"
LIMITED = ("chat.postMessage", "chat.update", "chat.getPermalink", "chat.postEphemeral")
PLAIN = {
    "get GOOD100": ("get GOOD100", "Coupon details"),
    "series 1001": ("series 1001", "Diwali"),
    # Not GOOD100, which the redeem below may have used by then.
    f"check BILL250 {RIYA}": ("check BILL250 for ••••3210", "can be redeemed by ••••3210"),
    f"resend BILL250 {RIYA}": ("resend BILL250 for ••••3210", "was sent to ••••3210 again"),
}
REDEEM = f"redeem GOOD100 {RIYA} txn=B-429"
ISSUE = "issue 1001 +919812345678"


def shown(message: Message) -> str:
    return f"{message.text} {json.dumps(message.blocks, ensure_ascii=False)}"


async def parent_saying(stack: Stack, words: str) -> Message:
    """The parent whose line says ``words`` right after a separator, once it is there
    (``series 1001``, not the issue's ``issue from series 1001 to …``)."""
    part = f" · {words}"
    return await stack.emulator.state.wait_for(
        lambda: next((p for p in stack.parents() if part in p.text), None), timeout=30
    )


async def plain(stack: Stack, text: str) -> Message:
    """A command without approval: its thread holds exactly one reply, the result."""
    line, result = PLAIN[text]
    ack = read_ack(await driver(stack).command(text))
    assert ack.status == 200 and ack.body is None, ack
    parent = await parent_saying(stack, line)
    await stack.emulator.state.wait_for(lambda: settled(stack, parent), timeout=30)
    parent = stack.emulator.state.message(parent.channel, parent.ts) or parent
    assert parent.text.endswith("✅"), parent.text
    (reply,) = stack.replies(parent)
    assert result in shown(reply), shown(reply)
    return parent


async def request(stack: Stack, text: str, line: str, *, by: str, approve: bool) -> Message:
    """An issue or redeem: card, modal, decision; then its thread, checked in order."""
    ack = read_ack(await driver(stack).command(text))
    assert ack.status == 200 and ack.body is None, ack
    parent = await parent_saying(stack, line)
    card = await stack.emulator.state.wait_for(
        lambda: next(iter(stack.replies(parent)), None), timeout=30
    )
    assert any(b.get("block_id") == BlockId.DECISION for b in card.blocks), shown(card)
    await stack.decide(card, by=by, approve=approve, note="" if approve else "not today")
    final = "✅" if approve else "🚫 rejected"

    def finished() -> Message | None:
        now = stack.emulator.state.message(parent.channel, parent.ts)
        return now if now is not None and now.text.endswith(final) else None

    parent = await stack.emulator.state.wait_for(finished, timeout=30)
    replies = await stack.emulator.state.wait_for(
        lambda: (r := stack.replies(parent)) and len(r) >= 2 and r, timeout=30
    )
    first, second = replies
    assert first.ts == card.ts  # the card first, then the result: in order, once each
    assert ("redeemed for ••••3210" if approve else " rejected this ") in shown(second)
    card = stack.emulator.state.message(card.channel, card.ts) or card
    assert not any(b.get("block_id") == BlockId.DECISION for b in card.blocks)
    assert ("Approved by" if approve else "Rejected by") in shown(card), shown(card)
    return parent


async def test_a_429_on_every_third_slack_call_delays_but_loses_nothing(tmp_path: Path) -> None:
    with ErrorWatch().watching() as errors:
        async with running_stack(tmp_path) as stack:
            state = stack.emulator.state
            # Every third call of each method the bot uses. (views.open is called twice here, so
            # never limited: a trigger lives 3 s, and two 429s in a row would outlive it.)
            for method in LIMITED:
                state.rate_limits.set(method, every=3, retry_after=1)
            await asyncio.gather(
                *(plain(stack, text) for text in PLAIN),
                request(stack, REDEEM, "redeem GOOD100", by=LEAD, approve=True),
                request(stack, ISSUE, "issue from series 1001", by=LEAD2, approve=False),
            )
            limited = {call.method for call in state.calls() if call.status == 429}
            posted = [c for c in state.calls("chat.postMessage") if c.ok]
            threads = sorted(stack.parents(), key=lambda p: p.ts)
            replies = sum(len(stack.replies(p)) for p in threads)
            calls = stack.capillary_calls()
    errors.assert_none()
    # Each message posted once (the retries after a 429 made no duplicates): six parents,
    # four results, two cards, a redeem's result and an issue's rejection notice.
    assert len(posted) == len(threads) + replies == 6 + 4 + 2 + 2
    assert {"chat.postMessage", "chat.update"} <= limited, limited
    assert_every_command_audited(tmp_path / "bot.sqlite3", threads, calls)
