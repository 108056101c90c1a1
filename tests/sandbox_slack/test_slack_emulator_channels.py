"""Channels that change under the bot: removed from one, or the channel archived.

What Slack documents (slack-platform.md, D-METH): chat.postMessage and chat.postEphemeral
answer ``not_in_channel`` where the bot is not a member and ``is_archived`` in an archived
channel; chat.update lists no ``not_in_channel`` (the bot edits its own messages) and answers
``is_inactive`` in an archived channel."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import BOT_USER_ID, DriverError, RunningEmulator, SlackDriver

SUPPORT = "C01SUPPORT"


async def slack_error(call: object) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    return str(caught.value.response["error"])


def text_of(emulator: RunningEmulator, ts: str) -> str:
    message = emulator.state.message(SUPPORT, ts)
    assert message is not None
    return message.text


async def test_a_bot_removed_from_a_channel_cannot_post_but_still_edits(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    posted = await client.chat_postMessage(channel=SUPPORT, text="⏳ pending")
    emulator.state.remove_member(SUPPORT, BOT_USER_ID)
    post = client.chat_postMessage(channel=SUPPORT, text="reply", thread_ts=posted["ts"])
    assert await slack_error(post) == "not_in_channel"
    whisper = client.chat_postEphemeral(channel=SUPPORT, user="U02LEAD", text="psst")
    assert await slack_error(whisper) == "not_in_channel"
    await client.chat_update(channel=SUPPORT, ts=posted["ts"], text="✅ done")
    assert text_of(emulator, posted["ts"]) == "✅ done"
    dm = await client.chat_postMessage(channel="U02LEAD", text="told you privately")
    assert dm["channel"] == "D02LEAD"  # DMs don't depend on the channel


async def test_an_archived_channel_takes_no_posts_and_no_edits(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    posted = await client.chat_postMessage(channel=SUPPORT, text="⏳ pending")
    emulator.state.archive(SUPPORT)
    post = client.chat_postMessage(channel=SUPPORT, text="reply", thread_ts=posted["ts"])
    assert await slack_error(post) == "is_archived"
    whisper = client.chat_postEphemeral(channel=SUPPORT, user="U02LEAD", text="psst")
    assert await slack_error(whisper) == "is_archived"
    edit = client.chat_update(channel=SUPPORT, ts=posted["ts"], text="✅ done")
    assert await slack_error(edit) == "is_inactive"
    assert text_of(emulator, posted["ts"]) == "⏳ pending"


async def test_reset_brings_the_channels_back(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    emulator.state.remove_member(SUPPORT, BOT_USER_ID)
    emulator.state.archive("C02ESCALATIONS")
    emulator.state.reset()
    await client.chat_postMessage(channel=SUPPORT, text="back")
    await client.chat_postMessage(channel="C02ESCALATIONS", text="back")


def test_only_known_channels_and_users(emulator: RunningEmulator) -> None:
    with pytest.raises(ValueError, match="no channel 'C99'"):
        emulator.state.archive("C99")
    with pytest.raises(ValueError, match="unknown user"):
        emulator.state.remove_member(SUPPORT, "U99NOBODY")
    dm = emulator.state.workspace.dm_with("U02LEAD")
    with pytest.raises(ValueError, match="no channel"):  # a DM is not a channel one leaves
        emulator.state.remove_member(dm.id, BOT_USER_ID)


async def test_nobody_types_a_command_in_an_archived_channel(
    driver: SlackDriver, emulator: RunningEmulator
) -> None:
    emulator.state.archive(SUPPORT)
    with pytest.raises(DriverError, match="C01SUPPORT is archived"):
        await driver.command("get GOOD100", channel=SUPPORT)
