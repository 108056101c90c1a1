"""Regression test (was a bug):
a phone number typed with spaces in an approver's note or rejection reason
reaches the channel unmasked.

bot/blocks/approvals.py ``quoted()`` masks with ``bot.capillary.identifiers.scrub``, whose
pattern (``\\+?\\d[\\d\\-]{6,}\\d``) only matches digits joined by dashes. "+91 98765 43210"
or "98765 43210" (the usual way an Indian mobile is written) passes through, into the card
(``decision_line``), the rejection notice in the thread (``rejected_notice``) and, since
7dbf494 (``ApprovalFlow.decide`` stores ``scrub(note)``), the approvals table and the audit
log as typed. The module docstring promises
"what people typed (notes, reasons) ... has any phone number or email in it masked".
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.approvals import Request, State, Why
from bot.blocks.approvals import approval_card, rejected_notice
from bot.capillary.identifiers import parse_customer
from bot.commands import Redeem

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
REJECTED = Request(
    id="R7F3A9C21",
    command=Redeem("GOOD100", parse_customer("+919876543210")),
    requester="U03AGENT",
    channel="C01SUPPORT",
    state=State.REJECTED,
    created_at=T0,
    expires_at=T0 + timedelta(hours=4),
    why=Why.POLICY,
    decided_by="U02LEAD",
    decided_at=T0,
)


@pytest.mark.parametrize(
    "note", ["call her on +91 98765 43210 first", "call her on 98765 43210 first"]
)
def test_a_spaced_phone_number_in_a_reason_is_masked(note: str) -> None:
    r = replace(REJECTED, note=note)
    shown = json.dumps(approval_card(r).as_kwargs(), ensure_ascii=False) + rejected_notice(r)
    assert "98765" not in shown and "43210" not in shown
