"""/coupon end to end: signed commands over HTTP → the real app → sandbox and emulator."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from conftest import ADMIN, AGENT, GUEST, RIYA, VIEWER, Stack, running_stack


def shown(stack: Stack, user: str = AGENT) -> str:
    """What the user saw in reply to their last command (the ack, shown as an ephemeral)."""
    (*_, last) = stack.emulator.state.ephemerals(user)
    return f"{last.text} {json.dumps(last.blocks, ensure_ascii=False)}"


def thread_text(stack: Stack, parent_index: int = 1) -> str:
    parent = stack.parents()[parent_index - 1]
    return "\n".join(
        f"{r.text} {json.dumps(r.blocks, ensure_ascii=False)}" for r in stack.replies(parent)
    )


class TestEveryVerb:
    async def test_get(self, stack: Stack) -> None:
        await stack.command("get GOOD100,NOPE1")
        parent = await stack.finished()
        assert parent.text.startswith("🎟️ <@U03AGENT> · get GOOD100, NOPE1") and "✅" in parent.text
        text = thread_text(stack)
        assert "GOOD100" in text and "Not redeemed yet" in text and "••••3210" in text
        assert "NOPE1" in text
        assert "expired" not in text

    async def test_get_an_expired_coupon_says_so(self, stack: Stack) -> None:
        await stack.command("get EXPIRED50")
        await stack.finished()
        assert "· expired" in thread_text(stack)  # beside its date, not only the date

    async def test_get_alias_with_customer(self, stack: Stack) -> None:
        await stack.command(f"lookup GOOD100,ARJUN100 {RIYA}")
        await stack.finished()
        text = thread_text(stack)
        assert "*GOOD100*" in text
        assert "ARJUN100*: " in text  # listed as not this customer's

    async def test_series(self, stack: Stack) -> None:
        await stack.command("series 1001")
        parent = await stack.finished()
        assert "series 1001" in parent.text and "✅" in parent.text
        assert "Diwali" in thread_text(stack)

    async def test_check(self, stack: Stack) -> None:
        await stack.command(f"check GOOD100 {RIYA}")
        parent = await stack.finished()
        assert "check GOOD100 for ••••3210" in parent.text and "✅" in parent.text
        assert "can be redeemed by ••••3210" in thread_text(stack)

    async def test_check_a_percentage_coupon(self, stack: Stack) -> None:
        await stack.command("check VALID20 ext:EXT-5001")
        await stack.finished()
        text = thread_text(stack)
        assert "VALID20 can be redeemed" in text and "20% off" in text
        assert "₹20" not in text

    @pytest.mark.parametrize(
        ("customer", "who"),
        [
            ("id:5001", "customer id ••••"),
            ("card:CARD5001", "card ••••5001"),
            ("ext:EXT-5001", "ext ••••5001"),
        ],
    )
    async def test_check_names_the_kind_of_customer(
        self, stack: Stack, customer: str, who: str
    ) -> None:
        await stack.command(f"check GOOD100 {customer}")
        parent = await stack.finished()
        assert f"check GOOD100 for {who} ·" in parent.text
        assert f"can be redeemed by {who} ·" in thread_text(stack)

    async def test_resend(self, stack: Stack) -> None:
        await stack.command(f"resend GOOD100 {RIYA}")
        await stack.finished()
        assert "GOOD100 was sent to ••••3210 again" in thread_text(stack)
        assert stack.capillary_calls("/v1.1/coupon/resend") == 1

    async def test_issue(self, stack: Stack) -> None:
        parent = await stack.approved("issue 1001 +919812345678")
        assert "issue from series 1001 to ••••5678" in parent.text and "✅" in parent.text
        assert "Issued" in thread_text(stack)
        assert stack.capillary_calls("/v1.1/coupon/issue") == 1

    async def test_redeem(self, stack: Stack) -> None:
        parent = await stack.approved("redeem ARJUN100 +919812345678 txn=B-1182 amount=1450")
        assert "redeem ARJUN100 for ••••5678 · bill B-1182 ₹1,450" in parent.text
        assert "✅" in parent.text
        assert "ARJUN100 redeemed" in thread_text(stack)
        assert stack.capillary_calls("/v1.1/coupon/redeem") == 1

    async def test_help_shows_what_the_caller_may_do(self, stack: Stack) -> None:
        await stack.command("help", user=VIEWER)
        text = shown(stack, VIEWER)
        assert "/coupon get" in text and "viewer" in text
        assert "/coupon redeem" not in text
        assert stack.capillary_calls() == 0

    async def test_help_on_redeem_says_it_waits_for_an_approver(self, stack: Stack) -> None:
        await stack.command("help redeem")  # the demo policy: redeem needs a second person
        text = shown(stack, AGENT)
        assert "Waits for an approver's OK" in text and "`txn=` the bill number" in text
        await stack.command("help resend")
        assert "Waits for" not in shown(stack, AGENT)

    async def test_pending_lists_open_requests_with_links(self, stack: Stack) -> None:
        await stack.command("pending", user=VIEWER)
        assert "No requests are waiting" in shown(stack, VIEWER)
        await stack.command(f"redeem GOOD100 {RIYA}")
        await stack.card()
        await stack.command("pending", user=VIEWER)
        text = shown(stack, VIEWER)
        assert "1 request waiting" in text and "redeem GOOD100 for ••••3210" in text
        assert "view thread" in text and "919876543210" not in text


class TestTranslatedErrorsReachTheThread:
    @pytest.mark.parametrize(
        ("command", "expected"),
        [
            (f"check EXPIRED50 {RIYA}", "Capillary code 713"),  # coupon
            ("check GOOD100 +919999999999", "Capillary code 701"),  # customer
            (f"redeem STORE300 {RIYA}", "Capillary code 735"),  # redemption rule
            (f"redeem LIMIT75 {RIYA}", "Capillary code 714"),  # limit
            ("issue 1001 +919800000003", "Capillary code 740"),  # blocked / fraud
        ],
    )
    async def test_item_codes(self, stack: Stack, command: str, expected: str) -> None:
        if command.startswith(("redeem", "issue")):
            parent = await stack.approved(command)
        else:
            await stack.command(command)
            parent = await stack.finished()
        text = thread_text(stack)
        assert "❌" in parent.text
        assert expected in text and "Next step:" in text

    async def test_transient(self, stack: Stack) -> None:
        await stack.faults(transient_next=5)
        await stack.command("get GOOD100")
        parent = await stack.finished()
        assert "⚠️" in parent.text
        # Capillary answered "try again later" (a 79x code): its meaning, not "not answering".
        said = "Capillary is busy and couldn't process this coupon. Nothing was changed."
        assert said in thread_text(stack)

    async def test_unknown_code(self, stack: Stack) -> None:
        # A code the bot can't read says neither yes nor no: the redeem is checked again.
        await stack.faults(transient_next=1, transient_code=777, only_path="coupon/redeem")
        await stack.approved(f"redeem GOOD100 {RIYA}")
        text = thread_text(stack)
        assert "code 777" in text and "checking shows it did not go through" in text

    async def test_configuration(self, tmp_path: Path) -> None:
        async with running_stack(tmp_path, password="wrong") as stack:
            await stack.command("get GOOD100")
            await stack.finished()
            assert "Capillary code 401" in thread_text(stack)

    async def test_redeem_with_lost_answer_is_reconciled(self, tmp_path: Path) -> None:
        async with running_stack(tmp_path, timeout=0.5) as stack:
            await stack.faults(timeout_next=1, timeout_seconds=3, only_path="coupon/redeem")
            parent = await stack.approved(f"redeem GOOD100 {RIYA} txn=B-77")
            text = thread_text(stack)
            assert "❓" in parent.text
            assert "don't know yet whether it went through" in text
            assert "shows as redeemed" in text
            assert stack.capillary_calls("/v1.1/coupon/redeem") == 1


class TestSigning:
    async def test_bad_signature(self, stack: Stack) -> None:
        body = b"command=%2Fcoupon&text=get+GOOD100&user_id=U03AGENT&channel_id=C01SUPPORT"
        headers = stack.slack.sign(body)
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
        response = await stack.slack.post_raw(body, headers, "application/x-www-form-urlencoded")
        assert response.status_code == 401
        await asyncio.sleep(0.2)
        assert stack.parents() == [] and stack.capillary_calls() == 0

    async def test_stale_timestamp(self, stack: Stack) -> None:
        body = b"command=%2Fcoupon&text=get+GOOD100&user_id=U03AGENT&channel_id=C01SUPPORT"
        headers = stack.slack.sign(body, timestamp=int(time.time()) - 301)
        response = await stack.slack.post_raw(body, headers, "application/x-www-form-urlencoded")
        assert response.status_code == 401
        await asyncio.sleep(0.2)
        assert stack.parents() == [] and stack.capillary_calls() == 0


class TestPermissions:
    async def test_user_without_role(self, stack: Stack) -> None:
        response = await stack.command("get GOOD100", user=GUEST)
        assert response.status_code == 200
        text = shown(stack, GUEST)
        assert "no role" in text and "<@U01ADMIN>" in text
        assert stack.capillary_calls() == 0 and stack.parents() == []

    async def test_role_too_low(self, stack: Stack) -> None:
        await stack.command(f"redeem GOOD100 {RIYA}", user=VIEWER)
        text = shown(stack, VIEWER)
        assert "You need the agent role to redeem coupons" in text
        assert "/coupon get" in text
        assert stack.capillary_calls() == 0 and stack.parents() == []

    async def test_channel_outside_allow_list(self, stack: Stack) -> None:
        await stack.command("get GOOD100", user=ADMIN, channel="C03RANDOM")
        assert "support channels" in shown(stack, ADMIN)
        assert stack.capillary_calls() == 0


class TestBadInput:
    @pytest.mark.parametrize(
        "text",
        [
            "frobnicate",
            "redeem GOOD100 +919876543210 colour=blue",
            "x" * 5000,
            "get 🎟️🎟️",
            "chéck ГУД100 ☃",
        ],
        ids=["unknown-verb", "bad-option", "huge", "emoji", "unicode"],
    )
    async def test_usage_reply(self, stack: Stack, text: str) -> None:
        response = await stack.command(text)
        assert response.status_code == 200
        assert "/coupon" in shown(stack)
        assert stack.capillary_calls() == 0 and stack.parents() == []

    async def test_an_unknown_verb_gets_the_usage_line(self, stack: Stack) -> None:
        await stack.command("frob")
        (*_, last) = stack.emulator.state.ephemerals(AGENT)
        assert last.text == (
            "I don't know “frob”. Try `/coupon help`.\n"
            "Usage: `/coupon help|get|series|check|resend|issue|redeem|log|pending …`"
        )
        assert stack.capillary_calls() == 0 and stack.parents() == []

    async def test_empty_opens_the_action_menu(self, stack: Stack) -> None:
        response = await stack.command("")
        assert response.status_code == 200
        view = await stack.emulator.state.wait_for(lambda: stack.emulator.state.current_view(AGENT))
        assert view.payload["title"]["text"] == "Coupons"
        assert stack.capillary_calls() == 0


class TestModals:
    async def test_missing_arguments_open_a_prefilled_form_then_validate(
        self, stack: Stack
    ) -> None:
        await stack.command("redeem good100")
        view = await stack.emulator.state.wait_for(lambda: stack.emulator.state.current_view(AGENT))
        assert "GOOD100" in json.dumps(view.payload)
        response = await stack.slack.submit(view.id, {"code": "GOOD100", "customer": "nobody"})
        assert response.json()["response_action"] == "errors"
        assert "customer" in response.json()["errors"]
        assert stack.capillary_calls() == 0
        await stack.slack.submit(view.id, {"code": "GOOD100", "customer": RIYA, "txn": "B-9"})
        await stack.decide(await stack.card())
        parent = await stack.finished()
        assert "redeem GOOD100 for ••••3210" in parent.text and "✅" in parent.text

    async def test_action_menu_to_form_to_thread(self, stack: Stack) -> None:
        await stack.command("")
        menu = await stack.emulator.state.wait_for(lambda: stack.emulator.state.current_view(AGENT))
        await stack.slack.click("coupon_pick_verb:check", view_id=menu.id, user=AGENT)
        form = await stack.emulator.state.wait_for(
            lambda: (
                (v := stack.emulator.state.current_view(AGENT)) and v.payload.get("submit") and v
            )
        )
        await stack.slack.submit(form.id, {"code": "GOOD100", "customer": RIYA})
        parent = await stack.finished()
        assert "check GOOD100" in parent.text


class TestSlackBehaviour:
    async def test_ack_comes_before_a_slow_capillary(self, stack: Stack) -> None:
        await stack.faults(latency_ms=3000)
        response = await stack.command("get GOOD100")
        assert response.status_code == 200
        # The ack is back while Capillary is still thinking: the parent says ⏳, no reply yet.
        parent = await stack.emulator.state.wait_for(lambda: next(iter(stack.parents()), None))
        assert "⏳" in parent.text and stack.replies(parent) == []
        finished = await stack.finished(wait=15)
        assert "✅" in finished.text

    async def test_429_is_waited_out_and_nothing_is_lost(self, stack: Stack) -> None:
        stack.emulator.state.rate_limits.set("chat.postMessage", every=2, retry_after=1)
        await stack.command("get GOOD100")
        parent = await stack.finished(wait=15)
        assert len(stack.parents()) == 1 and len(stack.replies(parent)) == 1
        limited = [c for c in stack.emulator.state.calls("chat.postMessage") if not c.ok]
        assert limited, "the emulator should have answered 429 at least once"

    async def test_no_raw_customer_number_is_posted(self, stack: Stack) -> None:
        await stack.command(f"check GOOD100 {RIYA}")
        await stack.finished()
        await stack.command("get GOOD100,REDEEMED100", user=AGENT)
        await stack.finished(count=2)
        await stack.command("check GOOD100 riya.sharma@example.com")
        await stack.finished(count=3)
        posted = stack.everything_posted()
        assert "9876543210" not in posted and "riya.sharma@" not in posted


async def test_a_channel_the_bot_is_not_in_gets_told_how_to_invite_it(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[roles]\nagent = ["U03AGENT"]\n[channels]\nallowed = ["C03RANDOM"]\n')
    async with running_stack(tmp_path, policy=policy) as stack:
        await stack.command("get GOOD100", channel="C03RANDOM")
        told = await stack.emulator.state.wait_for(
            lambda: [m for m in stack.emulator.state.ephemerals(AGENT) if "/invite" in m.text]
        )
        assert "not a member of this channel" in told[0].text
        assert stack.capillary_calls() == 0


async def test_a_burst_right_after_start_asks_slack_who_the_bot_is_once(stack: Stack) -> None:
    """Bolt would call auth.test for every request that arrives before its first answer."""
    answers = await asyncio.gather(*(stack.command("get GOOD100") for _ in range(20)))
    assert all(a.status_code == 200 for a in answers)
    await stack.finished(count=20, wait=20)
    assert len(stack.emulator.state.calls("auth.test")) == 1
