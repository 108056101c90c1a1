"""Every Slack id the app uses — command, callback, action and block ids — in one place.

Handlers, builders, tests and ``manifest.yml`` (checked by a test) all refer to these.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SLASH_COMMAND", "SUBSCRIBED_EVENTS", "ActionId", "BlockId", "CallbackId"]

SLASH_COMMAND = "/coupon"
#: Events the app subscribes to (manifest.yml ``bot_events``); each has a listener.
SUBSCRIBED_EVENTS = ("app_home_opened",)


class CallbackId(StrEnum):
    """``callback_id`` of each modal."""

    ACTION_MENU = "coupon_action_menu"  # bare /coupon: pick what to do
    VERB_FORM = "coupon_verb_form"  # one verb's fields; the verb rides in private_metadata


class ActionId(StrEnum):
    """``action_id`` of interactive elements."""

    PICK_VERB = "coupon_pick_verb"  # a button on the action menu; its value is the verb
    INPUT = "coupon_input"  # the single text input inside each input block


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
