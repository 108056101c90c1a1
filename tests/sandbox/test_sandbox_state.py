"""Pure state rules, the fixture's relative dates, describe() and serve_forever()."""

from __future__ import annotations

import ast
import asyncio
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

import bot.sandbox.capillary as sandbox_package
from bot.sandbox.capillary import SandboxState, describe, running_sandbox, seed_state, serve_forever
from bot.sandbox.capillary.state import (
    CustomerRef,
    RedeemRequest,
    normalise_mobile,
    parse_amount,
    redemptions_left,
)

RIYA = CustomerRef({"mobile": "919876543210"})


def frozen(moment: datetime) -> SandboxState:
    return SandboxState(clock=lambda: moment)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9876543210", "919876543210"),
        ("+91 98765-43210", "919876543210"),
        ("09876543210", "919876543210"),
        ("447700900000", "447700900000"),
    ],
)
def test_normalise_mobile(raw: str, expected: str) -> None:
    assert normalise_mobile(raw) == expected


def test_parse_amount() -> None:
    assert parse_amount(None) is None
    assert parse_amount(" ") is None
    assert parse_amount("1000.5") == Decimal("1000.5")
    for bad in ("-1", "abc", "NaN", "Infinity", "True"):
        with pytest.raises(ValueError, match="invalid amount"):
            parse_amount(bad)


def test_fixture_dates_follow_the_clock() -> None:
    state = frozen(datetime(2030, 1, 15, 12, 0, 0))
    assert state.series[1001].valid_till == date(2030, 4, 15)
    assert state.series[1004].valid_till == date(2029, 12, 16)
    coupon = state.find_coupon("EXPIRED50")
    assert coupon is not None
    assert coupon.valid_till < date(2030, 1, 15)


def test_coupon_expires_when_time_passes() -> None:
    now = [datetime(2030, 1, 15, 12, 0, 0)]
    state = SandboxState(clock=lambda: now[0])
    assert state.check("GOOD100", RIYA).ok
    now[0] += timedelta(days=91)
    assert state.check("GOOD100", RIYA).code == 713


def test_issue_creates_unique_codes_and_counts() -> None:
    state = seed_state()
    codes = {state.issue(1001, RIYA).coupon.code for _ in range(20)}  # type: ignore[union-attr]
    assert len(codes) == 20
    assert all(re.fullmatch(r"[A-Z0-9]{8}", c) for c in codes)
    assert state.series[1001].issued == 23


def test_reset_is_in_place() -> None:
    state = seed_state()
    assert state.redeem(RedeemRequest("GOOD100", RIYA)).ok
    series = state.series
    state.reset()
    assert state.check("GOOD100", RIYA).ok
    assert state.series is not series  # reloaded, same state object
    assert state.series[1001].redeemed == 1


def test_redemptions_left_for_limited_series() -> None:
    state = seed_state()
    coupon = state.find_coupon("LIMIT75")
    assert coupon is not None
    assert redemptions_left(coupon, state.series[1005]) == 0


def test_describe_mentions_everything_needed() -> None:
    text = describe(seed_state(), "http://127.0.0.1:9999")
    for needle in (
        "http://127.0.0.1:9999",
        'username "sandbox"',
        'password "sandbox"',
        "X-CAP-API-OAUTH-TOKEN",
        "1001",
        "1007",
        "919876543210",
        "919800000003",
        "FRAUD",
        "BLOCKED",
        "GOOD100",
        "REDEEMED",
        "EXPIRED",
        "validation code 4321",
        "/__sandbox/faults",
        "/__sandbox/reset",
        "timeout_next",
    ):
        assert needle in text, needle


async def test_running_sandbox_uses_given_state() -> None:
    state = frozen(datetime(2030, 1, 15, 12, 0, 0))
    async with running_sandbox(state=state) as sandbox:
        assert sandbox.state is state
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.base_url)


async def test_serve_forever_prints_and_serves_until_cancelled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    task = asyncio.create_task(serve_forever(0))
    output = ""
    for _ in range(200):
        await asyncio.sleep(0.01)
        output += capsys.readouterr().out
        if "/__sandbox/calls" in output:
            break
    match = re.search(r"URL:\s+(http://\S+)", output)
    assert match, output
    async with httpx.AsyncClient(base_url=match.group(1)) as anon:
        assert (await anon.get("/__sandbox/faults")).status_code == 200
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_sandbox_never_imports_the_client() -> None:
    """A parsing bug shared by client and sandbox would pass every test: keep them apart."""
    package = Path(sandbox_package.__file__).parent
    for source in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            assert not [n for n in names if n.startswith("bot.capillary")], source
