"""Modals: the action menu, one form per verb, notices; metadata and submitted values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.blocks.modals import (
    FORM_VERBS,
    FormMetadata,
    action_menu,
    form_values,
    notice_view,
    read_metadata,
    verb_form,
)
from bot.capillary.identifiers import parse_customer
from bot.commands import Get, OpenForm, Redeem, Verb
from bot.grammar import parse_command, parse_form
from bot.ids import PICK_VERB_ACTION, ActionId, BlockId, CallbackId
from bot.sandbox.slack.validation import check_view

CHANNEL = "C01SUPPORT"
RAW_MOBILE = "919876543210"


def valid(view: View) -> dict[str, Any]:
    """The view as sent to Slack; slack_sdk and the emulator's validator both accept it."""
    data = view.to_dict()
    assert check_view(data) == []
    return data


def inputs(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["block_id"]: block for block in data["blocks"] if block["type"] == "input"}


# ---- the action menu ----------------------------------------------------------------------


def test_action_menu_has_one_button_per_allowed_form_verb() -> None:
    data = valid(action_menu(CHANNEL, list(Verb)))

    assert data["callback_id"] == CallbackId.ACTION_MENU
    assert data["title"]["text"] == "Coupons"
    (actions,) = [b for b in data["blocks"] if b["type"] == "actions"]
    assert actions["block_id"] == BlockId.VERBS
    buttons = actions["elements"]
    assert [b["value"] for b in buttons] == [v.value for v in FORM_VERBS]
    assert [b["action_id"] for b in buttons] == [
        f"{ActionId.PICK_VERB.value}:{v.value}" for v in FORM_VERBS
    ]
    assert all(PICK_VERB_ACTION.match(b["action_id"]) for b in buttons)  # what the handler hears
    assert "help" not in {b["value"] for b in buttons}  # no form behind help, log or pending


def test_action_menu_for_a_viewer_offers_only_what_a_viewer_may_do() -> None:
    data = valid(action_menu(CHANNEL, [Verb.HELP, Verb.GET, Verb.SERIES, Verb.CHECK, Verb.LOG]))

    (actions,) = [b for b in data["blocks"] if b["type"] == "actions"]
    assert [b["value"] for b in actions["elements"]] == ["get", "series", "check"]


def test_action_menu_with_nothing_allowed_points_to_help() -> None:
    data = valid(action_menu(CHANNEL, [Verb.HELP]))

    assert not [b for b in data["blocks"] if b["type"] == "actions"]
    assert "/coupon help" in str(data["blocks"])


def test_action_menu_metadata_carries_the_channel_only() -> None:
    view = action_menu(CHANNEL, [Verb.GET])
    assert read_metadata(view.private_metadata) == FormMetadata(channel_id=CHANNEL)


# ---- verb forms ---------------------------------------------------------------------------

EXPECTED_FIELDS = {
    Verb.GET: [("codes", False), ("customer", True)],
    Verb.SERIES: [("series_id", False)],
    Verb.CHECK: [("code", False), ("customer", False)],
    Verb.RESEND: [("code", False), ("customer", False)],
    Verb.ISSUE: [("series_id", False), ("customer", False)],
    Verb.REDEEM: [
        ("code", False),
        ("customer", False),
        ("txn", True),
        ("amount", True),
        ("validation", True),
    ],
}


@pytest.mark.parametrize("verb", FORM_VERBS)
def test_verb_form_is_a_valid_modal_with_the_verbs_fields(verb: Verb) -> None:
    data = valid(verb_form(verb, CHANNEL))

    assert data["callback_id"] == CallbackId.VERB_FORM
    assert 1 <= len(data["title"]["text"]) <= 24
    assert data["submit"]["text"]
    fields = [(b["block_id"], b.get("optional", False)) for b in inputs(data).values()]
    assert fields == EXPECTED_FIELDS[verb]
    for block in inputs(data).values():
        assert block["element"]["action_id"] == ActionId.INPUT
        assert "initial_value" not in block["element"]


def test_the_form_set_matches_the_grammar() -> None:
    assert set(FORM_VERBS) == set(EXPECTED_FIELDS)


@pytest.mark.parametrize("verb", FORM_VERBS)
def test_verb_form_metadata_round_trips(verb: Verb) -> None:
    view = verb_form(verb, CHANNEL, {"customer": "+" + RAW_MOBILE})

    assert read_metadata(view.private_metadata) == FormMetadata(channel_id=CHANNEL, verb=verb)


def test_redeem_form_prefilled_from_what_the_agent_typed() -> None:
    opened = parse_command("redeem GOOD200 txn=B-1182 amount=1450")
    assert isinstance(opened, OpenForm)
    assert opened.verb is Verb.REDEEM

    view = verb_form(Verb.REDEEM, CHANNEL, opened.prefill)
    fields = inputs(valid(view))

    assert fields["code"]["element"]["initial_value"] == "GOOD200"
    assert fields["txn"]["element"]["initial_value"] == "B-1182"
    assert fields["amount"]["element"]["initial_value"] == "1450"
    assert "initial_value" not in fields["customer"]["element"]


def test_prefilled_customer_is_shown_in_the_field_but_not_carried_in_metadata() -> None:
    view = verb_form(Verb.CHECK, CHANNEL, {"code": "GOOD200", "customer": "+" + RAW_MOBILE})
    data = valid(view)

    assert inputs(data)["customer"]["element"]["initial_value"] == "+" + RAW_MOBILE
    assert view.private_metadata is not None
    assert RAW_MOBILE[-10:] not in view.private_metadata
    assert set(view.private_metadata) & set("@+") == set()


def test_a_very_long_prefill_still_gives_a_valid_form() -> None:
    codes = ",".join(f"CODE{i:03d}" for i in range(100))
    valid(verb_form(Verb.GET, CHANNEL, {"codes": codes}))


def test_the_codes_field_holds_a_100_code_lookup() -> None:
    typed = ", ".join(f"GOOD{i:03d}" for i in range(100))
    command = parse_form(Verb.GET, {"codes": typed})
    assert isinstance(command, Get)
    assert len(command.codes) == 100  # the grammar takes them

    codes = inputs(valid(verb_form(Verb.GET, CHANNEL)))["codes"]
    assert codes["element"]["max_length"] >= len(typed)


# ---- metadata that is not ours ------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "not json",
        "[]",
        '{"verb": "get"}',
        '{"channel_id": "C01SUPPORT", "verb": "delete"}',
        '{"channel_id": 42}',
    ],
)
def test_read_metadata_refuses_what_is_not_ours(raw: str | None) -> None:
    assert read_metadata(raw) is None


# ---- submitted values ---------------------------------------------------------------------


def redeem_submission() -> dict[str, dict[str, dict[str, object]]]:
    """``view.state.values`` as Slack sends it for a submitted redeem form."""
    typed = {
        "code": "good200",
        "customer": "+91 98765 43210",
        "txn": "B-1182",
        "amount": "₹1,450",
        "validation": None,  # an optional field left alone
    }
    return {
        block: {ActionId.INPUT.value: {"type": "plain_text_input", "value": value}}
        for block, value in typed.items()
    }


def test_form_values_reads_the_typed_text_per_block() -> None:
    values = form_values(redeem_submission())

    assert values == {
        "code": "good200",
        "customer": "+91 98765 43210",
        "txn": "B-1182",
        "amount": "₹1,450",
        "validation": None,
    }


def test_form_values_treats_blank_and_foreign_inputs_as_empty() -> None:
    state: dict[str, dict[str, dict[str, object]]] = {
        "code": {ActionId.INPUT.value: {"type": "plain_text_input", "value": "   "}},
        "customer": {"someone_elses_input": {"type": "plain_text_input", "value": "x"}},
        "txn": {ActionId.INPUT.value: {"type": "plain_text_input"}},
    }
    assert form_values(state) == {"code": None, "customer": None, "txn": None}


def test_submitted_form_parses_into_the_command() -> None:
    command = parse_form(Verb.REDEEM, form_values(redeem_submission()))

    assert command == Redeem(
        "GOOD200", parse_customer("+919876543210"), "B-1182", Decimal("1450"), None
    )


# ---- notices ------------------------------------------------------------------------------


def test_notice_view_fits_slacks_limits_whatever_it_is_given() -> None:
    title = "You can't redeem coupons in this channel"
    text = "You need the agent role to redeem coupons. " * 100
    data = valid(notice_view(title, text))

    assert len(data["title"]["text"]) <= 24
    assert data["title"]["text"] == title[:24]
    assert "submit" not in data
    assert data["blocks"][0]["text"]["text"].startswith("You need the agent role")
    assert len(data["blocks"][0]["text"]["text"]) <= 3000


def test_short_notice_is_shown_whole() -> None:
    data = valid(notice_view("Not allowed", "Ask an admin."))

    assert data["title"]["text"] == "Not allowed"
    assert data["blocks"][0]["text"]["text"] == "Ask an admin."
