"""Every sentence the bot says that is not built from a Capillary result lives here.

Tone (UX.md): the answer first, short sentences, no jargon, the same words for the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum

from bot.blocks.format import escape
from bot.commands import Verb
from bot.policy import RefusalReason

__all__ = [
    "ASK_BEFORE_RESENDING",
    "BUSY_CAPILLARY",
    "MAYBE_RESENT",
    "NOT_IN_CHANNEL",
    "STATUS_EMOJI",
    "VERB_DOING",
    "VERB_TITLES",
    "ParentStatus",
    "channel_list",
    "internal_error",
    "people",
    "refusal",
    "usage_reply",
]


class ParentStatus(StrEnum):
    """Where a command stands, as its parent message shows it: just asked, an approval
    step, how it ended (a :class:`bot.service.Status` value) or Capillary busy or down."""

    PENDING = "pending"
    AWAITING = "awaiting"
    APPROVED = "approved"
    REJECTED = "rejected"
    OK = "ok"
    FAILED = "failed"
    REFUSED = "refused"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    TRANSIENT = "transient"


#: The parent message's status emoji (and words, while it is not yet plain).
STATUS_EMOJI: dict[ParentStatus, str] = {
    ParentStatus.PENDING: "⏳",
    ParentStatus.AWAITING: "⏳ waiting for approval",
    ParentStatus.APPROVED: "⏳ approved, running",
    ParentStatus.REJECTED: "🚫 rejected",
    ParentStatus.OK: "✅",
    ParentStatus.FAILED: "❌",
    ParentStatus.REFUSED: "🚫",
    ParentStatus.UNKNOWN: "❓",
    ParentStatus.EXPIRED: "⌛ expired",
    ParentStatus.TRANSIENT: "⚠️",
}

#: What each verb does, for refusals ("You need the agent role to <redeem coupons>").
VERB_DOING = {
    Verb.HELP: "see help",
    Verb.GET: "look coupons up",
    Verb.SERIES: "look coupon series up",
    Verb.CHECK: "check coupons",
    Verb.RESEND: "resend coupons",
    Verb.ISSUE: "issue coupons",
    Verb.REDEEM: "redeem coupons",
    Verb.LOG: "read the coupon log",
    Verb.PENDING: "see pending approvals",
}

#: Modal titles (Slack allows 24 characters).
VERB_TITLES = {
    Verb.GET: "Look up coupons",
    Verb.SERIES: "Coupon series",
    Verb.CHECK: "Check a coupon",
    Verb.RESEND: "Resend a coupon",
    Verb.ISSUE: "Issue a coupon",
    Verb.REDEEM: "Redeem a coupon",
}

BUSY_CAPILLARY = "Capillary isn't answering right now. Nothing was changed."
MAYBE_RESENT = "Capillary gave no clear answer, so the coupon may or may not have been sent again."
ASK_BEFORE_RESENDING = "Ask the customer whether it arrived before resending it."
NOT_IN_CHANNEL = (
    "I'm not a member of this channel, so I can't post the answer here. "
    "Invite me with `/invite @coupon-bot`, or use a support channel I'm in."
)


def people(
    members: Sequence[str],
    nobody: str = "whoever runs the bot",
    group_id: Callable[[str], str | None] | None = None,
) -> str:
    """Policy members as Slack shows them: ``<@U…>`` mentions and ``@group`` handles; with
    ``group_id`` (handle → id), a group whose id is known as a mention that notifies it."""
    shown = [_person(m, group_id) for m in members if m != "*"]
    return ", ".join(shown) if shown else nobody


def _person(member: str, group_id: Callable[[str], str | None] | None) -> str:
    if not member.startswith("@"):
        return f"<@{member}>"
    found = group_id(member[1:]) if group_id is not None else None
    return f"<!subteam^{found}|{member}>" if found else member


def channel_list(channel_ids: Iterable[str]) -> str:
    """Channels as Slack shows them (``<#C…>`` renders as #name), in a stable order."""
    return ", ".join(f"<#{c}>" for c in sorted(channel_ids))


def refusal(
    reason: RefusalReason,
    verb: Verb,
    needed: str | None,
    admins: Sequence[str],
    can_look_up: bool,
    allowed_channels: Iterable[str] = (),
) -> str:
    """An ephemeral refusal: what is missing, who grants it, what the user can still do."""
    doing = VERB_DOING[verb]
    listed = channel_list(allowed_channels)
    first = {
        RefusalReason.NO_POLICY: f"Nobody can {doing} yet: this bot's policy file "
        "(policy.toml) is missing or gives nobody a role.",
        RefusalReason.NO_ROLE: f"You need the {needed or 'viewer'} role to {doing}, "
        "and you have no role yet.",
        RefusalReason.ROLE_TOO_LOW: f"You need the {needed} role to {doing}.",
        RefusalReason.CHANNEL_NOT_ALLOWED: "I only work in the support channels listed in "
        f"policy.toml{': ' + listed if listed else ''}.",
    }[reason]
    grant = {
        RefusalReason.NO_POLICY: "Whoever runs the bot needs to fill it in (see the README).",
        RefusalReason.CHANNEL_NOT_ALLOWED: (
            f"Try one of those channels, or ask an admin ({people(admins)}) to add this one."
        ),
    }.get(reason, f"Ask an admin to add you to a role in policy.toml (admins: {people(admins)}).")
    tail = " You can still look coupons up: `/coupon get &lt;code&gt;`." if can_look_up else ""
    return f"{first} {grant}{tail}"


def usage_reply(problem: str, usage_line: str | None) -> str:
    """What a malformed command gets back: the specific problem, then the usage line.

    Both are escaped: ``<code>`` placeholders and whatever the user typed must show as
    text, not as Slack links or mentions.
    """
    text = escape(problem)
    if usage_line:
        return f"{text}\nUsage: `{escape(usage_line)}`"
    if "/coupon help" in problem:
        return text
    return f"{text}\nType `/coupon help` to see what you can do."


def internal_error(correlation_id: str) -> str:
    """For the unexpected: it may have happened after Capillary acted, so never say it didn't."""
    return (
        "Something went wrong on my side. Before trying again, check the coupon with "
        "`/coupon get`: the action may have gone through. If this keeps happening, tell "
        f"whoever runs the bot and quote `{correlation_id}`."
    )
