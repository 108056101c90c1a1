"""/coupon help: only what the caller may do, one example each, their role, who to ask."""

from __future__ import annotations

import pytest

from bot.access import Access
from bot.blocks.format import escape
from bot.blocks.help import help_message
from bot.blocks.results import SlackMessage
from bot.commands import Verb
from bot.grammar import example, usage
from bot.policy import parse_policy
from bot.sandbox.slack.validation import check_message_blocks

POLICY = parse_policy(
    """
[roles]
admin    = ["U01ADMIN", "@coupon-admins"]
approver = ["@support-leads"]
agent    = ["U03AGENT"]
viewer   = ["U04VIEWER"]

[channels]
allowed = ["C01SUPPORT"]
"""
)
ADMINS = POLICY.admins()
VIEWER_VERBS = [Verb.HELP, Verb.GET, Verb.SERIES, Verb.CHECK, Verb.LOG, Verb.PENDING]
AGENT_ONLY = [Verb.RESEND, Verb.ISSUE, Verb.REDEEM]


def body(message: SlackMessage) -> tuple[str, str]:
    """The help text and the role line, checked against Slack's limits."""
    blocks = [block.to_dict() for block in message.blocks]
    assert check_message_blocks(blocks) == []
    section, context = blocks
    return section["text"]["text"], context["elements"][0]["text"]


def test_viewer_sees_only_viewer_verbs_with_one_example_each() -> None:
    text, footer = body(help_message("viewer", VIEWER_VERBS, ADMINS))

    shown = [verb for verb in Verb if f"`{example(verb)}`" in text]
    assert shown == [Verb.GET, Verb.SERIES, Verb.CHECK, Verb.LOG, Verb.PENDING]
    assert text.count("for example") == len(shown)
    for verb in shown:
        assert text.count(f"for example `{example(verb)}`") == 1
        assert f"`{escape(usage(verb))}`" in text
    for verb in AGENT_ONLY:
        assert f"/coupon {verb.value}" not in text
    assert "You are a *viewer*." in footer


def test_agent_sees_the_writes_too() -> None:
    verbs = [Verb.HELP, Verb.GET, Verb.SERIES, Verb.CHECK, Verb.RESEND, Verb.ISSUE, Verb.REDEEM]
    text, footer = body(help_message("agent", verbs, ADMINS))

    assert "`/coupon redeem GOOD100 +919876543210 txn=B-1182 amount=1450`" in text
    assert "*Redeem a coupon, optionally against a bill*" in text
    assert "*Is it redeemable by this customer?*" in text
    assert text.count("for example") == 6
    assert "*agent*" in footer


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_role_line_reads_as_english(role: str) -> None:
    _, footer = body(help_message(role, [Verb.HELP, Verb.GET], ADMINS))
    assert footer.startswith(f"You are an *{role}*.")


def test_footer_names_who_grants_more_access() -> None:
    _, footer = body(help_message("viewer", VIEWER_VERBS, ADMINS))

    assert "ask an admin (<@U01ADMIN>, @coupon-admins)" in footer
    assert "policy.toml" in footer


def test_everyone_entry_is_not_shown_as_an_admin() -> None:
    _, footer = body(help_message("viewer", VIEWER_VERBS, ("*",)))

    assert "*," not in footer
    assert "(whoever runs the bot)" in footer


def test_no_role_gets_a_plain_answer() -> None:
    text, footer = body(help_message(None, [Verb.HELP], ADMINS))

    assert text == "You can't use any coupon commands yet."
    assert footer.startswith("You have no role yet.")
    assert "<@U01ADMIN>" in footer


def test_help_on_one_verb_shows_just_that_verb() -> None:
    text, _ = body(help_message("viewer", VIEWER_VERBS, ADMINS, topic=Verb.CHECK))

    assert text == (
        "*Is it redeemable by this customer?*\n"
        "`/coupon check &lt;code&gt; &lt;customer&gt;`\n"
        "for example `/coupon check GOOD100 +919876543210`"
    )


def test_help_on_pending_says_how_approving_works() -> None:
    text, _ = body(help_message("viewer", VIEWER_VERBS, ADMINS, topic=Verb.PENDING))

    assert "buttons on a request's card, in its thread" in text
    assert "Nobody can approve their own request." in text


def test_help_on_a_verb_the_user_cannot_use_says_so() -> None:
    text, _ = body(help_message("viewer", VIEWER_VERBS, ADMINS, topic=Verb.REDEEM))

    assert f"`{example(Verb.REDEEM)}`" in text
    assert "_You can't use `redeem` yet._" in text


@pytest.mark.parametrize(
    ("user", "channel", "role", "verbs"),
    [
        ("U04VIEWER", "C01SUPPORT", "viewer", ["get", "series", "check", "log", "pending"]),
        (
            "U03AGENT",
            "C01SUPPORT",
            "agent",
            ["get", "series", "check", "resend", "issue", "redeem", "log", "pending"],
        ),
        ("U03AGENT", "C03RANDOM", "agent", []),  # not a support channel: only help
        ("U09STRANGER", "C01SUPPORT", None, []),
    ],
)
async def test_help_built_from_access(
    user: str, channel: str, role: str | None, verbs: list[str]
) -> None:
    access = Access(POLICY)
    found = await access.role_of(user)
    allowed = await access.allowed_verbs(user, channel)
    text, footer = body(help_message(found, allowed, POLICY.admins()))

    assert found == role
    assert [v.value for v in Verb if f"`{example(v)}`" in text] == verbs
    assert (f"*{role}*." if role else "You have no role yet.") in footer


def test_help_in_a_channel_the_bot_does_not_work_in_says_where_it_does() -> None:
    # An agent in #random: it is the channel, not their role, that stops them.
    text, footer = body(help_message("agent", [Verb.HELP], ADMINS, elsewhere=["C01SUPPORT"]))

    assert text == "Coupon commands aren't answered in this channel. Use them in <#C01SUPPORT>."
    assert footer.startswith("You are an *agent*. To use them here, ask an admin (<@U01ADMIN>")
    assert "add you to a role" not in footer


def test_help_on_a_verb_says_what_its_options_take() -> None:
    text, _ = body(help_message("viewer", VIEWER_VERBS, ADMINS, topic=Verb.LOG))
    assert "`status=` `ok`, `failed`, `unknown`, `refused`" in text
    assert "`limit=` up to 1000" in text
    listed, _ = body(help_message("viewer", VIEWER_VERBS, ADMINS))
    assert "`status=` `ok`" not in listed  # the list stays one entry per verb


def test_help_says_which_verbs_wait_for_an_approver() -> None:
    verbs = VIEWER_VERBS + AGENT_ONLY
    text, _ = body(help_message("agent", verbs, ADMINS, approved_first=[Verb.REDEEM]))
    redeem = next(entry for entry in text.split("\n\n") if "/coupon redeem" in entry)
    issue = next(entry for entry in text.split("\n\n") if "/coupon issue" in entry)
    assert "Waits for an approver's OK" in redeem and "Waits for" not in issue
