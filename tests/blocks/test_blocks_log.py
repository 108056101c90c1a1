"""``/coupon log`` blocks: every listed row whole, the query named in readable mrkdwn."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.audit import AuditEvent, AuditEventKind, AuditFilter, AuditOutcome, AuditRow
from bot.blocks.log import LINKED_ROWS, describe_filter, log_message
from bot.capillary.identifiers import parse_customer

THREAD_URL = "https://acme-support.slack.com/archives/C01SUPPORT/p"


def row(i: int) -> AuditRow:
    event = AuditEvent(
        event=AuditEventKind.OUTCOME,
        at=datetime(2026, 11, 26, 7, 0, tzinfo=UTC) + timedelta(minutes=i),
        actor="U03AGENT",
        verb="redeem",
        code="GOOD200",
        customer_kind="mobile",
        customer="919876543210",
        outcome=AuditOutcome.FAILED,
        capillary_code="735",
        channel="C01SUPPORT",
        thread_ts=f"17956786{i:02d}.561655",
    )
    return AuditRow(id=i, hash="h", prev_hash="p", event=event)


def links(rows: list[AuditRow]) -> dict[tuple[str, str], str]:
    return {
        ("C01SUPPORT", r.event.thread_ts or ""): THREAD_URL + (r.event.thread_ts or "")
        for r in rows
    }


def test_every_listed_row_is_shown_whole_however_long_the_list() -> None:
    rows = [row(i) for i in range(LINKED_ROWS)]
    message = log_message("GOOD200", rows, links(rows))
    sections = [block.to_dict()["text"]["text"] for block in message.blocks]
    assert len(sections) > 1 and all(len(text) <= 3000 for text in sections)
    lines = "\n".join(sections).splitlines()[1:]  # after the heading
    assert len(lines) == LINKED_ROWS
    assert all(line.endswith("|view thread>") for line in lines)  # none cut mid-link
    assert "919876543210" not in "\n".join(sections)


@pytest.mark.parametrize(("subject", "hinted"), [("UAF8W1P33", True), ("GOOD100", False)])
def test_nothing_for_a_code_shaped_like_a_user_id_says_how_to_find_a_person(
    subject: str, hinted: bool
) -> None:
    # Slack ids that don't start U0/W0 are read as codes (WELCOME50 is a code, too).
    text = log_message(subject, [], {}).text
    assert (f"If {subject} is a person's user id, mention them instead" in text) is hinted


def test_a_user_filter_is_named_with_a_mention_and_a_code_is_escaped() -> None:
    assert describe_filter(AuditFilter(actor="U03AGENT")) == "<@U03AGENT>"
    assert describe_filter(AuditFilter(code="<GOOD>")) == "&lt;GOOD&gt;"
    assert describe_filter(AuditFilter(customer=parse_customer("919876543210"))) == "••••3210"
    assert describe_filter(AuditFilter()) == "everything"
    assert describe_filter(AuditFilter(verb="redeem")) == "action=redeem"  # not "everything …"
    empty = log_message("action=redeem", [], {}).blocks[0].to_dict()["text"]["text"]
    assert empty.startswith("No results, refusals or approval steps for action=redeem. ")
    assert "`coupon-bot audit` lists every row" in empty  # what /coupon log leaves out
    nothing = log_message(describe_filter(AuditFilter()), [], {}).blocks[0].to_dict()
    assert nothing["text"]["text"].startswith("No results, refusals or approval steps. ")
    message = log_message(describe_filter(AuditFilter(actor="U03AGENT")), [row(1)], {})
    assert message.blocks[0].to_dict()["text"]["text"].startswith("*<@U03AGENT>* — 1 event")


def test_a_capillary_call_names_its_endpoint_not_the_command() -> None:
    # A redeem's pre-check is a coupon/isredeemable call: read as "redeem ✅", it looked
    # like a redemption that never happened.
    event = AuditEvent(
        event=AuditEventKind.CAPILLARY_CALL,
        at=datetime(2026, 11, 26, 7, 0, tzinfo=UTC),
        actor="U03AGENT",
        verb="redeem",
        code="GOOD100",
        outcome=AuditOutcome.OK,
        capillary_endpoint="/v1.1/coupon/isredeemable",  # as the client records it
        capillary_code="700",
    )
    message = log_message("GOOD100", [AuditRow(id=1, hash="h", prev_hash="p", event=event)], {})
    (line,) = message.blocks[0].to_dict()["text"]["text"].splitlines()[1:]
    assert "Capillary call: coupon/isredeemable GOOD100 ✅" in line
    assert "redeem GOOD100" not in line


def test_a_row_names_the_kind_of_customer_as_everywhere_else() -> None:
    # An external id or card masked alone reads like a mobile number.
    rows = [row(1), replace(row(2), event=replace(row(2).event, customer_kind="external_id"))]
    lines = log_message("GOOD200", rows, {}).blocks[0].to_dict()["text"]["text"].splitlines()
    assert "for ••••3210" in lines[1] and "for ext ••••3210" in lines[2]


def test_a_row_time_is_shown_in_the_readers_timezone() -> None:
    # Bare UTC read as local time misleads a team in India by 5½ hours.
    (line,) = (
        log_message("GOOD200", [row(0)], {}).blocks[0].to_dict()["text"]["text"].splitlines()[1:]
    )
    at = int(datetime(2026, 11, 26, 7, 0, tzinfo=UTC).timestamp())
    assert line.startswith(f"<!date^{at}^{{date_short}} {{time}}|26 Nov 2026, 07:00 UTC>  result")


def test_an_issue_that_made_a_coupon_names_its_series_and_the_new_code() -> None:
    ended = AuditEvent(
        event=AuditEventKind.OUTCOME,
        at=datetime(2026, 11, 26, 7, 0, tzinfo=UTC),
        actor="U03AGENT",
        verb="issue",
        code="H6BFKX37",
        series_id="1001",
        outcome=AuditOutcome.OK,
        capillary_code="700",
    )
    asked = replace(ended, event=AuditEventKind.APPROVAL_REQUESTED, code=None, outcome=None)
    rows = [AuditRow(id=i, hash="h", prev_hash="p", event=e) for i, e in enumerate((ended, asked))]
    lines = log_message("H6BFKX37", rows, {}).blocks[0].to_dict()["text"]["text"].splitlines()
    assert "result: issue from series 1001 → H6BFKX37 ✅ · by <@U03AGENT>" in lines[1]
    assert "approval requested: issue 1001 · by <@U03AGENT>" in lines[2]  # no code yet
