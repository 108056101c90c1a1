"""Reading Slack payloads without trusting their shape: the slash command."""

from __future__ import annotations

from bot.payload import SlashCommand, slash_command


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
