"""Approvals end to end: signed clicks and modal submissions over HTTP → the real app →
the Capillary sandbox and the Slack emulator, with the approvals in a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from pathlib import Path

import httpx
from conftest import (
    ADMIN,
    AGENT,
    DEMO_POLICY,
    LEAD,
    RIYA,
    SIGNING_SECRET,
    SUPPORT,
    VIEWER,
    Stack,
    free_port,
    make_settings,
    running_stack,
    serve_env,
    serving,
    wait_until,
)

from bot.ids import BlockId
from bot.sandbox.capillary import running_sandbox
from bot.sandbox.slack import Message, SlackDriver, running_slack_emulator
from bot.server import running_bot

LEAD2 = "U06LEAD2"


def blocks_text(message: Message) -> str:
    return f"{message.text} {json.dumps(message.blocks, ensure_ascii=False)}"


def thread(stack: Stack, count: int = 1) -> str:
    parent = stack.parents()[count - 1]
    return "\n".join(blocks_text(r) for r in stack.replies(parent))


def card_now(stack: Stack, card: Message) -> Message:
    current = stack.emulator.state.message(card.channel, card.ts)
    assert current is not None
    return current


def last_ephemeral(stack: Stack, user: str) -> str:
    return stack.emulator.state.ephemerals(user)[-1].text


def has_buttons(message: Message) -> bool:
    return any(b.get("block_id") == BlockId.DECISION for b in message.blocks)


def policy_file(tmp: Path, **changes: str) -> Path:
    """The demo policy with some ``key = value`` lines replaced (keys are unique in it)."""
    lines = []
    for line in DEMO_POLICY.read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        lines.append(f"{key} = {changes.pop(key)}" if key in changes else line)
    assert not changes, f"not in the demo policy: {changes}"
    path = tmp / "policy.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def db_states(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT state FROM approvals ORDER BY created_at")]


class TestTheHappyPath:
    async def test_request_card_approve_one_call_result_card_and_parent(self, stack: Stack) -> None:
        await stack.command(f"redeem GOOD100 {RIYA} txn=B-1182 amount=1450")
        card = await stack.card()
        parent = stack.parents()[0]
        assert "⏳ waiting for approval" in parent.text
        shown = blocks_text(card)
        assert "Approval needed" in shown and "redeem GOOD100 for ••••3210" in shown
        assert "bill B-1182 ₹1,450" in shown and "<@U03AGENT>" in shown
        assert "redeeming needs a second person" in shown and "expires <!date^" in shown
        assert "for <!subteam^S01LEADS|@support-leads>" in shown  # the leads are notified
        assert "Pre-check: redeemable now, 1 redemption left" in shown
        assert "9876543210" not in stack.everything_posted()
        assert stack.capillary_calls("/v1.1/coupon/redeem") == 0

        view = await stack.open_decision(card, by=LEAD)
        modal = json.dumps(view.payload, ensure_ascii=False)
        assert "Redeem GOOD100 for ••••3210 · bill B-1182 ₹1,450?" in modal
        assert view.payload["private_metadata"].startswith("R")  # the request id, nothing else
        await stack.slack.submit(view.id, {BlockId.NOTE: "customer called twice, ok"}, user=LEAD)
        assert stack.slack.last_ack_outcome == "closed"

        finished = await stack.finished(wait=15)
        assert "✅" in finished.text and "⏳" not in finished.text
        assert "GOOD100 redeemed for ••••3210" in thread(stack)
        assert stack.capillary_calls("/v1.1/coupon/redeem") == 1
        updated = card_now(stack, card)
        assert not has_buttons(updated)
        text = blocks_text(updated)
        assert "Approved by <@U02LEAD>" in text and "“customer called twice, ok”" in text
        assert "✅ Redeemed · redemption id" in text

    async def test_issue_pre_check_names_the_series(self, stack: Stack) -> None:
        await stack.command("issue 1001 +919812345678")
        card = await stack.card()
        assert "Pre-check: series 1001" in blocks_text(card)
        await stack.decide(card)
        parent = await stack.finished(wait=15)
        assert "✅" in parent.text and "Issued" in thread(stack)
        assert stack.capillary_calls("/v1.1/coupon/issue") == 1

    async def test_a_request_that_would_fail_says_so_and_is_checked_again(
        self, stack: Stack
    ) -> None:
        await stack.command(f"redeem EXPIRED50 {RIYA}")
        card = await stack.card()
        assert "⚠️ Pre-check: this would fail now" in blocks_text(card)
        await stack.decide(card)
        parent = await stack.finished(wait=15)
        assert "❌" in parent.text and "Next step:" in thread(stack)
        assert stack.capillary_calls("/v1.1/coupon/redeem") == 0  # re-check said no: not sent


class TestReject:
    async def test_reject_needs_a_reason_then_tells_the_requester(self, stack: Stack) -> None:
        await stack.command(f"redeem GOOD100 {RIYA}")
        card = await stack.card()
        view = await stack.open_decision(card, approve=False)
        blank = await stack.slack.submit(
            view.id, {BlockId.REASON: "   "}, user=LEAD, check_required=False
        )
        assert blank.json()["response_action"] == "errors"
        assert BlockId.REASON in blank.json()["errors"]
        await stack.slack.submit(view.id, {BlockId.REASON: "bill was already paid"}, user=LEAD)

        parent = await stack.emulator.state.wait_for(
            lambda: (p := stack.parents()[0]) and "🚫" in p.text and p
        )
        assert "rejected" in parent.text
        text = blocks_text(card_now(stack, card))
        assert "Rejected by <@U02LEAD>" in text and "“bill was already paid”" in text
        assert not has_buttons(card_now(stack, card))
        notice = await stack.emulator.state.wait_for(
            lambda: next((r for r in stack.replies(parent) if " rejected " in r.text), None)
        )
        assert notice.text.startswith(
            "<@U03AGENT>: <@U02LEAD> rejected this redeem of GOOD100: “bill was already paid”. "
            "Nothing was sent to Capillary. *Next step:*"
        )
        assert stack.capillary_calls("/v1.1/coupon/redeem") == 0


class TestWhoMayDecide:
    async def test_requester_and_non_approver_are_refused_only_to_them(
        self, stack: Stack, tmp_path: Path
    ) -> None:
        await stack.command(f"redeem GOOD100 {RIYA}")
        card = await stack.card()
        views_before = len(stack.emulator.state.views())

        await stack.slack.click("coupon_approve", user=AGENT, message=card)
        own = await stack.emulator.state.wait_for(
            lambda: stack.emulator.state.ephemerals(AGENT) and last_ephemeral(stack, AGENT)
        )
        assert "You asked for this one, so someone else has to approve it" in own
        assert "@support-leads" in own

        await stack.slack.click("coupon_reject", user=VIEWER, message=card)
        other = await stack.emulator.state.wait_for(
            lambda: stack.emulator.state.ephemerals(VIEWER) and last_ephemeral(stack, VIEWER)
        )
        assert "Only approvers can approve or reject" in other
        assert len(stack.emulator.state.views()) == views_before  # no modal for either
        assert has_buttons(card_now(stack, card)) and db_states(tmp_path / "bot.sqlite3") == [
            "pending"
        ]

    async def test_an_approvers_own_request_needs_another_approver(self, stack: Stack) -> None:
        await stack.command(f"redeem GOOD100 {RIYA}", user=LEAD)
        card = await stack.card()
        assert "an approver's own redeem needs another approver" in blocks_text(card)
        await stack.slack.click("coupon_approve", user=LEAD, message=card)
        refused = await stack.emulator.state.wait_for(
            lambda: stack.emulator.state.ephemerals(LEAD) and last_ephemeral(stack, LEAD)
        )
        assert "You asked for this one" in refused
        await stack.decide(card, by=LEAD2)
        parent = await stack.finished(wait=15)
        assert "✅" in parent.text

    async def test_admin_runs_directly_when_approvers_need_no_approval(
        self, tmp_path: Path
    ) -> None:
        policy = policy_file(tmp_path, approvers_need_approval="false")
        async with running_stack(tmp_path, policy=policy) as stack:
            await stack.command(f"redeem GOOD100 {RIYA}", user=ADMIN)
            parent = await stack.finished(wait=15)
            assert "✅" in parent.text and "GOOD100 redeemed" in thread(stack)
            assert "Approval needed" not in thread(stack)
            assert db_states(tmp_path / "bot.sqlite3") == ["done"]


class TestExactlyOnce:
    async def test_25_concurrent_approvals_make_one_capillary_call(self, stack: Stack) -> None:
        await stack.command(f"redeem GOOD100 {RIYA} txn=B-25")
        card = await stack.card()
        views = [await stack.open_decision(card, by=who) for who in (LEAD, LEAD2, ADMIN)]
        submissions = [
            stack.slack.submit(views[i % 3].id, {BlockId.NOTE: f"go {i}"}, user=views[i % 3].user)
            for i in range(25)
        ]
        answers = await asyncio.gather(*submissions)
        assert all(a.status_code == 200 for a in answers)
        closed = [a for a in answers if not a.content or "errors" not in a.text]
        lost = [a.json()["errors"][BlockId.NOTE] for a in answers if a not in closed]
        assert len(closed) == 1 and len(lost) == 24
        assert all(reason.startswith("Already approved by ") for reason in lost)

        await stack.finished(wait=15)
        await asyncio.sleep(0.3)  # anything still in flight would have called by now
        assert stack.capillary_calls("/v1.1/coupon/redeem") == 1
        approvals = [c for c in stack.emulator.state.calls("chat.postMessage")]
        results = [c for c in approvals if "redeemed for" in json.dumps(c.args)]
        assert len(results) == 1

        assert not has_buttons(card_now(stack, card))  # nothing left to click


class TestDuplicatesAndLimits:
    async def test_the_same_request_while_pending_or_just_done_is_refused(
        self, stack: Stack
    ) -> None:
        await stack.command(f"redeem GOOD100 {RIYA}")
        card = await stack.card()
        await stack.command(f"redeem good100 {RIYA}", user="U06LEAD2")
        refused = last_ephemeral(stack, LEAD2)
        assert "already requested by <@U03AGENT>" in refused and "this thread" in refused
        assert len(stack.parents()) == 1  # no second thread

        await stack.decide(card)
        await stack.finished(wait=15)
        await stack.command(f"redeem GOOD100 {RIYA}")
        assert "was just done" in last_ephemeral(stack, AGENT)
        assert len(stack.parents()) == 1

    async def test_daily_limit_is_enforced_and_shown_in_help(self, tmp_path: Path) -> None:
        policy = policy_file(tmp_path, issue_per_agent_per_day="2")
        async with running_stack(tmp_path, policy=policy) as stack:
            await stack.command("issue 1001 +919876543210")
            await stack.command("issue 1002 +919812345678")
            await stack.card(count=2)
            await stack.command("issue 1003 +919812345678")
            refused = last_ephemeral(stack, AGENT)
            assert "You've reached your limit: 2 issues in the last 24 hours" in refused
            assert len(stack.parents()) == 2
            await stack.command("help")
            assert "issue 2 of 2" in json.dumps(stack.emulator.state.ephemerals(AGENT)[-1].blocks)


class TestExpiry:
    async def test_an_unanswered_request_expires(self, tmp_path: Path) -> None:
        policy = policy_file(tmp_path, expires_after='"1s"')
        async with running_stack(tmp_path, policy=policy) as stack:
            await stack.command(f"redeem GOOD100 {RIYA}")
            card = await stack.card()
            parent = await stack.emulator.state.wait_for(
                lambda: (p := stack.parents()[0]) and "⌛" in p.text and p, timeout=10
            )
            assert "expired" in parent.text
            expired = card_now(stack, card)
            assert not has_buttons(expired) and "Expired" in blocks_text(expired)
            notice = await stack.emulator.state.wait_for(
                lambda: next((r for r in stack.replies(parent) if "expired" in r.text), None)
            )
            assert notice.text.startswith(
                "<@U03AGENT> nobody approved this redeem of GOOD100 in time"
            )
            assert db_states(tmp_path / "bot.sqlite3") == ["expired"]
            assert stack.capillary_calls("/v1.1/coupon/redeem") == 0


# --- restarts ----------------------------------------------------------------------------------


class TestRestarts:
    async def test_a_pending_request_is_approved_after_a_restart(self, tmp_path: Path) -> None:
        async with running_sandbox() as sandbox, running_slack_emulator() as emulator:
            settings = make_settings(sandbox.base_url, emulator.api_url, tmp_path)
            async with httpx.AsyncClient(timeout=30) as http:
                async with running_bot(settings) as first:
                    stack = Stack(
                        sandbox,
                        emulator,
                        first,
                        SlackDriver(first.url, SIGNING_SECRET, emulator, http),
                    )
                    await stack.command(f"redeem GOOD100 {RIYA}")
                    card = await stack.card()
                async with running_bot(settings) as second:
                    stack = Stack(
                        sandbox,
                        emulator,
                        second,
                        SlackDriver(second.url, SIGNING_SECRET, emulator, http),
                    )
                    await stack.decide(card)  # the card posted by the first run
                    parent = await stack.finished(wait=15)
            assert "✅" in parent.text
            assert sum(1 for c in sandbox.calls if c.path == "/v1.1/coupon/redeem") == 1

    async def test_killed_mid_call_then_restarted_reports_unknown_and_reconciles(
        self, tmp_path: Path
    ) -> None:
        async with running_sandbox() as sandbox, running_slack_emulator() as emulator:
            settings = make_settings(sandbox.base_url, emulator.api_url, tmp_path)
            port = free_port()
            env = serve_env(settings.bot.database, sandbox.base_url, emulator.api_url, port)
            url = f"http://127.0.0.1:{port}/slack/events"
            async with httpx.AsyncClient(timeout=30) as http:
                driver = SlackDriver(url, SIGNING_SECRET, emulator, http)
                async with serving(env, port, http) as bot:
                    stack = Stack(sandbox, emulator, None, driver)  # type: ignore[arg-type]
                    await stack.command(f"redeem GOOD100 {RIYA} txn=B-99")
                    card = await stack.card()
                    # The redeem takes effect in Capillary, but its answer never comes back.
                    await stack.faults(timeout_next=1, timeout_seconds=5, only_path="coupon/redeem")
                    await stack.decide(card)
                    await wait_until(lambda: _redeem_calls(sandbox) == 1)
                    bot.send_signal(signal.SIGKILL)
                    await bot.wait()
                assert db_states(settings.bot.database) == ["executing"]
                parent = stack.parents()[0]
                assert "❓" not in parent.text and "✅" not in parent.text

                async with serving(env, port, http):
                    parent = await emulator.state.wait_for(
                        lambda: (p := emulator.state.messages(SUPPORT)[0]) and "❓" in p.text and p,
                        timeout=20,
                    )
                    text = "\n".join(
                        blocks_text(r) for r in emulator.state.replies(SUPPORT, parent.ts)
                    )
                    assert "the bot stopped before Capillary answered" in text
                    assert "GOOD100 shows as redeemed" in text and "Don't redeem it again" in text
                    assert db_states(settings.bot.database) == ["unknown"]
                    assert "went through" in blocks_text(card_now(stack, card))
            assert _redeem_calls(sandbox) == 1  # never sent twice


def _redeem_calls(sandbox: object) -> int:
    return sum(1 for c in sandbox.calls if c.path == "/v1.1/coupon/redeem")  # type: ignore[attr-defined]


class TestHomeTab:
    async def test_an_approver_sees_what_waits_and_what_they_decided(self, stack: Stack) -> None:
        await stack.command(f"redeem GOOD100 {RIYA}")
        await stack.card()
        await stack.command("issue 1001 +919812345678")
        second = await stack.card(count=2)
        await stack.decide(second, approve=False, note="not this week")
        await stack.finished(count=2)

        await stack.slack.open_home(user=LEAD2)
        home = await stack.emulator.state.wait_for(lambda: stack.emulator.state.home(LEAD2))
        text = json.dumps(home.payload, ensure_ascii=False)
        assert "Waiting for you* (1)" in text and "redeem GOOD100 for ••••3210" in text
        assert "view thread" in text and "9876543210" not in text

        await stack.slack.open_home(user=LEAD)
        decided = await stack.emulator.state.wait_for(lambda: stack.emulator.state.home(LEAD))
        text = json.dumps(decided.payload, ensure_ascii=False)
        assert "Your recent decisions" in text and "Rejected" in text and "series 1001" in text

        await stack.slack.open_home(user=AGENT)
        own = await stack.emulator.state.wait_for(lambda: stack.emulator.state.home(AGENT))
        text = json.dumps(own.payload, ensure_ascii=False)
        assert "Waiting for you" not in text and "Your recent requests" in text
        assert "pending" in text and "rejected" in text


async def test_metrics_count_pending_approvals(stack: Stack) -> None:
    metrics_url = stack.bot.url.replace("/slack/events", "/metrics")

    async def pending() -> float:
        async with httpx.AsyncClient() as http:
            text = (await http.get(metrics_url)).text
        line = next(x for x in text.splitlines() if x.startswith("coupon_bot_pending_approvals "))
        return float(line.split()[1])

    assert await pending() == 0
    await stack.command(f"redeem GOOD100 {RIYA}")
    card = await stack.card()
    assert await pending() == 1
    await stack.decide(card)
    await stack.finished(wait=15)
    assert await pending() == 0


async def test_the_configured_currency_is_on_every_surface_that_shows_money(
    tmp_path: Path,
) -> None:
    """``COUPON_BOT_CURRENCY`` reaches the parent, card, modal, pending list, Home tab and
    results: a builder left on its ``₹`` default would show it here."""
    async with running_stack(tmp_path, currency="€") as stack:
        await stack.command("get GOOD100")
        await stack.finished()
        await stack.command(f"redeem GOOD100 {RIYA} txn=B-1182 amount=1450")
        card = await stack.card(count=2)
        await stack.command("pending")
        await stack.slack.open_home(user=LEAD2)
        await stack.emulator.state.wait_for(lambda: stack.emulator.state.home(LEAD2))
        await stack.decide(card, by=LEAD)
        await stack.finished(count=2, wait=15)

        shown = stack.everything_posted()
        home = json.dumps(stack.emulator.state.home(LEAD2).payload, ensure_ascii=False)  # type: ignore[union-attr]
        assert "€100" in thread(stack, 1)  # the coupon's value
        assert "bill B-1182 €1,450" in stack.parents()[1].text
        assert "bill B-1182 €1,450" in blocks_text(card_now(stack, card))
        pending = blocks_text(stack.emulator.state.ephemerals(AGENT)[-1])
        modal = json.dumps(stack.emulator.state.views(LEAD)[-1].payload, ensure_ascii=False)
        assert "€1,450" in pending and "€1,450" in modal and "€1,450" in home
        assert "₹" not in shown and "₹" not in home
