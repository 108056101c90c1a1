"""The /coupon handler's pure steps: parse, the verb checked, the audit scene."""

from __future__ import annotations

import pytest

from bot.audit import AuditFilter
from bot.capillary.identifiers import parse_customer
from bot.commands import Check, Command, Get, LogQuery, OpenForm, UsageError, Verb
from bot.payload import SlashCommand
from bot.recording import Scene, scene_of
from handlers.commands import checked_verb, parse_slash, scene_for

ASKED = SlashCommand("U03AGENT", "C01SUPPORT", team="T01")
RIYA = parse_customer("+919876543210")


def test_a_log_comes_with_its_filters_other_commands_without() -> None:
    parsed, filters = parse_slash("log GOOD100 limit=5")
    assert parsed == LogQuery("GOOD100 limit=5")
    assert filters == AuditFilter(code="GOOD100", limit=5)
    assert parse_slash("get GOOD100") == (Get(("GOOD100",)), None)


def test_a_bad_log_filter_is_a_usage_error_at_parse_time() -> None:
    with pytest.raises(UsageError, match="limit= is a number"):
        parse_slash("log limit=0")


@pytest.mark.parametrize(
    ("parsed", "verb"),
    [
        (OpenForm(None), Verb.GET),  # the action menu needs the right to look coupons up
        (OpenForm(Verb.REDEEM), Verb.REDEEM),
        (Check("GOOD100", RIYA), Verb.CHECK),
        (LogQuery(), Verb.LOG),
    ],
)
def test_the_verb_checked(parsed: Command | OpenForm, verb: Verb) -> None:
    assert checked_verb(parsed) is verb


def test_a_form_is_audited_under_its_verb_alone() -> None:
    expected = Scene(actor="U03AGENT", channel="C01SUPPORT", verb="redeem", team="T01")
    assert scene_for(ASKED, OpenForm(Verb.REDEEM, {"code": "GOOD100"}), Verb.REDEEM) == expected
    menu = scene_for(ASKED, OpenForm(None), Verb.GET)
    assert menu == Scene(actor="U03AGENT", channel="C01SUPPORT", verb="get", team="T01")


def test_a_command_is_audited_with_its_coupon_and_customer() -> None:
    check = Check("GOOD100", RIYA)
    scene = scene_for(ASKED, check, Verb.CHECK)
    assert scene == scene_of(check, "U03AGENT", "C01SUPPORT", "T01")
    assert scene.code == "GOOD100" and scene.customer == RIYA.value
