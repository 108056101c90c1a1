"""Reliability: Capillary times out, answers HTTP 500, sends back HTML, or says 791 / 795.

For each verb — get, series, check, resend, and issue / redeem through an approval — each
fault is switched on in the sandbox for that endpoint only, the command runs end to end
(signed over HTTP, the real app, the Slack emulator), and then:

- the thread says what happened in the catalogue's words (bot/capillary/catalogue.py) as
  bot/blocks/results.py puts them, and the parent's status says the same;
- nothing is logged at ERROR and the loop saw no unhandled exception;
- the next command (a plain ``get``) is answered normally: no crash, and the circuit breaker
  sees a success between two faulted commands, so it never opens here;
- after the run, ``coupon-bot audit`` shows every command with its ``command`` row, its
  ``capillary_call`` rows (one per call the sandbox received) and exactly one ``outcome``
  row agreeing with the thread, and the hash chain verifies.

Reads are retried (three attempts), so their faults are armed three times; writes are sent
once. A write whose answer is lost is reported as unknown, and a redeem is then checked with
``coupon/get``. Timeouts: the bot gives up after 0.5 s, the sandbox answers after 1 s.
Budget: about 25 s on this 2-core machine (the three read timeouts take 2 s each).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import RIYA, Stack, running_stack
from reliability_support import ErrorWatch, assert_every_command_audited

from bot.blocks.format import escape
from bot.blocks.messages import ASK_BEFORE_RESENDING, BUSY_CAPILLARY, MAYBE_RESENT
from bot.capillary.catalogue import (
    TransportFailure,
    explain_item,
    explain_request,
    explain_transport,
)
from bot.sandbox.slack import Message

TIMEOUT = 0.5  # the bot's Capillary timeout here (settings), seconds
CLEAR = {"timeout_next": 0, "http_500_next": 0, "malformed_next": 0, "transient_next": 0}
CONTROL = "get GOOD100"
UNKNOWN = "so we don't know yet whether it went through"
NOT_DONE = "and checking shows it did not go through"


def faults(kind: str, times: int) -> dict[str, object]:
    """The sandbox settings for ``kind``, armed for the next ``times`` calls."""
    return {
        "timeout": {"timeout_next": times, "timeout_seconds": TIMEOUT * 2},
        "500": {"http_500_next": times},
        "malformed": {"malformed_next": times},
        "791": {"transient_next": times, "transient_code": 791},
        "795": {"transient_next": times, "transient_code": 795},
    }[kind]


def explained(failure: str, code: str | None = None) -> tuple[str, ...]:
    """What a failed command's thread must say for each fault: the catalogue's sentence and
    next step (as the thread escapes them, naming ``code`` where it says ``/coupon get
    <code>``), or the words for Capillary being busy."""
    match failure:
        case "busy":
            return (BUSY_CAPILLARY, explain_transport(TransportFailure.TIMEOUT).next_step)
        case "500":
            found = explain_request(500)
        case "malformed":
            found = explain_transport(TransportFailure.MALFORMED_BODY)
        case _:
            found = explain_item(int(failure))
    next_step = found.next_step
    if code is not None:
        next_step = next_step.replace("/coupon get <code>", f"/coupon get {code}")
    return (escape(found.sentence), escape(next_step))


@dataclass(frozen=True, slots=True)
class Case:
    fault: str
    status: str  # the parent's final status emoji
    says: tuple[str, ...]  # in the thread


READS = {
    "get": ("get GOOD100", "coupon/get"),
    "series": ("series 1001", "coupon/series"),
    "check": (f"check GOOD100 {RIYA}", "coupon/isredeemable"),
    "resend": (f"resend GOOD100 {RIYA}", "coupon/resend"),
}


def read_cases(verb: str) -> list[Case]:
    busy = explained("busy")
    broken = explained("795")
    if verb == "resend":  # sent, and no verdict came back: the SMS may have gone out
        maybe = (escape(MAYBE_RESENT), escape(ASK_BEFORE_RESENDING))
        return [
            Case("timeout", "⚠️", maybe),
            Case("500", "❌", maybe),
            Case("malformed", "❌", maybe),
            Case("791", "⚠️", explained("791")),
            Case("795", "❌", broken),
        ]
    code = None if verb == "series" else "GOOD100"
    return [
        Case("timeout", "⚠️", busy),
        Case("500", "❌", explained("500", code)),
        Case("malformed", "❌", explained("malformed", code)),
        Case("791", "⚠️", explained("791", code)),
        # A get lists a coupon Capillary couldn't look up among those not found; with none
        # found at all, the lookup failed (❌) and says what to do.
        Case("795", "❌", broken),
    ]


# Issue and redeem: each case for another spelling of the customer (the same request again
# would be refused as a duplicate); the timeout last, since the sandbox carries that one out.
WRITES = {
    "issue": [
        Case("500", "❓", (UNKNOWN, "server error", "Capillary can't tell us yet")),
        Case("malformed", "❓", (UNKNOWN, "could not be read", "Capillary can't tell us yet")),
        Case("791", "⚠️", explained("791")),
        Case("795", "❌", explained("795")),
        Case("timeout", "❓", (UNKNOWN, "no answer before the timeout")),
    ],
    "redeem": [
        # Checking showed it did not go through: not done (❌), and safe to try again.
        Case("500", "❌", (NOT_DONE, "server error", "is not redeemed, so it did not go through")),
        Case("malformed", "❌", (NOT_DONE, "could not be read", "is not redeemed")),
        Case("791", "⚠️", explained("791")),
        Case("795", "❌", explained("795")),
        Case("timeout", "❓", (UNKNOWN, "no answer before the timeout", "shows as redeemed")),
    ],
}
CUSTOMERS = {
    "issue": [
        "+919812345678",
        "arjun.mehta@example.com",
        "ext:EXT-5002",
        "id:5002",
        "card:CARD5002",
    ],
    "redeem": [RIYA, "riya.sharma@example.com", "ext:EXT-5001", "id:5001", "card:CARD5001"],
}


def thread_text(stack: Stack, parent: Message) -> str:
    return "\n".join(
        f"{r.text} {json.dumps(r.blocks, ensure_ascii=False)}" for r in stack.replies(parent)
    )


async def control(stack: Stack, count: int) -> None:
    """Faults off; the next command is answered as if nothing had happened."""
    await stack.faults(**CLEAR, only_path="")
    await stack.command(CONTROL)
    parent = await stack.finished(count=count, wait=20)
    assert parent.text.endswith("✅"), parent.text


async def check(stack: Stack, case: Case, count: int) -> None:
    parent = await stack.finished(count=count, wait=20)
    said = thread_text(stack, parent)
    assert parent.text.endswith(case.status), (case, parent.text, said)
    for words in case.says:
        assert words in said, (case, words, said)


@pytest.mark.parametrize("verb", list(READS))
async def test_a_read_that_fails_is_explained_and_audited(tmp_path: Path, verb: str) -> None:
    text, path = READS[verb]
    with ErrorWatch().watching() as errors:
        async with running_stack(tmp_path, timeout=TIMEOUT) as stack:
            for number, case in enumerate(read_cases(verb)):
                await stack.faults(**faults(case.fault, 3), only_path=path)
                await stack.command(text)
                await check(stack, case, count=2 * number + 1)
                await control(stack, count=2 * number + 2)
            threads, calls = stack.parents(), stack.capillary_calls()
    errors.assert_none()
    assert_every_command_audited(tmp_path / "bot.sqlite3", threads, calls)


@pytest.mark.parametrize("verb", list(WRITES))
async def test_an_approved_write_that_fails_is_explained_and_audited(
    tmp_path: Path, verb: str
) -> None:
    series_or_code = "1001" if verb == "issue" else "GOOD100"
    with ErrorWatch().watching() as errors:
        async with running_stack(tmp_path, timeout=TIMEOUT) as stack:
            for number, (case, customer) in enumerate(
                zip(WRITES[verb], CUSTOMERS[verb], strict=True)
            ):
                count = 2 * number + 1
                await stack.command(f"{verb} {series_or_code} {customer}")
                card = await stack.card(count=count)
                await stack.faults(**faults(case.fault, 1), only_path=f"coupon/{verb}")
                await stack.decide(card)
                await check(stack, case, count=count)
                await control(stack, count=count + 1)
            threads, calls = stack.parents(), stack.capillary_calls()
    errors.assert_none()
    audited = assert_every_command_audited(tmp_path / "bot.sqlite3", threads, calls)
    for parent in threads[::2]:  # the writes, not the controls
        rows = audited[parent.ts]
        events = [row["event"] for row in rows]
        assert events.index("approval_requested") < events.index("approved") < len(events) - 1
        writes = [r for r in rows if r["capillary_endpoint"] == f"/v1.1/coupon/{verb}"]
        assert len(writes) == 1, rows  # sent once, never retried
