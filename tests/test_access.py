"""Access: the policy plus user-group membership, with a fake group lookup."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot.access import Access
from bot.commands import Verb
from bot.policy import NO_POLICY, Decision, Policy, RefusalReason, Role, parse_policy

SUPPORT = "C01SUPPORT"
RANDOM = "C03RANDOM"

POLICY = parse_policy(
    """
[roles]
admin    = ["U01ADMIN"]
approver = ["@support-leads"]
agent    = ["@support-agents", "U02TEMP"]

[channels]
allowed = ["C01SUPPORT", "C02ESCALATIONS"]
"""
)
Reason = RefusalReason
VIEWER_VERBS = [Verb.HELP, Verb.GET, Verb.SERIES, Verb.CHECK, Verb.LOG, Verb.PENDING]


class FakeGroups:
    """A :class:`bot.access.GroupLookup` that records who was looked up."""

    def __init__(self, groups: Mapping[str, frozenset[str]]) -> None:
        self._groups = groups
        self.looked_up: list[str] = []

    async def groups_of(self, user_id: str) -> frozenset[str]:
        self.looked_up.append(user_id)
        return self._groups.get(user_id, frozenset())

    def group_id(self, handle: str) -> str | None:
        return {"support-leads": "S01LEADS"}.get(handle)


@pytest.fixture
def groups() -> FakeGroups:
    return FakeGroups(
        {
            "U02LEAD": frozenset({"support-leads"}),
            "U03AGENT": frozenset({"support-agents", "night-shift"}),
            "U01ADMIN": frozenset({"support-agents"}),
            "U07MIXED": frozenset({"Support-Leads"}),  # handles compared without case
        }
    )


@pytest.fixture
def access(groups: FakeGroups) -> Access:
    return Access(POLICY, groups)


# ---- roles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "role"),
    [
        ("U01ADMIN", Role.ADMIN),  # by id, above what their group gives
        ("U02TEMP", Role.AGENT),  # by id
        ("U02LEAD", Role.APPROVER),  # by group
        ("U03AGENT", Role.AGENT),  # by group, other groups ignored
        ("U07MIXED", Role.APPROVER),
        ("U09STRANGER", None),
    ],
)
async def test_role_by_id_and_by_group(access: Access, user: str, role: Role | None) -> None:
    assert await access.role_of(user) == role


async def test_everyone_entry_gives_a_role_to_anyone() -> None:
    policy = Policy(members={Role.VIEWER: ("*",), Role.AGENT: ("U03AGENT",)})
    access = Access(policy)

    assert await access.role_of("U09STRANGER") is Role.VIEWER
    assert await access.role_of("U03AGENT") is Role.AGENT


async def test_groups_are_ignored_without_a_lookup() -> None:
    access = Access(POLICY)  # no directory: roles by id only

    assert await access.role_of("U02LEAD") is None
    assert await access.role_of("U02TEMP") is Role.AGENT


async def test_no_group_lookup_when_the_policy_names_no_groups(groups: FakeGroups) -> None:
    policy = Policy(members={Role.ADMIN: ("U01ADMIN",), Role.VIEWER: ("*",)})
    access = Access(policy, groups)

    assert await access.role_of("U02LEAD") is Role.VIEWER
    assert (await access.check("U01ADMIN", SUPPORT, Verb.REDEEM)).allowed
    assert await access.allowed_verbs("U03AGENT", SUPPORT) == VIEWER_VERBS
    assert groups.looked_up == []


async def test_group_lookup_when_the_policy_names_groups(
    access: Access, groups: FakeGroups
) -> None:
    await access.check("U02LEAD", SUPPORT, Verb.GET)
    assert groups.looked_up == ["U02LEAD"]


# ---- checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "channel", "verb", "decision"),
    [
        ("U03AGENT", SUPPORT, Verb.REDEEM, Decision(True, None, Role.AGENT)),
        ("U02LEAD", SUPPORT, Verb.ISSUE, Decision(True, None, Role.AGENT)),
        ("U03AGENT", RANDOM, Verb.GET, Decision(False, Reason.CHANNEL_NOT_ALLOWED, Role.VIEWER)),
        ("U09STRANGER", SUPPORT, Verb.GET, Decision(False, Reason.NO_ROLE, Role.VIEWER)),
        ("U09STRANGER", RANDOM, Verb.HELP, Decision(True)),
    ],
)
async def test_check(
    access: Access, user: str, channel: str, verb: Verb, decision: Decision
) -> None:
    assert await access.check(user, channel, verb) == decision


async def test_a_viewer_may_look_but_not_write() -> None:
    access = Access(Policy(members={Role.VIEWER: ("*",), Role.ADMIN: ("U01ADMIN",)}))

    assert (await access.check("U04VIEWER", SUPPORT, Verb.CHECK)).allowed
    assert await access.check("U04VIEWER", SUPPORT, Verb.RESEND) == Decision(
        False, RefusalReason.ROLE_TOO_LOW, Role.AGENT
    )


async def test_without_a_policy_only_help_is_allowed() -> None:
    access = Access(NO_POLICY)

    assert await access.allowed_verbs("U01ADMIN", SUPPORT) == [Verb.HELP]
    assert await access.check("U01ADMIN", SUPPORT, Verb.GET) == Decision(
        False, RefusalReason.NO_POLICY, Role.VIEWER
    )


@pytest.mark.parametrize(
    ("user", "channel", "verbs"),
    [
        ("U01ADMIN", SUPPORT, list(Verb)),
        ("U03AGENT", SUPPORT, list(Verb)),  # agents may use every verb (approval aside)
        ("U03AGENT", RANDOM, [Verb.HELP]),  # outside the allowed channels: only help
        ("U09STRANGER", SUPPORT, [Verb.HELP]),
    ],
)
async def test_allowed_verbs_per_role_and_channel(
    access: Access, user: str, channel: str, verbs: list[Verb]
) -> None:
    assert await access.allowed_verbs(user, channel) == verbs


async def test_allowed_verbs_of_a_viewer_in_grammar_order_anywhere_without_a_channel_list() -> None:
    viewer = Access(Policy(members={Role.VIEWER: ("U04VIEWER",)}))

    assert await viewer.allowed_verbs("U04VIEWER", RANDOM) == VIEWER_VERBS


async def test_a_group_the_user_is_not_in_gives_nothing() -> None:
    groups = FakeGroups({"U04VIEWER": frozenset({"night-shift"})})
    access = Access(Policy(members={Role.VIEWER: ("@support-agents",)}), groups)

    assert await access.allowed_verbs("U04VIEWER", SUPPORT) == [Verb.HELP]
    assert groups.looked_up == ["U04VIEWER"]


# ---- refusal texts ------------------------------------------------------------------------


async def test_role_too_low_names_the_role_the_admins_and_what_is_left() -> None:
    access = Access(Policy(members={Role.VIEWER: ("*",), Role.ADMIN: ("U01ADMIN", "@admins")}))
    decision = await access.check("U04VIEWER", SUPPORT, Verb.REDEEM)

    text = access.refusal_text(decision, Verb.REDEEM)

    assert text == (
        "You need the agent role to redeem coupons. Ask an admin to add you to a role in "
        "policy.toml (admins: <@U01ADMIN>, @admins). "
        "You can still look coupons up: `/coupon get &lt;code&gt;`."
    )


async def test_no_role_names_the_lowest_role_and_the_admins(access: Access) -> None:
    decision = await access.check("U09STRANGER", SUPPORT, Verb.CHECK)

    text = access.refusal_text(decision, Verb.CHECK)

    assert text.startswith("You need the viewer role to check coupons, and you have no role yet.")
    assert "(admins: <@U01ADMIN>)" in text
    assert "/coupon get" not in text  # without a role, looking up is refused too


async def test_channel_not_allowed_says_where_to_go(access: Access) -> None:
    decision = await access.check("U03AGENT", RANDOM, Verb.ISSUE)

    text = access.refusal_text(decision, Verb.ISSUE)

    assert text.startswith(
        "I only work in the support channels listed in policy.toml: "
        "<#C01SUPPORT>, <#C02ESCALATIONS>."
    )
    assert "ask an admin (<@U01ADMIN>) to add this one" in text


async def test_no_policy_says_whoever_runs_the_bot_must_write_one() -> None:
    access = Access(NO_POLICY)
    decision = await access.check("U01ADMIN", SUPPORT, Verb.REDEEM)

    text = access.refusal_text(decision, Verb.REDEEM)

    assert text.startswith(
        "Nobody can redeem coupons yet: this bot's policy file (policy.toml) is missing or "
        "gives nobody a role."
    )
    assert "README" in text


def test_a_refusal_text_exists_for_every_reason(access: Access) -> None:
    for reason in RefusalReason:
        text = access.refusal_text(Decision(False, reason, Role.AGENT), Verb.RESEND)
        assert text
        assert "<@U01ADMIN>" in text or reason is RefusalReason.NO_POLICY


def test_refusing_a_lookup_does_not_suggest_a_lookup(access: Access) -> None:
    decision = Decision(False, RefusalReason.ROLE_TOO_LOW, Role.VIEWER)
    assert "You can still look coupons up" not in access.refusal_text(decision, Verb.GET)


def test_admins_given_as_everyone_are_not_listed() -> None:
    access = Access(Policy(members={Role.ADMIN: ("*",)}))
    decision = Decision(False, RefusalReason.ROLE_TOO_LOW, Role.AGENT)

    assert "(admins: whoever runs the bot)" in access.refusal_text(decision, Verb.ISSUE)


def test_approvers_are_mentioned_so_they_hear_of_a_request(groups: FakeGroups) -> None:
    policy = parse_policy(
        '[roles]\nadmin = ["U01ADMIN"]\napprover = ["U02LEAD", "@support-leads", "@nights", "*"]'
    )
    # A group mention needs the group's id; one not (yet) known is plain text.
    assert Access(policy, groups).approver_mentions() == (
        "<@U02LEAD>, <!subteam^S01LEADS|@support-leads>, @nights"
    )
    assert Access(policy).approver_mentions() == "<@U02LEAD>, @support-leads, @nights"


def test_with_no_approver_listed_the_admins_are_mentioned() -> None:
    assert Access(parse_policy('[roles]\nadmin = ["U01ADMIN"]')).approver_mentions() == (
        "<@U01ADMIN>"
    )
    assert Access(parse_policy('[roles]\napprover = ["*"]')).approver_mentions() == ""
