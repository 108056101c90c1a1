"""The client against the Capillary sandbox over real HTTP (loopback TCP, real envelopes)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr

from bot.capillary.auth import BasicAuth, OAuth
from bot.capillary.catalogue import Category
from bot.capillary.client import CallRecord, CapillaryClient
from bot.capillary.errors import CapillaryItemError, CapillaryRequestError, CapillaryTransportError
from bot.capillary.identifiers import parse_customer
from bot.capillary.models import IssuedCoupon, OutcomeUnknown, RedeemedCoupon
from bot.capillary.retry import RetryPolicy
from bot.sandbox.capillary import RunningSandbox, running_sandbox

RIYA = parse_customer("+919876543210")
ARJUN = parse_customer("919812345678")
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with running_sandbox() as running:
        yield running


@pytest.fixture
async def client(sandbox: RunningSandbox) -> AsyncIterator[CapillaryClient]:
    auth = BasicAuth("sandbox", SecretStr("sandbox"))
    async with CapillaryClient(
        sandbox.base_url, auth, retry=FAST_RETRY, timeout_seconds=2
    ) as capillary:
        yield capillary


async def set_faults(sandbox: RunningSandbox, faults: dict[str, object]) -> None:
    """Switch faults the way an operator would: through the admin endpoint."""
    async with httpx.AsyncClient(base_url=sandbox.base_url) as admin:
        response = await admin.post("/__sandbox/faults", json=faults)
    assert response.status_code == 200, response.text


def api_calls(sandbox: RunningSandbox, path: str) -> int:
    return sum(1 for call in sandbox.calls if call.path == path)


class TestHappyPaths:
    async def test_get_found_and_missing(self, client: CapillaryClient) -> None:
        lookup = await client.get(["good100", "NOPE1"])
        (coupon,) = lookup.coupons
        assert coupon.code == "GOOD100"
        assert coupon.series_id == "1001"
        assert coupon.valid_till is not None and not coupon.redeemed
        assert [m.code for m in lookup.missing] == ["NOPE1"]
        assert lookup.missing[0].explanation.code == "705"
        assert lookup.request_id

    async def test_get_redeemed_coupon_has_redemption(self, client: CapillaryClient) -> None:
        (coupon,) = (await client.get("REDEEMED100")).coupons
        assert coupon.redemption is not None
        assert coupon.redemption.redeemed_on is not None

    async def test_series_and_list(self, client: CapillaryClient) -> None:
        series = await client.series("1001")
        assert series.id == "1001" and series.discount_value == Decimal(100)
        listed = await client.list_series()
        assert {s.id for s in listed} >= {"1001", "1002", "1007"}

    async def test_is_redeemable(self, client: CapillaryClient) -> None:
        result = await client.is_redeemable("GOOD100", RIYA)
        assert result.is_redeemable and result.reason is None
        assert result.request_id

    async def test_resend(self, client: CapillaryClient) -> None:
        assert (await client.resend("GOOD100", RIYA)).code == "GOOD100"

    async def test_issue_then_redeem_then_redeemed(self, client: CapillaryClient) -> None:
        issued = await client.issue("1001", ARJUN)
        assert isinstance(issued, IssuedCoupon)
        assert issued.request_id and issued.series_id == "1001"
        redeemed = await client.redeem(
            issued.code, ARJUN, bill_number="B-1", bill_amount=Decimal("500")
        )
        assert isinstance(redeemed, RedeemedCoupon)
        assert redeemed.code == issued.code and redeemed.redemption_id
        (coupon,) = (await client.get(issued.code)).coupons
        assert coupon.redeemed

    async def test_validation_code_redeem(self, client: CapillaryClient) -> None:
        result = await client.redeem("VALID20", RIYA, validation_code="4321")
        assert isinstance(result, RedeemedCoupon)

    async def test_oauth(self, sandbox: RunningSandbox) -> None:
        auth = OAuth(sandbox.base_url, SecretStr("sandbox"), SecretStr("sandbox"))
        async with CapillaryClient(sandbox.base_url, auth) as client:
            assert (await client.get("GOOD100")).coupons
            assert (await client.get("GOOD100")).coupons
        assert [c.auth for c in sandbox.calls if c.path.startswith("/v1.1/")] == ["oauth", "oauth"]
        assert api_calls(sandbox, "/v3/oauth/token/generate") == 1


@pytest.mark.parametrize(
    ("action", "code", "category"),
    [
        (lambda c: c.redeem("REDEEMED100", RIYA), 711, Category.COUPON),
        (lambda c: c.redeem("EXPIRED50", RIYA), 713, Category.COUPON),
        (lambda c: c.redeem("ARJUN100", RIYA), 703, Category.CUSTOMER),
        (lambda c: c.redeem("VALID20", RIYA), 725, Category.REDEMPTION_RULE),
        (
            lambda c: c.redeem("BILL250", RIYA, bill_amount=Decimal(2000)),
            718,
            Category.REDEMPTION_RULE,
        ),
        (lambda c: c.redeem("STORE300", RIYA), 735, Category.REDEMPTION_RULE),
        (lambda c: c.redeem("LIMIT75", RIYA), 714, Category.LIMIT),
        (lambda c: c.redeem("GOOD100", parse_customer("919800000003")), 740, Category.BLOCKED),
        (lambda c: c.issue("1004", RIYA), 712, Category.COUPON),
        (lambda c: c.issue("9999", RIYA), 707, Category.COUPON),
        (lambda c: c.issue("1001", parse_customer("919999999999")), 701, Category.CUSTOMER),
        (lambda c: c.issue("1001", parse_customer("919800000004")), 742, Category.BLOCKED),
        (lambda c: c.resend("NOSUCH1", RIYA), 702, Category.COUPON),
        (lambda c: c.series("9999"), 707, Category.COUPON),
    ],
    ids=lambda v: str(v) if isinstance(v, int) else "",
)
async def test_business_rule_errors_are_typed_and_explained(
    client: CapillaryClient, action: object, code: int, category: Category
) -> None:
    with pytest.raises(CapillaryItemError) as caught:
        await action(client)  # type: ignore[operator]
    assert caught.value.item_code == code
    assert caught.value.explanation.category is category
    assert caught.value.explanation.capillary_message
    assert caught.value.request_id


async def test_not_redeemable_answer(client: CapillaryClient) -> None:
    result = await client.is_redeemable("EXPIRED50", RIYA)
    assert not result.is_redeemable
    assert result.reason is not None and result.reason.code == "713"


async def test_bad_credentials(sandbox: RunningSandbox) -> None:
    async with CapillaryClient(
        sandbox.base_url, BasicAuth("sandbox", SecretStr("wrong"))
    ) as client:
        with pytest.raises(CapillaryRequestError) as caught:
            await client.get("GOOD100")
    assert caught.value.status_code == 401
    assert caught.value.request_id
    assert caught.value.explanation.category is Category.CONFIGURATION


class TestFaults:
    async def test_transient_code_on_get_is_retried(
        self, client: CapillaryClient, sandbox: RunningSandbox
    ) -> None:
        await set_faults(sandbox, {"transient_next": 2})
        assert (await client.get("GOOD100")).coupons
        assert api_calls(sandbox, "/v1.1/coupon/get") == 3

    async def test_http_500_and_malformed_on_get_are_retried(
        self, client: CapillaryClient, sandbox: RunningSandbox
    ) -> None:
        await set_faults(sandbox, {"http_500_next": 1, "malformed_next": 1})
        assert (await client.is_redeemable("GOOD100", RIYA)).is_redeemable
        assert api_calls(sandbox, "/v1.1/coupon/isredeemable") == 3

    async def test_get_gives_up_with_a_transient_explanation(
        self, client: CapillaryClient, sandbox: RunningSandbox
    ) -> None:
        await set_faults(sandbox, {"transient_next": 5})
        with pytest.raises(CapillaryItemError) as caught:
            await client.get("GOOD100")
        assert caught.value.retry_later_helps
        assert api_calls(sandbox, "/v1.1/coupon/get") == 3

    async def test_transient_on_redeem_is_not_retried(
        self, client: CapillaryClient, sandbox: RunningSandbox
    ) -> None:
        await set_faults(sandbox, {"transient_next": 1})
        with pytest.raises(CapillaryItemError) as caught:
            await client.redeem("GOOD100", RIYA)
        assert caught.value.retry_later_helps
        assert api_calls(sandbox, "/v1.1/coupon/redeem") == 1
        assert (await client.is_redeemable("GOOD100", RIYA)).is_redeemable  # nothing happened

    async def test_redeem_timeout_is_unknown_then_reconcilable(
        self, sandbox: RunningSandbox
    ) -> None:
        await set_faults(sandbox, {"timeout_next": 1, "timeout_seconds": 3})
        auth = BasicAuth("sandbox", SecretStr("sandbox"))
        async with CapillaryClient(sandbox.base_url, auth, timeout_seconds=0.3) as client:
            started = time.monotonic()
            result = await client.redeem("GOOD100", RIYA, bill_number="B-9")
            assert time.monotonic() - started < 2.5
            assert isinstance(result, OutcomeUnknown)
            assert api_calls(sandbox, "/v1.1/coupon/redeem") == 1
            (coupon,) = (await client.get("GOOD100")).coupons
        assert coupon.redeemed  # the sandbox carried it out; only the answer was lost

    async def test_redeem_server_error_without_verdict_is_unknown(
        self, client: CapillaryClient, sandbox: RunningSandbox
    ) -> None:
        await set_faults(sandbox, {"http_500_next": 1})
        assert isinstance(await client.redeem("GOOD100", RIYA), OutcomeUnknown)
        assert api_calls(sandbox, "/v1.1/coupon/redeem") == 1

    async def test_rate_limit_is_waited_out(
        self, client: CapillaryClient, sandbox: RunningSandbox
    ) -> None:
        await set_faults(sandbox, {"rate_limit_per_minute": 1})
        await client.get("GOOD100")
        with pytest.raises(CapillaryRequestError) as caught:
            await client.get("GOOD100")  # Retry-After is ~60 s: not worth a chat user's wait
        assert caught.value.status_code == 429
        assert caught.value.retry_after is not None and caught.value.retry_after > 5
        assert caught.value.retry_later_helps

    async def test_expired_oauth_token_is_refreshed_once(self, sandbox: RunningSandbox) -> None:
        records: list[CallRecord] = []
        auth = OAuth(sandbox.base_url, SecretStr("sandbox"), SecretStr("sandbox"))
        async with CapillaryClient(sandbox.base_url, auth, observer=records.append) as client:
            await client.get("GOOD100")
            await set_faults(sandbox, {"expire_tokens": True})
            result = await client.issue("1001", ARJUN)
        assert isinstance(result, IssuedCoupon)
        assert api_calls(sandbox, "/v3/oauth/token/generate") == 2
        assert [r.outcome for r in records] == ["ok", "ok"]

    async def test_connection_refused(self) -> None:
        auth = BasicAuth("sandbox", SecretStr("sandbox"))
        async with running_sandbox() as gone:
            url = gone.base_url
        async with CapillaryClient(url, auth, retry=FAST_RETRY) as client:
            with pytest.raises(CapillaryTransportError):
                await client.get("GOOD100")
            with pytest.raises(CapillaryTransportError):
                await client.redeem("GOOD100", RIYA)  # never sent, so a plain failure


async def test_every_call_is_observed_with_its_request_id(sandbox: RunningSandbox) -> None:
    records: list[CallRecord] = []
    auth = BasicAuth("sandbox", SecretStr("sandbox"))
    async with CapillaryClient(sandbox.base_url, auth, observer=records.append) as client:
        await client.get("GOOD100")
        with pytest.raises(CapillaryItemError):
            await client.redeem("EXPIRED50", RIYA)
    assert [(r.endpoint, r.code, r.outcome) for r in records] == [
        ("/v1.1/coupon/get", "700", "ok"),
        ("/v1.1/coupon/redeem", "713", "error"),
    ]
    assert all(r.request_id and r.http_status for r in records)
    assert records[1].http_status == 500
