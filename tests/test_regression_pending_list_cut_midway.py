"""Regression test (was a bug):
``/coupon pending`` with more than ~12 waiting requests is cut in the
middle of a line, and the rest are silently missing.

bot/blocks/approvals.py ``pending_message`` joins one line per request (up to 50, the
default of ``ApprovalStore.pending_in``) into ONE section block, and ``_md`` truncates it
to 3000 characters. A line is ~200-250 characters (describe + mention + a ``<!date^…>``
token + a permalink), so from about the 13th request the text is cut mid-token (a
half ``<https://…|view thread>`` or ``<!date^…>`` shows as raw markup) and the requests after
it are not shown, with no "and N more". Slack accepts the message, so nothing fails loudly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.approvals import Request, State, Why
from bot.blocks.approvals import pending_message
from bot.capillary.identifiers import parse_customer
from bot.commands import Redeem

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LINK = "https://sandbox-retail.slack.com/archives/C01SUPPORT/p1700000000000100"


def waiting(n: int) -> Request:
    return Request(
        id=f"R{n:08X}",
        command=Redeem(f"GOOD{n}", parse_customer("+919876543210"), "B-1182", Decimal("1450")),
        requester="U03AGENT",
        channel="C01SUPPORT",
        state=State.PENDING,
        created_at=T0,
        expires_at=T0 + timedelta(hours=4),
        why=Why.POLICY,
        link=LINK,
    )


def test_twenty_waiting_requests_are_all_listed_or_counted_and_no_line_is_cut() -> None:
    message = pending_message([waiting(n) for n in range(20)])
    texts = [b["text"]["text"] for b in message.as_kwargs()["blocks"] if b["type"] == "section"]
    lines = [line for text in texts for line in text.splitlines() if line.startswith("• ")]
    assert all(line.endswith("|view thread>") for line in lines), lines[-1]
    assert len(lines) == 20 or any("more" in text for text in texts)
