"""Every Block Kit / view limit the emulator enforces: one case each, through the real SDK."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import LIMITS, RunningEmulator
from bot.sandbox.slack.validation import check_message_blocks, check_view

Json = dict[str, Any]


def text(kind: str, value: str) -> Json:
    return {"type": kind, "text": value}


def section(value: str) -> Json:
    return {"type": "section", "text": text("mrkdwn", value)}


def button(label: str = "Go", **extra: Any) -> Json:
    return {"type": "button", "text": text("plain_text", label), "action_id": "go", **extra}


def actions(*elements: Json) -> Json:
    return {"type": "actions", "elements": list(elements)}


def modal(**extra: Any) -> Json:
    view: Json = {"type": "modal", "title": text("plain_text", "Coupon"), "blocks": [section("x")]}
    view.update(extra)
    return view


INPUT = {
    "type": "input",
    "label": text("plain_text", "Code"),
    "element": {"type": "plain_text_input"},
}

MESSAGE_CASES: dict[str, tuple[list[Json], str, str]] = {
    "too many blocks": ([{"type": "divider"}] * 51, "/blocks]", "no more than 50 items"),
    "section text": ([section("x" * 3001)], "/blocks/0/text/text", "less than 3001"),
    "section without text": ([{"type": "section"}], "/blocks/0]", "text or fields"),
    "too many fields": (
        [{"type": "section", "fields": [text("mrkdwn", "f")] * 11}],
        "/blocks/0/fields]",
        "no more than 10",
    ),
    "field text": (
        [{"type": "section", "fields": [text("mrkdwn", "x" * 2001)]}],
        "/blocks/0/fields/0/text",
        "less than 2001",
    ),
    "header text": (
        [{"type": "header", "text": text("plain_text", "x" * 151)}],
        "/blocks/0/text/text",
        "less than 151",
    ),
    "header mrkdwn": (
        [{"type": "header", "text": text("mrkdwn", "*x*")}],
        "/blocks/0/text/type",
        "plain_text",
    ),
    "context elements": (
        [{"type": "context", "elements": [text("mrkdwn", "c")] * 11}],
        "/blocks/0/elements]",
        "no more than 10",
    ),
    "actions elements": (
        [actions(*[button(action_id=f"b{i}") for i in range(26)])],
        "/blocks/0/elements]",
        "no more than 25",
    ),
    "button text": ([actions(button("x" * 76))], "/elements/0/text/text", "less than 76"),
    "button value": (
        [actions(button(value="v" * 2001))],
        "/elements/0/value",
        "less than 2001",
    ),
    "button style": ([actions(button(style="green"))], "/elements/0/style", "primary, danger"),
    "block_id length": (
        [{"type": "divider", "block_id": "b" * 256}],
        "/blocks/0/block_id",
        "less than 256",
    ),
    "action_id length": (
        [actions(button(action_id="a" * 256))],
        "/elements/0/action_id",
        "less than 256",
    ),
    "duplicate block_id": (
        [{"type": "divider", "block_id": "same"}, {"type": "divider", "block_id": "same"}],
        "/blocks/1/block_id",
        "duplicate block_id",
    ),
    "duplicate action_id": (
        [actions(button(), button("Again"))],
        "/blocks/0/elements/1/action_id",
        "duplicate action_id",
    ),
    "unknown block type": ([{"type": "table"}], "/blocks/0/type", "unknown block type"),
    "text object type": (
        [{"type": "section", "text": text("markdown", "x")}],
        "/blocks/0/text/type",
        "plain_text or mrkdwn",
    ),
    "empty text": ([section("")], "/blocks/0/text/text", "more than 0 characters"),
    "markdown block": (
        [{"type": "markdown", "text": "x" * 12_001}],
        "/blocks/0/text",
        "less than 12001",
    ),
    "image alt_text": (
        [{"type": "image", "image_url": "https://example.com/a.png"}],
        "/blocks/0/alt_text",
        "must provide a string",
    ),
    "input element": (
        [{"type": "input", "label": text("plain_text", "Code")}],
        "/blocks/0/element",
        "missing required field",
    ),
}

VIEW_CASES: dict[str, tuple[Json, str, str]] = {
    "title length": (modal(title=text("plain_text", "x" * 25)), "/view/title/text", "less than 25"),
    "title mrkdwn": (modal(title=text("mrkdwn", "Coupon")), "/view/title/type", "plain_text"),
    "submit length": (
        modal(submit=text("plain_text", "x" * 25)),
        "/view/submit/text",
        "less than 25",
    ),
    "close length": (modal(close=text("plain_text", "x" * 25)), "/view/close/text", "less than 25"),
    "input needs submit": (modal(blocks=[INPUT]), "/view]", "submit property"),
    "private_metadata": (
        modal(private_metadata="m" * 3001),
        "/view/private_metadata",
        "less than 3001",
    ),
    "callback_id": (modal(callback_id="c" * 256), "/view/callback_id", "less than 256"),
    "too many blocks": (
        modal(blocks=[{"type": "divider"}] * 101),
        "/view/blocks]",
        "no more than 100",
    ),
    "not a modal": (modal(type="home"), "/view/type", "must be 'modal'"),
    "block rules apply inside": (
        modal(blocks=[section("x" * 3001)]),
        "/view/blocks/0/text/text",
        "less than 3001",
    ),
}


@pytest.mark.parametrize("case", sorted(MESSAGE_CASES))
async def test_message_limit(client: AsyncWebClient, case: str) -> None:
    blocks, pointer, wording = MESSAGE_CASES[case]
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C01SUPPORT", text="fallback", blocks=blocks)
    answer = caught.value.response
    assert answer["error"] == "invalid_blocks"
    messages = answer["response_metadata"]["messages"]
    assert any(pointer in m and wording in m for m in messages), messages
    assert all(m.startswith("[ERROR] ") and "[json-pointer:/" in m for m in messages)


@pytest.mark.parametrize("case", sorted(VIEW_CASES))
async def test_view_limit(client: AsyncWebClient, emulator: RunningEmulator, case: str) -> None:
    view, pointer, wording = VIEW_CASES[case]
    trigger = emulator.state.issue_trigger("U03AGENT")
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=trigger, view=view)
    answer = caught.value.response
    assert answer["error"] == "invalid_arguments"
    messages = answer["response_metadata"]["messages"]
    assert any(pointer in m and wording in m for m in messages), messages


async def test_view_too_large(client: AsyncWebClient, emulator: RunningEmulator) -> None:
    blocks = [section("x" * 3000) for _ in range(90)]
    trigger = emulator.state.issue_trigger("U03AGENT")
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=trigger, view=modal(blocks=blocks))
    assert caught.value.response["error"] == "view_too_large"


async def test_limits_apply_to_update_and_ephemeral(client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C01SUPPORT", text="ok")
    too_long = [section("x" * 3001)]
    for call in (
        client.chat_update(channel="C01SUPPORT", ts=posted["ts"], text="t", blocks=too_long),
        client.chat_postEphemeral(channel="C01SUPPORT", user="U03AGENT", text="t", blocks=too_long),
    ):
        with pytest.raises(SlackApiError) as caught:
            await call
        assert caught.value.response["error"] == "invalid_blocks"


def test_exactly_at_the_limits_is_accepted() -> None:
    blocks: list[Json] = [
        section("x" * LIMITS.section_text),
        {"type": "header", "text": text("plain_text", "h" * LIMITS.header_text)},
        {"type": "section", "fields": [text("mrkdwn", "f" * 2000)] * LIMITS.section_fields},
        {"type": "context", "elements": [text("mrkdwn", "c")] * LIMITS.context_elements},
        actions(*[button("b" * 75, action_id=f"a{i}", value="v" * 2000) for i in range(25)]),
        {"type": "divider", "block_id": "d" * LIMITS.block_id},
    ]
    blocks += [{"type": "divider"}] * (LIMITS.message_blocks - len(blocks))
    assert check_message_blocks(blocks) == []
    view = modal(
        title=text("plain_text", "t" * 24),
        submit=text("plain_text", "s" * 24),
        close=text("plain_text", "c" * 24),
        private_metadata="m" * 3000,
        callback_id="c" * 255,
        blocks=[INPUT] + [{"type": "divider"}] * 99,
    )
    assert check_view(view) == []
