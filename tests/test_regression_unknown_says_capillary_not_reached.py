"""Regression test (was a bug):
an
Unknown outcome with no Capillary request id ends with "No request id: Capillary was not
reached." right after "got no clear answer …, so we don't know yet whether it went through".

For a request found ``executing`` after a restart (``ApprovalFlow.recover``, reason
``STOPPED_MID_CALL``) the call may well have reached Capillary; for an issue the bot can't
check (Known.CANNOT_TELL), "Capillary was not reached" reads as "safe to try again", which
is how a coupon gets issued twice. ``results._request`` uses that fallback for every
outcome; for an Unknown it should say the request id is unknown, not that Capillary was
not reached. (The same line follows a timeout-Unknown without a request id.)
"""

from __future__ import annotations

import json

from bot.approval_flow import STOPPED_MID_CALL
from bot.blocks.results import result_message
from bot.capillary.identifiers import parse_customer
from bot.capillary.models import OutcomeUnknown
from bot.commands import Issue
from bot.service import Known, Unknown


def test_an_unknown_issue_never_claims_capillary_was_not_reached() -> None:
    outcome = Unknown(
        Issue("1001", parse_customer("+919876543210")),
        OutcomeUnknown("coupon/issue", STOPPED_MID_CALL),
        Known.CANNOT_TELL,
    )
    shown = json.dumps(result_message(outcome).as_kwargs(), ensure_ascii=False)
    assert "we don't know yet whether it went through" in shown
    assert "was not reached" not in shown
