"""Reading Slack payloads without trusting their shape: the slash command, and where a
modal's error is shown."""

from __future__ import annotations

import pytest

from bot.blocks.modals import notice_view, verb_form
from bot.commands import Verb
from bot.ids import BlockId
from bot.payload import SlashCommand, error_block_id, slash_command


def test_a_slash_command_as_slack_sends_it() -> None:
    body = {
        "command": "/coupon",
        "text": "check GOOD100 +919876543210",
        "user_id": "U03AGENT",
        "channel_id": "C01SUPPORT",
        "team_id": "T01",
        "trigger_id": "1.2.abc",
    }
    assert slash_command(body) == SlashCommand(
        "U03AGENT", "C01SUPPORT", "check GOOD100 +919876543210", "T01", "1.2.abc"
    )


def test_without_text_team_or_trigger() -> None:
    body = {"user_id": "U03AGENT", "channel_id": "C01SUPPORT", "team_id": 7}
    assert slash_command(body) == SlashCommand("U03AGENT", "C01SUPPORT")


def test_without_user_or_channel_it_is_none() -> None:
    assert slash_command({"user_id": "U03AGENT", "text": "help"}) is None
    assert slash_command({"channel_id": "C01SUPPORT", "user_id": ""}) is None
    assert slash_command("not an object") is None


@pytest.mark.parametrize(
    ("verb", "block_id"),
    [
        (Verb.GET, BlockId.CODES),
        (Verb.SERIES, BlockId.SERIES_ID),
        (Verb.CHECK, BlockId.CODE),
        (Verb.RESEND, BlockId.CODE),
        (Verb.ISSUE, BlockId.SERIES_ID),
        (Verb.REDEEM, BlockId.CODE),
    ],
)
def test_a_verb_forms_error_goes_under_its_first_field(verb: Verb, block_id: BlockId) -> None:
    assert error_block_id(verb_form(verb, "C01SUPPORT").to_dict()) == block_id


@pytest.mark.parametrize(
    "view",
    [
        notice_view("Not allowed", "Ask a lead.").to_dict(),
        {"blocks": []},
        {"blocks": [{"type": "input"}, {"type": "section", "block_id": "x"}]},
        {"blocks": "junk"},
        {},
        None,
    ],
    ids=["notice", "no blocks", "no input with an id", "blocks not a list", "no view", "null"],
)
def test_a_view_without_an_input_block_has_nowhere_to_show_an_error(view: object) -> None:
    assert error_block_id(view) is None
