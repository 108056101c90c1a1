"""``/coupon log`` past the listed rows: the CSV upload and what happens when Slack refuses it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import AuditEvent, AuditEventKind, AuditFilter, AuditRow
from bot.commands import LogQuery
from bot.conversation import Conversation, _slug
from bot.logquery import parse_log_filters
from bot.sandbox.slack import running_slack_emulator
from bot.service import CouponService

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def row(n: int) -> AuditRow:
    event = AuditEvent(
        AuditEventKind.COMMAND,
        START - timedelta(minutes=n),
        actor="U03AGENT",
        verb="check",
        code="GOOD100",
        customer="919876543210",
    )
    return AuditRow(id=n, hash="h" * 64, prev_hash="p" * 64, event=event)


class Audit:
    def __init__(self, count: int) -> None:
        self.rows = [row(n) for n in range(count)]
        self.asked: list[AuditFilter] = []

    async def flush(self) -> None:
        pass

    async def query(self, f: AuditFilter) -> list[AuditRow]:
        self.asked.append(f)
        return self.rows[: f.limit]


async def show(count: int, text: str = "GOOD100", **rules: Any) -> tuple[Any, Audit]:
    audit = Audit(count)
    async with running_slack_emulator() as emulator:
        if rules:
            emulator.state.rate_limits.set("files.getUploadURLExternal", **rules)
        client = AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)
        conversation = Conversation(client, cast(CouponService, None), audit=audit)
        await conversation.show_log(
            "U03AGENT", "C01SUPPORT", LogQuery(text), parse_log_filters(text)
        )
    return emulator.state, audit


async def test_more_rows_than_listed_come_as_a_masked_csv() -> None:
    state, audit = await show(21)
    (parent,) = state.messages("C01SUPPORT")
    (attached,) = state.files_in("C01SUPPORT", parent.ts)
    assert attached.name == "coupon-log-GOOD100.csv"
    assert len(attached.text.splitlines()) == 22 and "9876543210" not in attached.text
    assert audit.asked[0].limit is None  # no limit= asked for: every match counts


async def test_twenty_rows_or_an_explicit_small_limit_attach_nothing() -> None:
    state, _ = await show(20)
    assert state.files == []
    state, audit = await show(30, "GOOD100 limit=5")
    assert state.files == [] and audit.asked[0].limit == 5


async def test_a_refused_upload_is_said_in_the_thread_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.conversation"):
        state, _ = await show(21, next=1)
    (parent,) = state.messages("C01SUPPORT")
    listed, apology = state.replies("C01SUPPORT", parent.ts)
    assert "more" in str(listed.blocks)
    assert "could not be attached" in apology.text and "`coupon-bot audit`" in apology.text
    assert state.files == [] and "✅" in parent.text
    assert "ratelimited" in caplog.text


def test_file_names_leave_customers_out() -> None:
    assert _slug(parse_log_filters("GOOD100 action=redeem")) == "GOOD100"
    assert _slug(parse_log_filters("+919876543210 since=7d")) == "customer"
    assert _slug(parse_log_filters("ext:JOHN.DOE")) == "customer"
    assert _slug(parse_log_filters("<@U03AGENT>")) == "user"
    assert _slug(parse_log_filters("")) == "everything"
