"""chat.* through slack_sdk's real AsyncWebClient: messages, threads, edits, ephemerals, links."""

from __future__ import annotations

import re

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import BOT_ID, BOT_USER_ID, RunningEmulator

SECTION = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hello*"}}]


async def slack_error(call: object) -> str:
    """The Slack error code of an awaited SDK call that must fail."""
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    return str(caught.value.response["error"])


async def test_post_message_returns_ts_and_message(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    answer = await client.chat_postMessage(channel="C01SUPPORT", text="hi", blocks=SECTION)
    assert answer["ok"] is True
    assert answer["channel"] == "C01SUPPORT"
    assert re.fullmatch(r"\d{10}\.\d{6}", answer["ts"])
    assert answer["message"]["bot_id"] == BOT_ID
    assert answer["message"]["blocks"][0]["block_id"]  # Slack fills in missing block ids
    [message] = emulator.state.messages("C01SUPPORT")
    assert (message.ts, message.text, message.user) == (answer["ts"], "hi", BOT_USER_ID)


async def test_ts_values_are_unique_and_increasing(client: AsyncWebClient) -> None:
    stamps = [
        (await client.chat_postMessage(channel="C01SUPPORT", text=str(i)))["ts"] for i in range(5)
    ]
    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 5


async def test_threads_take_only_top_level_parents(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    parent = await client.chat_postMessage(channel="C01SUPPORT", text="parent")
    reply = await client.chat_postMessage(
        channel="C01SUPPORT", text="reply", thread_ts=parent["ts"]
    )
    assert reply["message"]["thread_ts"] == parent["ts"]
    assert [m.text for m in emulator.state.replies("C01SUPPORT", parent["ts"])] == ["reply"]
    assert [m.text for m in emulator.state.messages("C01SUPPORT")] == ["parent"]
    nested = client.chat_postMessage(channel="C01SUPPORT", text="x", thread_ts=reply["ts"])
    assert await slack_error(nested) == "thread_not_found"
    unknown = client.chat_postMessage(channel="C01SUPPORT", text="x", thread_ts="1.000001")
    assert await slack_error(unknown) == "thread_not_found"
    other_channel = client.chat_postMessage(
        channel="C02ESCALATIONS", text="x", thread_ts=parent["ts"]
    )
    assert await slack_error(other_channel) == "thread_not_found"


async def test_ephemeral_is_not_a_thread_parent(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    answer = await client.chat_postEphemeral(channel="C01SUPPORT", user="U03AGENT", text="psst")
    [ephemeral] = emulator.state.ephemerals("U03AGENT")
    assert (ephemeral.ts, ephemeral.ephemeral_for) == (answer["message_ts"], "U03AGENT")
    assert emulator.state.ephemerals("U02LEAD") == []
    call = client.chat_postMessage(channel="C01SUPPORT", text="x", thread_ts=answer["message_ts"])
    assert await slack_error(call) == "thread_not_found"


async def test_post_message_refusals(client: AsyncWebClient) -> None:
    assert await slack_error(client.chat_postMessage(channel="C99", text="x")) == (
        "channel_not_found"
    )
    assert await slack_error(client.chat_postMessage(channel="C03RANDOM", text="x")) == (
        "not_in_channel"
    )
    assert await slack_error(
        client.api_call("chat.postMessage", json={"channel": "C01SUPPORT"})
    ) == ("no_text")
    too_long = client.chat_postMessage(channel="C01SUPPORT", text="x" * 40_001)
    assert await slack_error(too_long) == "msg_too_long"


async def test_posting_to_a_user_id_opens_a_dm(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    answer = await client.chat_postMessage(channel="U02LEAD", text="an approval for you")
    assert answer["channel"] == "D02LEAD"
    assert [m.text for m in emulator.state.messages("D02LEAD")] == ["an approval for you"]


async def test_update_keeps_history(client: AsyncWebClient, emulator: RunningEmulator) -> None:
    posted = await client.chat_postMessage(channel="C01SUPPORT", text="⏳ pending", blocks=SECTION)
    updated = await client.chat_update(channel="C01SUPPORT", ts=posted["ts"], text="✅ done")
    assert updated["ts"] == posted["ts"]
    message = emulator.state.message("C01SUPPORT", posted["ts"])
    assert message is not None
    assert message.text == "✅ done"
    assert message.blocks == posted["message"]["blocks"]  # omitted blocks are kept
    assert [revision.text for revision in message.edited] == ["⏳ pending"]
    await client.chat_update(channel="C01SUPPORT", ts=posted["ts"], text="x", blocks=[])
    assert message.blocks == []
    assert len(message.edited) == 2


async def test_update_refusals(client: AsyncWebClient, emulator: RunningEmulator) -> None:
    missing = client.chat_update(channel="C01SUPPORT", ts="1.000001", text="x")
    assert await slack_error(missing) == "message_not_found"
    human = emulator.state.post_user_message("C01SUPPORT", "U03AGENT", "my message")
    theirs = client.chat_update(channel="C01SUPPORT", ts=human.ts, text="edited by bot")
    assert await slack_error(theirs) == "cant_update_message"
    ephemeral = await client.chat_postEphemeral(channel="C01SUPPORT", user="U03AGENT", text="e")
    not_updatable = client.chat_update(channel="C01SUPPORT", ts=ephemeral["message_ts"], text="x")
    assert await slack_error(not_updatable) == "message_not_found"


async def test_ephemeral_refusals(client: AsyncWebClient) -> None:
    outsider = client.chat_postEphemeral(channel="C01SUPPORT", user="U99NOBODY", text="x")
    assert await slack_error(outsider) == "user_not_in_channel"
    no_channel = client.chat_postEphemeral(channel="C99", user="U03AGENT", text="x")
    assert await slack_error(no_channel) == "channel_not_found"
    no_bot = client.chat_postEphemeral(channel="C03RANDOM", user="U03AGENT", text="x")
    assert await slack_error(no_bot) == "not_in_channel"


async def test_permalinks(client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C01SUPPORT", text="parent")
    reply = await client.chat_postMessage(channel="C01SUPPORT", text="r", thread_ts=parent["ts"])
    top = await client.chat_getPermalink(channel="C01SUPPORT", message_ts=parent["ts"])
    digits = parent["ts"].replace(".", "")
    assert top["permalink"] == (f"https://sandbox-retail.slack.com/archives/C01SUPPORT/p{digits}")
    nested = await client.chat_getPermalink(channel="C01SUPPORT", message_ts=reply["ts"])
    assert nested["permalink"].endswith(f"?thread_ts={parent['ts']}&cid=C01SUPPORT")
    missing = client.chat_getPermalink(channel="C01SUPPORT", message_ts="1.000001")
    assert await slack_error(missing) == "message_not_found"


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        (None, "not_authed"),
        ("Bearer xoxp-user-token", "invalid_auth"),
        ("Bearer nope", "invalid_auth"),
    ],
)
async def test_auth_is_required(
    emulator: RunningEmulator, authorization: str | None, error: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{emulator.api_url}auth.test", headers=headers)
    assert answer.status_code == 200
    assert answer.json() == {"ok": False, "error": error}
    assert emulator.state.calls("auth.test")[-1].error == error


async def test_form_bodies_with_json_blocks_and_body_token(emulator: RunningEmulator) -> None:
    form = {
        "token": "xoxb-form",
        "channel": "C01SUPPORT",
        "text": "from a form",
        "blocks": '[{"type": "divider"}]',
    }
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{emulator.api_url}chat.postMessage", data=form)
        empty = await http.post(
            f"{emulator.api_url}chat.postMessage",
            data={"token": "xoxb-form", "channel": "C01SUPPORT", "attachments": "[]"},
        )
        bad = await http.post(
            f"{emulator.api_url}chat.postMessage", data={**form, "blocks": "[not json"}
        )
    assert answer.json()["ok"] is True
    assert emulator.state.messages("C01SUPPORT")[0].blocks[0]["type"] == "divider"
    assert bad.json()["error"] == "invalid_blocks_format"
    assert empty.json()["error"] == "no_text"
    assert "token" not in emulator.state.calls("chat.postMessage")[0].args


async def test_unknown_method(client: AsyncWebClient) -> None:
    assert await slack_error(client.api_call("conversations.history")) == "unknown_method"


async def test_every_call_is_recorded(client: AsyncWebClient, emulator: RunningEmulator) -> None:
    await client.chat_postMessage(channel="C01SUPPORT", text="hi")
    await slack_error(client.chat_postMessage(channel="C99", text="x"))
    calls = emulator.state.calls("chat.postMessage")
    assert [(c.ok, c.error) for c in calls] == [(True, None), (False, "channel_not_found")]
    assert calls[0].args["channel"] == "C01SUPPORT"
    async with httpx.AsyncClient() as http:
        listed = (await http.get(f"{emulator.base_url}/__emulator/calls")).json()
        await http.post(f"{emulator.base_url}/__emulator/reset")
    assert [entry["method"] for entry in listed] == ["chat.postMessage", "chat.postMessage"]
    assert emulator.state.calls() == []
    assert emulator.state.messages("C01SUPPORT") == []
