"""/coupon log and coupon-bot audit filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.audit import AuditFilter, AuditOutcome
from bot.capillary.identifiers import parse_customer
from bot.commands import UsageError
from bot.logquery import parse_log_filters

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

RIYA = parse_customer("919876543210")
RIYA_EMAIL = parse_customer("riya@example.com")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", AuditFilter()),
        ("good100", AuditFilter(code="GOOD100")),
        ("+919876543210", AuditFilter(customer=RIYA)),
        # Written in groups, as everywhere else in /coupon.
        ("+91 98765 43210 limit=5", AuditFilter(customer=RIYA, limit=5)),
        ("riya@Example.com", AuditFilter(customer=RIYA_EMAIL)),
        ("ext:EXT-5001", AuditFilter(customer=parse_customer("ext:EXT-5001"))),
        ("<@U03AGENT>", AuditFilter(actor="U03AGENT")),
        ("<@U03AGENT|asha>", AuditFilter(actor="U03AGENT")),
        ("U03AGENT", AuditFilter(actor="U03AGENT")),
        ("W012A3CDE", AuditFilter(actor="W012A3CDE")),
        # Codes that start like a user id are codes: Slack's ids start U0 or W0.
        ("WELCOME50", AuditFilter(code="WELCOME50")),
        ("UPGRADE10", AuditFilter(code="UPGRADE10")),
        ("action=lookup", AuditFilter(verb="get")),
        ("status=FAILED limit=5", AuditFilter(outcome=AuditOutcome.FAILED, limit=5)),
        ("since=7d", AuditFilter(since=NOW - timedelta(days=7))),
        ("since=24h", AuditFilter(since=NOW - timedelta(hours=24))),
        (
            "since=2026-11-01",
            AuditFilter(since=datetime(2026, 11, 1, tzinfo=UTC)),
        ),
        (
            "GOOD100 action=redeem status=ok since=2w limit=1000",
            AuditFilter(
                code="GOOD100",
                verb="redeem",
                outcome=AuditOutcome.OK,
                since=NOW - timedelta(weeks=2),
                limit=1000,
            ),
        ),
    ],
)
def test_filters(text: str, expected: AuditFilter) -> None:
    assert parse_log_filters(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("GOOD100", None),
        ("GOOD100 limit=7", 7),
        ("LIMIT=1000", 1000),
        ("<@U03AGENT|limit=9>", None),  # in a mention's name: not an option
    ],
)
def test_the_limit_says_whether_one_was_asked_for(text: str, limit: int | None) -> None:
    assert parse_log_filters(text, now=NOW).limit == limit


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("GOOD100 GOOD200", "one too many"),
        ("colour=blue", "options are action=, status=, since= and limit="),
        ("action=frobnicate", "action= takes a verb"),
        ("status=great", "status= is one of"),
        ("since=yesterday", "since= is a period"),
        ("limit=0", "limit= is a number from 1 to 1000"),
        ("limit=5000", "limit= is a number from 1 to 1000"),
        ("GOOD 100!", "one too many"),
        ("DROP;TABLE", "not a coupon code"),
        ("+12", "mobile number"),
        ("@asha", "isn't a Slack mention: type @ and pick the person .* or give their user id"),
        ("action=get action=redeem", "action= is given twice; give it once"),
        ("GOOD100 limit=5 LIMIT=9", "limit= is given twice"),
    ],
)
def test_refusals(text: str, complaint: str) -> None:
    with pytest.raises(UsageError, match=complaint):
        parse_log_filters(text, now=NOW)


def test_a_second_subject_that_is_a_customer_is_not_echoed_whole() -> None:
    with pytest.raises(UsageError) as refused:
        parse_log_filters("GOOD100 +919876543210", now=NOW)
    assert "9876543210" not in str(refused.value)
    assert "“••••3210” is one too many" in str(refused.value)
