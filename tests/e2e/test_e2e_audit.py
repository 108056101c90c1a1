"""Every action ends up in the audit log, and `coupon-bot audit` reads it back and verifies it."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import AGENT, GUEST, LEAD, RIYA, VIEWER, running_stack


def audit(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", "--database", str(database), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def rows(database: Path, *filters: str) -> list[dict[str, Any]]:
    result = audit(database, "--format", "json", *filters)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


async def test_commands_refusals_calls_and_outcomes_are_audited(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await stack.approved(f"redeem GOOD100 {RIYA} txn=B-1", note="ok, called 9876543210")
        await stack.command(f"redeem GOOD100 {RIYA}", user=VIEWER)
        await stack.command("get GOOD100", user=GUEST)
    database = tmp_path / "bot.sqlite3"

    redeem = rows(database, "GOOD100", "action=redeem")
    assert [r["event"] for r in reversed(redeem)] == [
        "command",
        "capillary_call",  # the pre-check
        "approval_requested",
        "approved",
        "capillary_call",  # checked again at execution
        "capillary_call",
        "outcome",
        "refused",
    ]
    command, precheck, requested, approved, _, call, outcome, refused = reversed(redeem)
    assert command["actor"] == AGENT and command["customer"] == "••••3210"
    assert precheck["capillary_endpoint"] == "/v1.1/coupon/isredeemable"
    assert requested["actor"] == AGENT and approved["actor"] == LEAD
    approval_id = requested["approval_id"]
    assert approval_id and approved["approval_id"] == call["approval_id"] == approval_id
    assert outcome["approval_id"] == approval_id
    assert call["capillary_endpoint"] == "/v1.1/coupon/redeem" and call["http_status"] == 200
    assert call["capillary_request_id"] and call["thread_ts"]
    assert outcome["outcome"] == "ok" and outcome["capillary_code"] == "700"
    assert outcome["capillary_request_id"] == call["capillary_request_id"]
    assert refused["actor"] == VIEWER and refused["outcome"] == "refused"
    assert [r["event"] for r in rows(database, f"{GUEST}")] == ["refused"]
    assert rows(database, RIYA, "status=refused") == [refused]

    everything = audit(database, "--format", "csv", "limit=1000").stdout
    assert "9876543210" not in everything  # customers masked in every display
    assert approved["detail"] == "ok, called ••••3210"  # notes too

    assert audit(database, "--verify").returncode == 0


async def test_tampering_is_detected(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await stack.command("get GOOD100")
        await stack.finished()
    database = tmp_path / "bot.sqlite3"
    with sqlite3.connect(database) as db:
        (first,) = db.execute("SELECT min(id) FROM audit_events").fetchone()
        db.execute("UPDATE audit_events SET actor = 'U0FORGED' WHERE id = ?", (first,))
    result = audit(database, "--verify")
    assert result.returncode == 1
    assert f"first bad row: {first}" in result.stderr


def test_missing_database_and_bad_filters_are_one_clear_line(tmp_path: Path) -> None:
    missing = audit(tmp_path / "nope.sqlite3")
    assert missing.returncode == 2 and "no audit database" in missing.stderr
    (tmp_path / "db.sqlite3").touch()
    bad = audit(tmp_path / "db.sqlite3", "status=great")
    assert bad.returncode == 2 and "status= is one of" in bad.stderr
    assert "Traceback" not in bad.stderr


async def test_coupon_log_answers_in_a_thread_newest_first_with_links(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await stack.command(f"check GOOD100 {RIYA}")
        checked = await stack.finished()
        await stack.command(f"redeem GOOD100 {RIYA}", user=VIEWER)  # refused: audited too
        await stack.command("log GOOD100", user=VIEWER)
        parent = await stack.finished(count=2)
        (reply,) = stack.replies(parent)
        text = json.dumps(reply.blocks, ensure_ascii=False)
        assert "log GOOD100" in parent.text and "✅" in parent.text
        assert "*GOOD100* — 2 events" in text
        assert text.index("refused: redeem GOOD100") < text.index("result: check GOOD100 ✅")
        # What happened, not the plumbing (each is in `coupon-bot audit`).
        assert "asked:" not in text and "Capillary call" not in text
        assert "••••3210" in text and "9876543210" not in text
        assert checked.ts.replace(".", "") in text  # linked to the check's thread

        await stack.command("log status=great", user=VIEWER)
        assert "status= is one of" in stack.emulator.state.ephemerals(VIEWER)[-1].text


async def test_a_long_coupon_log_attaches_every_row_as_csv(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        for _ in range(24):  # a refusal is one row and answers at once
            await stack.command(f"redeem GOOD100 {RIYA}", user=VIEWER)
        await stack.command("log GOOD100", user=VIEWER)
        parent = await stack.finished()
        (reply,) = stack.replies(parent)
        (attached,) = stack.emulator.state.files_in(parent.channel, parent.ts)
        listed = json.dumps(reply.blocks, ensure_ascii=False)
        assert "*GOOD100* — 24 events" in listed and "…and 4 more" in listed
        assert "attached below as CSV" in listed
        assert attached.name == "coupon-log-GOOD100.csv"
        table = list(csv.DictReader(io.StringIO(attached.text)))
        assert len(table) == 24 and len(attached.text.splitlines()) == 25  # header + rows
        assert {r["code"] for r in table} == {"GOOD100"}
        assert {r["customer"] for r in table if r["customer"]} == {"••••3210"}
        assert "9876543210" not in stack.everything_posted()


async def test_coupon_log_for_a_customer_never_shows_the_number(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await stack.command(f"check GOOD100 {RIYA}")
        await stack.finished()
        await stack.command(f"log {RIYA} since=2026-01-01", user=VIEWER)
        parent = await stack.finished(count=2)
        assert "log ••••3210 since=2026-01-01" in parent.text
        posted = stack.everything_posted()
        assert "9876543210" not in posted
        assert "••••3210" in json.dumps(
            [r.blocks for r in stack.replies(parent)], ensure_ascii=False
        )


async def test_a_lookup_that_finds_nothing_failed_and_a_mobile_is_found_however_typed(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path) as stack:
        await stack.command("get NOPE1")
        parent = await stack.finished()
        said = " ".join(json.dumps(r.blocks) for r in stack.replies(parent))
        await stack.command(f"check GOOD100 {RIYA}")
        await stack.finished(count=2)
    assert parent.text.endswith("❌"), parent.text
    assert "No coupon with this code exists." in said and "Next step:" in said
    database = tmp_path / "bot.sqlite3"

    (ended,) = rows(database, "NOPE1", "status=failed")
    assert ended["event"] == "outcome" and ended["capillary_code"] == "705"  # Capillary's, not 700
    assert RIYA.startswith("+91")
    typed_bare = rows(database, RIYA.removeprefix("+91"))
    assert {r["verb"] for r in typed_bare} == {"check"} and typed_bare


async def test_an_issued_coupon_is_found_by_its_new_code(tmp_path: Path) -> None:
    # "Who issued this coupon and who approved it?" starts from the code the customer has.
    async with running_stack(tmp_path) as stack:
        before = set(stack.sandbox.state.coupons)
        parent = await stack.approved(f"issue 1001 {RIYA}")
        (code,) = set(stack.sandbox.state.coupons) - before
        assert code in json.dumps([r.blocks for r in stack.replies(parent)])
        await stack.command(f"log {code.lower()}", user=VIEWER)
        logged = await stack.finished(count=2)
        (reply,) = stack.replies(logged)
        text = json.dumps(reply.blocks, ensure_ascii=False)
        assert f"*{code}* — 1 event" in text
        assert f"result: issue from series 1001 → {code} ✅" in text
        assert f"by <@{AGENT}>" in text and "••••3210" in text
        assert parent.ts.replace(".", "") in text  # the thread with the approval in it
    database = tmp_path / "bot.sqlite3"

    (outcome,) = rows(database, code)
    assert outcome["event"] == "outcome" and outcome["outcome"] == "ok"
    assert outcome["verb"] == "issue" and outcome["series_id"] == "1001"
    assert outcome["actor"] == AGENT and outcome["capillary_code"] == "700"
    (approved,) = [r for r in rows(database, "action=issue") if r["event"] == "approved"]
    assert approved["actor"] == LEAD and approved["approval_id"] == outcome["approval_id"]
    assert audit(database, "--verify").returncode == 0
