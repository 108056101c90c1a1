"""Every Slack id the app uses — command, callback, action and block ids — in one place.

Handlers, builders, tests and ``manifest.yml`` (checked by a test) all refer to these.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = [
    "APP_HOME_OPENED",
    "PICK_VERB_ACTION",
    "SLASH_COMMAND",
    "SUBSCRIBED_EVENTS",
    "ActionId",
    "BlockId",
    "CallbackId",
    "pick_verb_action_id",
]

SLASH_COMMAND = "/coupon"
APP_HOME_OPENED = "app_home_opened"
#: Events the app subscribes to (manifest.yml ``bot_events``); each has a listener.
SUBSCRIBED_EVENTS = (APP_HOME_OPENED,)


class CallbackId(StrEnum):
    """``callback_id`` of each modal."""

    ACTION_MENU = "coupon_action_menu"  # bare /coupon: pick what to do
    VERB_FORM = "coupon_verb_form"  # one verb's fields; the verb rides in private_metadata
    APPROVE_FORM = "coupon_approve_form"  # confirm an approval; the request id in metadata
    REJECT_FORM = "coupon_reject_form"  # reject with a reason; the request id in metadata


class ActionId(StrEnum):
    """``action_id`` of interactive elements."""

    PICK_VERB = "coupon_pick_verb"  # a button on the action menu; its value is the verb
    INPUT = "coupon_input"  # the single text input inside each input block
    APPROVE = "coupon_approve"  # Approve on an approval card; its value is the request id
    REJECT = "coupon_reject"  # Reject on an approval card; its value is the request id


def pick_verb_action_id(verb: str) -> str:
    """The ``action_id`` of the action menu's button for ``verb``: action ids must differ
    within a view, so each carries its verb (the handler reads the verb from the value)."""
    return f"{ActionId.PICK_VERB}:{verb}"


#: Matches every :func:`pick_verb_action_id`: the one listener for all the menu's buttons.
PICK_VERB_ACTION = re.compile(rf"^{re.escape(ActionId.PICK_VERB)}:")


class BlockId(StrEnum):
    """``block_id`` of modal input blocks; validation errors are keyed by these."""

    CODES = "codes"
    CODE = "code"
    CUSTOMER = "customer"
    SERIES_ID = "series_id"
    TXN = "txn"
    AMOUNT = "amount"
    VALIDATION = "validation"
    VERBS = "verbs"
    NOTE = "note"  # the approver's optional note
    REASON = "reason"  # why a request is rejected
    DECISION = "decision"  # the Approve / Reject buttons on a card
