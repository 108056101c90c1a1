"""policy.toml → who may do what, where; every mistake in the file is refused by name."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from bot.commands import Verb
from bot.policy import (
    MAX_RETENTION_DAYS,
    MINIMUM_ROLE,
    NO_POLICY,
    ApprovalRules,
    Decision,
    Limits,
    Policy,
    PolicyError,
    RefusalReason,
    Role,
    load_policy,
    parse_duration,
    parse_policy,
)

DESIGN_EXAMPLE = """
[roles]
admin    = ["U01ADMIN"]
approver = ["@support-leads"]
agent    = ["@support-agents", "U02TEMP"]
viewer   = ["*"]                 # everyone (still only in allowed channels)

[channels]
allowed = ["C01SUPPORT", "C02ESCALATIONS"]   # channel ids; empty = any channel

[approval]
required_for = ["issue", "redeem"]   # verbs that need a second person
expires_after = "4h"
approvers_need_approval = true       # an approver's own issue/redeem still needs another approver

[limits]
issue_per_agent_per_day  = 20        # beyond this an agent's issue is refused
redeem_per_agent_per_day = 50
"""

EXPECTED = Policy(
    members={
        Role.ADMIN: ("U01ADMIN",),
        Role.APPROVER: ("@support-leads",),
        Role.AGENT: ("@support-agents", "U02TEMP"),
        Role.VIEWER: ("*",),
    },
    allowed_channels=frozenset({"C01SUPPORT", "C02ESCALATIONS"}),
    approval=ApprovalRules(
        required_for=frozenset({Verb.ISSUE, Verb.REDEEM}),
        expires_after=timedelta(hours=4),
        approvers_need_approval=True,
    ),
    limits=Limits(issue_per_agent_per_day=20, redeem_per_agent_per_day=50),
)
ROLES_ONLY = Policy(
    members={
        Role.ADMIN: ("U01ADMIN",),
        Role.APPROVER: ("@support-leads", "U03LEAD"),
        Role.AGENT: ("@support-agents", "U02TEMP"),
    }
)
SUPPORT = "C01SUPPORT"


def test_the_design_example_parses() -> None:
    policy = parse_policy(DESIGN_EXAMPLE)
    assert policy == EXPECTED
    assert policy.admins() == ("U01ADMIN",)
    assert policy.approvers() == ("@support-leads",)
    assert policy.groups() == frozenset({"support-leads", "support-agents"})


def test_defaults() -> None:
    policy = parse_policy('[roles]\nagent = ["U1"]\n')
    assert policy.allowed_channels == frozenset()
    assert policy.approval == ApprovalRules(
        frozenset({Verb.ISSUE, Verb.REDEEM}), timedelta(hours=4), True
    )
    assert policy.limits == Limits(None, None)
    assert policy.admins() == ()


def test_an_empty_file_is_no_policy() -> None:
    assert parse_policy("") == NO_POLICY
    assert not NO_POLICY.configured
    assert NO_POLICY.groups() == frozenset()


# --- roles ----------------------------------------------------------------------------------------


def test_roles_are_ordered_by_rank_not_alphabet() -> None:
    assert Role.VIEWER < Role.AGENT < Role.APPROVER < Role.ADMIN
    assert Role.ADMIN >= Role.ADMIN > Role.VIEWER
    assert Role.AGENT <= Role.APPROVER
    assert sorted([Role.ADMIN, Role.VIEWER, Role.APPROVER, Role.AGENT]) == list(Role)
    assert max(Role) is Role.ADMIN
    assert [role.value for role in Role] == ["viewer", "agent", "approver", "admin"]
    assert Role("agent") is Role.AGENT
    assert [role.rank for role in Role] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("user", "groups", "role"),
    [
        ("U01ADMIN", [], Role.ADMIN),
        ("U02TEMP", [], Role.AGENT),
        ("U09NEW", ["support-agents"], Role.AGENT),
        ("U09NEW", ["@support-agents"], Role.AGENT),
        ("U09NEW", ["Support-Leads"], Role.APPROVER),
        ("U09NEW", ["support-agents", "support-leads"], Role.APPROVER),  # highest wins
        ("U01ADMIN", ["support-agents"], Role.ADMIN),
        ("U09NEW", ["marketing"], None),
        ("U09NEW", [], None),
    ],
)
def test_role_by_id_and_group(user: str, groups: list[str], role: Role | None) -> None:
    assert ROLES_ONLY.role_of(user, groups) is role


def test_everyone_is_a_viewer_when_star_is_listed() -> None:
    assert EXPECTED.role_of("U09NEW", []) is Role.VIEWER
    assert EXPECTED.role_of("U02TEMP", []) is Role.AGENT  # a higher listing still wins


def test_star_can_name_a_higher_role() -> None:
    policy = Policy(members={Role.AGENT: ("*",), Role.ADMIN: ("U1",)})
    assert policy.role_of("U2", []) is Role.AGENT
    assert policy.role_of("U1", []) is Role.ADMIN


def test_nobody_has_a_role_without_a_policy() -> None:
    assert NO_POLICY.role_of("U01ADMIN", ["support-leads"]) is None


# --- channels -------------------------------------------------------------------------------------


def test_channel_allow_list() -> None:
    assert EXPECTED.channel_allowed("C01SUPPORT")
    assert EXPECTED.channel_allowed("C02ESCALATIONS")
    assert not EXPECTED.channel_allowed("C99RANDOM")
    assert ROLES_ONLY.channel_allowed("C99RANDOM")  # no list: any channel


def test_a_refused_channel_is_checked_before_the_role() -> None:
    assert EXPECTED.check(Role.VIEWER, Verb.REDEEM, "C99RANDOM") == Decision(
        False, RefusalReason.CHANNEL_NOT_ALLOWED, Role.AGENT
    )
    assert EXPECTED.check(None, Verb.GET, "C99RANDOM").reason is RefusalReason.CHANNEL_NOT_ALLOWED
    assert (
        EXPECTED.check(Role.ADMIN, Verb.GET, "C99RANDOM").reason
        is RefusalReason.CHANNEL_NOT_ALLOWED
    )


def test_help_works_in_any_channel_for_anyone() -> None:
    assert EXPECTED.check(None, Verb.HELP, "C99RANDOM") == Decision(True, None, None)
    assert NO_POLICY.check(None, Verb.HELP, SUPPORT).allowed


# --- the verb matrix ------------------------------------------------------------------------------

VIEWER_VERBS = {Verb.HELP, Verb.GET, Verb.SERIES, Verb.CHECK, Verb.LOG, Verb.PENDING}
ALLOWED: dict[Role, set[Verb]] = {
    Role.VIEWER: VIEWER_VERBS,
    Role.AGENT: set(Verb),
    Role.APPROVER: set(Verb),
    Role.ADMIN: set(Verb),
}


def test_minimum_roles() -> None:
    assert MINIMUM_ROLE[Verb.HELP] is None
    assert {verb for verb, role in MINIMUM_ROLE.items() if role is Role.VIEWER} == VIEWER_VERBS - {
        Verb.HELP
    }
    assert {verb for verb, role in MINIMUM_ROLE.items() if role is Role.AGENT} == {
        Verb.RESEND,
        Verb.ISSUE,
        Verb.REDEEM,
    }
    assert set(MINIMUM_ROLE) == set(Verb)


@pytest.mark.parametrize(("role", "verb"), list(itertools.product(Role, Verb)))
def test_verb_matrix(role: Role, verb: Verb) -> None:
    decision = EXPECTED.check(role, verb, SUPPORT)
    assert decision.allowed is (verb in ALLOWED[role])
    assert decision.reason is (None if decision.allowed else RefusalReason.ROLE_TOO_LOW)
    assert decision.needed is MINIMUM_ROLE[verb]


@pytest.mark.parametrize("verb", list(Verb))
def test_no_policy_and_no_role_refuse_everything_but_help(verb: Verb) -> None:
    no_policy = NO_POLICY.check(None, verb, SUPPORT)
    no_role = ROLES_ONLY.check(None, verb, SUPPORT)
    if verb is Verb.HELP:
        assert no_policy.allowed and no_role.allowed
    else:
        assert no_policy == Decision(False, RefusalReason.NO_POLICY, MINIMUM_ROLE[verb])
        assert no_role == Decision(False, RefusalReason.NO_ROLE, MINIMUM_ROLE[verb])


# --- approvals and limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "verb", "role", "needed"),
    [
        (ApprovalRules(), Verb.REDEEM, Role.AGENT, True),
        (ApprovalRules(), Verb.ISSUE, Role.APPROVER, True),
        (ApprovalRules(), Verb.RESEND, Role.AGENT, False),
        (ApprovalRules(approvers_need_approval=False), Verb.REDEEM, Role.APPROVER, False),
        (ApprovalRules(approvers_need_approval=False), Verb.REDEEM, Role.ADMIN, False),
        (ApprovalRules(approvers_need_approval=False), Verb.REDEEM, Role.AGENT, True),
        (ApprovalRules(required_for=frozenset({Verb.ISSUE})), Verb.REDEEM, Role.AGENT, False),
        (ApprovalRules(required_for=frozenset()), Verb.REDEEM, Role.AGENT, False),
    ],
)
def test_needs_approval(rules: ApprovalRules, verb: Verb, role: Role, needed: bool) -> None:
    assert rules.needs_approval(verb, role) is needed


def test_who_may_approve() -> None:
    assert [EXPECTED.may_approve(role) for role in Role] == [False, False, True, True]
    assert not EXPECTED.may_approve(None)


def test_limits_per_verb() -> None:
    assert EXPECTED.limits.per_day(Verb.ISSUE) == 20
    assert EXPECTED.limits.per_day(Verb.REDEEM) == 50
    assert EXPECTED.limits.per_day(Verb.GET) is None
    assert Limits().per_day(Verb.ISSUE) is None


def test_partial_sections_keep_the_other_defaults() -> None:
    policy = parse_policy(
        '[approval]\nrequired_for = ["redeem"]\n[limits]\nredeem_per_agent_per_day = 5\n'
    )
    assert policy.approval == ApprovalRules(frozenset({Verb.REDEEM}))
    assert policy.limits == Limits(redeem_per_agent_per_day=5)


# --- every mistake in the file, by name -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[roles]\nagent = 42\n",
            "policy.toml: [roles].agent must be a list of user ids (U…) or @group handles; got 42",
        ),
        (
            '[roles]\nagent = "U1"\n',
            '[roles].agent must be a list of user ids (U…) or @group handles; got "U1"',
        ),
        (
            "[roles]\nagent = [42]\n",
            "[roles].agent must be a list of user ids (U…) or @group handles; got 42",
        ),
        ('[roles]\nadmin = ["bob"]\n', '[roles].admin has "bob", which is not a user id (U…)'),
        ('[roles]\nadmin = ["u01admin"]\n', '[roles].admin has "u01admin"'),
        ('[roles]\napprover = ["@Support-Leads"]\n', "a lower-case @group handle"),
        ('[roles]\napprover = ["support-leads"]\n', '[roles].approver has "support-leads"'),
        ('[roles]\nagents = ["U1"]\n', "unknown key [roles].agents. Did you mean agent?"),
        ('[roles]\nowner = ["U1"]\n', "Expected admin, approver, agent, viewer."),
        ('[role]\nadmin = ["U1"]\n', "policy.toml: unknown table [role]. Did you mean [roles]?"),
        (
            "[settings]\nx = 1\n",
            "unknown table [settings]. "
            "Expected [roles], [channels], [approval], [limits], [audit].",
        ),
        ("roles = 1\n", "policy.toml: roles must be a table ([roles]); got 1"),
        (
            '[channels]\nallowed = ["#support"]\n',
            '[channels].allowed has "#support", which is not a channel id',
        ),
        (
            '[channels]\nallowed = "C01SUPPORT"\n',
            "[channels].allowed must be a list of channel ids",
        ),
        (
            '[channels]\nalowed = ["C01SUPPORT"]\n',
            "unknown key [channels].alowed. Did you mean allowed?",
        ),
        (
            '[approval]\nrequired_for = ["issue", "refund"]\n',
            '[approval].required_for has "refund", which is not a verb',
        ),
        (
            # Only issue and redeem go through approvals: a resend listed here would not wait.
            '[approval]\nrequired_for = ["redeem", "resend"]\n',
            '[approval].required_for has "resend": only issue and redeem can wait for approval',
        ),
        (
            '[approval]\nrequired_for = "issue"\n',
            '[approval].required_for must be a list of verbs like "issue"',
        ),
        (
            '[approval]\nexpires_after = "4 hours"\n',
            'expires_after must be a duration like "4h", "30m" or "1h30m"; got "4 hours"',
        ),
        (
            "[approval]\nexpires_after = 4\n",
            '[approval].expires_after must be a duration like "4h"',
        ),
        ('[approval]\nexpires_after = "0h"\n', "[approval].expires_after must be a duration"),
        (
            '[approval]\napprovers_need_approval = "yes"\n',
            '[approval].approvers_need_approval must be true or false; got "yes"',
        ),
        (
            '[approval]\nexpires = "4h"\n',
            "unknown key [approval].expires. Did you mean expires_after?",
        ),
        (
            "[limits]\nissue_per_agent_per_day = 0\n",
            "[limits].issue_per_agent_per_day must be a whole number of 1 or more",
        ),
        ("[limits]\nissue_per_agent_per_day = -3\n", "got -3"),
        ("[limits]\nredeem_per_agent_per_day = true\n", "got true"),
        ('[limits]\nredeem_per_agent_per_day = "50"\n', 'got "50"'),
        ("[limits]\nredeem_per_agent_per_day = 2.5\n", "got 2.5"),
        ("[limits]\nredeem_per_day = 5\n", "unknown key [limits].redeem_per_day."),
        ("[roles\n", "policy.toml: not valid TOML: "),
        ('[roles]\nagent = ["U1"]\nagent = ["U2"]\n', "not valid TOML"),
    ],
)
def test_policy_errors(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert message in str(caught.value)
    assert str(caught.value).startswith("policy.toml: ")


def test_errors_name_the_source() -> None:
    with pytest.raises(PolicyError, match=r"^/etc/bot/policy\.toml: \[roles\]\.agent"):
        parse_policy("[roles]\nagent = 1\n", "/etc/bot/policy.toml")


# --- loading the file -----------------------------------------------------------------------------


def test_a_missing_file_is_no_policy(tmp_path: Path) -> None:
    assert load_policy(tmp_path / "policy.toml") is NO_POLICY


def test_a_file_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(DESIGN_EXAMPLE, encoding="utf-8")
    assert load_policy(path) == EXPECTED


def test_an_invalid_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[role]\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value).startswith(f"{path}: unknown table [role].")


def test_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="can't be read"):
        load_policy(tmp_path)  # a directory


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(b'[roles]\nagent = ["\xff"]\n')
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(path)


# --- durations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("4h", timedelta(hours=4)),
        ("30m", timedelta(minutes=30)),
        ("2d", timedelta(days=2)),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 1H 30M ", timedelta(hours=1, minutes=30)),
        ("0h15m", timedelta(minutes=15)),
    ],
)
def test_durations(text: str, duration: timedelta) -> None:
    assert parse_duration(text) == duration


@pytest.mark.parametrize(
    "text",
    ["", "4", "h", "4 hours", "30m1h", "1h1h", "-4h", "4.5h", "0h", "0s0m", "1w", "٤h", "9999999d"],
)
def test_bad_durations(text: str) -> None:
    with pytest.raises(PolicyError, match="duration"):
        parse_duration(text)


# --- [audit] retention ----------------------------------------------------------------------------


def test_audit_retention_is_kept_forever_by_default() -> None:
    assert NO_POLICY.audit_retention is None
    assert parse_policy(DESIGN_EXAMPLE).audit_retention is None
    assert parse_policy("[audit]\n").audit_retention is None


@pytest.mark.parametrize(("days", "retention"), [(730, timedelta(days=730)), (1, timedelta(1))])
def test_audit_retention_days(days: int, retention: timedelta) -> None:
    policy = parse_policy(f'[roles]\nagent = ["U1"]\n[audit]\nretention_days = {days}\n')
    assert policy.audit_retention == retention
    assert policy.members == {Role.AGENT: ("U1",)}


def test_the_largest_retention_is_accepted() -> None:
    policy = parse_policy(f"[audit]\nretention_days = {MAX_RETENTION_DAYS}\n")
    assert policy.audit_retention == timedelta(days=MAX_RETENTION_DAYS)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0", "0"),
        ("-1", "-1"),
        ('"30"', '"30"'),
        ("3.5", "3.5"),
        ("true", "true"),
        ('"30d"', '"30d"'),
        ("[30]", "a list"),
        (str(MAX_RETENTION_DAYS + 1), str(MAX_RETENTION_DAYS + 1)),
        ("99999999999999", "99999999999999"),
    ],
)
def test_bad_audit_retention_days(value: str, shown: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(f"[audit]\nretention_days = {value}\n")
    assert str(caught.value) == (
        "policy.toml: [audit].retention_days must be a whole number of days from 1 to "
        f"{MAX_RETENTION_DAYS} (leave it out to keep every row); got {shown}"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[audit]\nretention = 30\n",
            "policy.toml: unknown key [audit].retention. Did you mean retention_days? "
            "Expected retention_days.",
        ),
        ("audit = 30\n", "policy.toml: audit must be a table ([audit]); got 30"),
        ("[audits]\nretention_days = 30\n", "unknown table [audits]. Did you mean [audit]?"),
    ],
)
def test_audit_table_errors(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert message in str(caught.value)


def test_approval_rules_take_only_the_verbs_that_move_money() -> None:
    with pytest.raises(ValueError, match="only issue and redeem"):
        ApprovalRules(required_for=frozenset({Verb.REDEEM, Verb.RESEND}))
