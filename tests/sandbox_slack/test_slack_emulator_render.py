"""Pure terminal rendering of messages and views for ``coupon-bot shell``."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.slack import Message, View, buttons, render_message, render_view, seed_workspace
from bot.sandbox.slack.models import Revision
from bot.sandbox.slack.render import CONTEXT_PREFIX, mrkdwn_to_text

USERS = seed_workspace().user_names()
Json = dict[str, Any]


def plain(text: str) -> Json:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> Json:
    return {"type": "mrkdwn", "text": text}


def button(action_id: str, label: str, value: str | None = None, **extra: Any) -> Json:
    found: Json = {"type": "button", "action_id": action_id, "text": plain(label), **extra}
    if value is not None:
        found["value"] = value
    return found


CARD: list[Json] = [
    {"type": "header", "text": plain("Issue request :ticket:")},
    {
        "type": "section",
        "text": mrkdwn(
            "<@U03AGENT> asks <!subteam^S01LEADS|@support-leads>: <https://x.example|see>"
        ),
        "accessory": button("open", "Open", "o"),
    },
    {"type": "section", "fields": [mrkdwn("*Series*\n1001"), mrkdwn("*Customer*\n91••••3210")]},
    {"type": "context", "elements": [mrkdwn("in <#C01SUPPORT|support-coupons>"), mrkdwn("4h")]},
    {"type": "divider"},
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            button("approve", "Approve", "r1", style="primary"),
            button("reject", "Reject", "r1", style="danger"),
        ],
    },
]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<@U02LEAD> approved", "@ravi approved"),
        ("<@U99|someone>", "@someone"),
        ("<@U99>", "@U99"),
        ("<https://example.com|the docs>", "the docs"),
        ("<https://example.com>", "https://example.com"),
        ("<#C01SUPPORT|support-coupons>", "#support-coupons"),
        ("<!subteam^S01LEADS|@support-leads>", "@support-leads"),
        ("<!here> look", "@here look"),
        (
            "expires <!date^1767225600^{date_short_pretty} at {time}|1 Jan 2026 at 00:00 UTC>",
            "expires 1 Jan 2026 at 00:00 UTC",
        ),
        ("<!date^1767225600^{date} at {time}^https://x.example|Jan 1>", "Jan 1"),
        ("<!date^1767225600^{date}>", "2026-01-01 00:00 UTC"),
        ("a &lt;b&gt; &amp; :tada:", "a <b> & :tada:"),
    ],
)
def test_mrkdwn_to_text(raw: str, shown: str) -> None:
    assert mrkdwn_to_text(raw, USERS) == shown


def test_render_message() -> None:
    message = Message("C01SUPPORT", "1732581234.000100", "fallback", CARD)
    assert render_message(message, users=USERS).splitlines() == [
        "@coupon-bot (ts 1732581234.000100)",
        "== Issue request :ticket: ==",
        "@asha asks @support-leads: see",
        "[1] Open",
        "Series: 1001",
        "Customer: 91••••3210",
        f"{CONTEXT_PREFIX}in #support-coupons  4h",
        "─" * 40,
        "[2] Approve  [3] Reject",
    ]


def test_buttons_follow_the_rendered_numbers() -> None:
    found = buttons(CARD)
    assert [(b.action_id, b.text, b.value) for b in found] == [
        ("open", "Open", "o"),
        ("approve", "Approve", "r1"),
        ("reject", "Reject", "r1"),
    ]
    assert (found[1].style, found[1].block_id) == ("primary", "decide")


def test_text_only_ephemeral_and_edited() -> None:
    message = Message("C01SUPPORT", "1.000001", "Hi <@U05GUEST>", [], ephemeral_for="U05GUEST")
    message.edited.append(Revision("old", [], 0.0))
    assert render_message(message, users=USERS).splitlines() == [
        "@coupon-bot (ts 1.000001, only visible to @sam, edited)",
        "Hi @sam",
    ]
    assert render_message(message, users=USERS, header=False) == "Hi @sam"


def test_context_dims_with_color() -> None:
    message = Message("C01SUPPORT", "1.000001", "", [CARD[3]])
    assert "\x1b[2m" in render_message(message, users=USERS, color=True)
    assert "\x1b[" not in render_message(message, users=USERS)


def test_rich_text() -> None:
    block = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "thanks "},
                    {"type": "user", "user_id": "U02LEAD"},
                    {"type": "emoji", "name": "tada"},
                ],
            }
        ],
    }
    assert render_message(Message("C", "1.1", "", [block]), users=USERS, header=False) == (
        "thanks @ravi:tada:"
    )


def form() -> View:
    payload: Json = {
        "type": "modal",
        "title": plain("Issue coupon"),
        "submit": plain("Issue"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "customer",
                "label": plain("Customer"),
                "hint": plain("Mobile or email"),
                "element": {"type": "plain_text_input", "action_id": "v", "initial_value": "91"},
            },
            {
                "type": "input",
                "block_id": "series",
                "optional": True,
                "label": plain("Series"),
                "element": {
                    "type": "static_select",
                    "action_id": "p",
                    "options": [
                        {"text": plain("Diwali"), "value": "1001"},
                        {"text": plain("Monsoon"), "value": "1002"},
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "label": plain("Note"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "v",
                    "placeholder": plain("why?"),
                },
            },
            {"type": "actions", "elements": [button("details", "Details")]},
        ],
    }
    return View("V1", "U03AGENT", payload, "h", "V1")


def test_render_view_with_errors() -> None:
    view = form()
    view.errors = {"customer": "Enter a mobile number"}
    assert render_view(view, users=USERS).splitlines() == [
        "┌ Issue coupon ┐",
        "Customer:",
        "  [91]",
        "  (Mobile or email)",
        "  ⚠ Enter a mobile number",
        "Series (optional):",
        "  [ ] (Diwali | Monsoon)",
        "Note:",
        "  [____] why?",
        "[1] Details",
        "<Issue>  <Cancel>",
    ]


def test_render_view_shows_submitted_values() -> None:
    view = form()
    view.values = {
        "customer": {"v": {"type": "plain_text_input", "value": "riya@example.com"}},
        "series": {"p": {"type": "static_select", "selected_option": {"text": plain("Monsoon")}}},
    }
    shown = render_view(view, users=USERS)
    assert "  [riya@example.com]" in shown
    assert "  [Monsoon] (Diwali | Monsoon)" in shown


def test_render_home_tab() -> None:
    payload = {"type": "home", "blocks": CARD[4:]}
    home = View("V9", "U02LEAD", payload, "h", "V9")
    assert render_view(home, users=USERS).splitlines() == [
        "┌ Home ┐",
        "─" * 40,
        "[1] Approve  [2] Reject",
    ]
