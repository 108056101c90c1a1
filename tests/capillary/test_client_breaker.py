"""The client and its circuit breaker, against httpx.MockTransport: what opens the circuit,
what an open circuit answers, and that a write is never sent (nor made unknown) while open."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from bot.capillary.auth import BasicAuth
from bot.capillary.breaker import BreakerPolicy, BreakerState, CircuitBreaker
from bot.capillary.catalogue import Category, TransportFailure
from bot.capillary.client import CallRecord, CapillaryClient
from bot.capillary.errors import (
    CapillaryError,
    CapillaryItemError,
    CapillaryRequestError,
    CapillaryTransportError,
)
from bot.capillary.identifiers import parse_customer
from bot.capillary.models import OutcomeUnknown, RedeemedCoupon
from bot.capillary.retry import RetryPolicy

BASE = "https://eu.api.capillarytech.com"
CUSTOMER = parse_customer("+919876543210")
Step = httpx.Response | Exception


def envelope(code: int, items: object = None, **extra: object) -> dict[str, object]:
    response: dict[str, object] = {"status": {"success": code == 200, "code": code, "message": ""}}
    if items is not None:
        response.update(items)  # type: ignore[call-overload]
    response.update(extra)
    return {"response": response}


GET_OK = httpx.Response(
    200,
    json=envelope(
        200, {"coupons": {"coupon": [{"code": "GOOD100", "item_status": {"code": 700}}]}}
    ),
)
GET_EXPIRED = httpx.Response(
    200,
    json=envelope(200, {"coupons": {"coupon": [{"code": "OLD1", "item_status": {"code": 713}}]}}),
)
SERIES_LIST = httpx.Response(200, json=envelope(200, {"series": {"items": []}}))
REDEEM_OK = httpx.Response(
    200,
    json=envelope(
        200,
        {"coupons": {"coupon": {"code": "GOOD100", "item_status": {"code": 700}}}},
    ),
)
ALREADY_REDEEMED = httpx.Response(
    500,
    json=envelope(500, {"coupons": {"coupon": {"code": "GOOD100", "item_status": {"code": 711}}}}),
)
GATEWAY_502 = httpx.Response(502, text="<html>Bad Gateway</html>")
SERVER_500 = httpx.Response(500, json=envelope(500))
BAD_REQUEST = httpx.Response(400, json=envelope(400))
RATE_LIMITED = httpx.Response(429, json=envelope(429))


class Capillary:
    """Answers each request from a per-path script (the last step repeats); records them."""

    def __init__(self, **scripts: list[Step]) -> None:
        self.scripts = {f"/v1.1/coupon/{path}": steps for path, steps in scripts.items()}
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        script = self.scripts[request.url.path]
        step = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(step, Exception):
            raise step
        return step


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def client_for(
    capillary: Capillary,
    clock: Clock,
    *,
    threshold: int = 3,
    attempts: int = 3,
    observer: Callable[[CallRecord], None] | None = None,
) -> CapillaryClient:
    async def no_sleep(seconds: float) -> None:
        return None

    policy = BreakerPolicy(threshold=threshold, cooldown_seconds=30)
    return CapillaryClient(
        BASE,
        BasicAuth("till.user", SecretStr("s3cret")),
        transport=httpx.MockTransport(capillary),
        sleep=no_sleep,
        retry=RetryPolicy(attempts=attempts),
        breaker=CircuitBreaker(policy, clock=clock),
        observer=observer,
    )


def assert_unavailable(error: CapillaryError) -> None:
    assert isinstance(error, CapillaryTransportError)
    assert error.failure is TransportFailure.CIRCUIT_OPEN
    assert error.sent is False
    assert error.explanation.category is Category.TRANSIENT
    assert "Nothing was changed" in error.explanation.sentence


@pytest.mark.parametrize(
    "failure",
    [GATEWAY_502, SERVER_500, httpx.ReadTimeout("slow"), httpx.ConnectError("refused")],
    ids=["gateway-502", "envelope-500", "read-timeout", "connection-refused"],
)
async def test_repeated_failures_open_the_circuit_and_calls_then_fail_at_once(
    clock: Clock, failure: Step
) -> None:
    capillary = Capillary(get=[failure])
    async with client_for(capillary, clock) as client:
        with pytest.raises(CapillaryError):
            await client.get("GOOD100")  # three attempts, three failures
        assert client.breaker.state is BreakerState.OPEN
        sent = len(capillary.paths)
        with pytest.raises(CapillaryError) as raised:
            await client.get("GOOD100")
    assert len(capillary.paths) == sent == 3  # the second get sent nothing
    assert_unavailable(raised.value)
    assert raised.value.explanation.capillary_message == "3 failures in a row; next try in 30 s"


async def test_a_read_stops_retrying_when_the_circuit_opens_under_it(clock: Clock) -> None:
    capillary = Capillary(get=[GATEWAY_502])
    async with client_for(capillary, clock, threshold=2, attempts=5) as client:
        with pytest.raises(CapillaryError) as raised:
            await client.get("GOOD100")
    assert len(capillary.paths) == 2
    assert_unavailable(raised.value)


@pytest.mark.parametrize(
    ("path", "answer", "error"),
    [
        ("get", GET_EXPIRED, None),
        ("redeem", ALREADY_REDEEMED, CapillaryItemError),
        ("get", BAD_REQUEST, CapillaryRequestError),
        ("get", RATE_LIMITED, CapillaryError),
    ],
    ids=["item-713", "http-500-item-711", "envelope-400", "rate-limited-429"],
)
async def test_capillary_refusing_is_an_answer_not_a_failure(
    clock: Clock, path: str, answer: httpx.Response, error: type[Exception] | None
) -> None:
    capillary = Capillary(**{path: [answer]})
    async with client_for(capillary, clock, threshold=2, attempts=1) as client:
        for _ in range(5):
            if path == "get" and error is None:
                lookup = await client.get("OLD1")
                assert lookup.missing or lookup.coupons
            elif path == "get":
                with pytest.raises(error or Exception):
                    await client.get("OLD1")
            else:
                with pytest.raises(CapillaryItemError):
                    await client.redeem("GOOD100", CUSTOMER)
        assert client.breaker.state is BreakerState.CLOSED
    assert len(capillary.paths) == 5


async def test_a_success_in_between_keeps_the_circuit_closed(clock: Clock) -> None:
    capillary = Capillary(get=[GATEWAY_502, GATEWAY_502, GET_OK, GATEWAY_502, GATEWAY_502, GET_OK])
    async with client_for(capillary, clock, attempts=3) as client:
        await client.get("GOOD100")
        await client.get("GOOD100")
        assert client.breaker.state is BreakerState.CLOSED
    assert len(capillary.paths) == 6


async def test_a_write_while_open_fails_before_sending_and_is_not_unknown(clock: Clock) -> None:
    capillary = Capillary(redeem=[httpx.ReadTimeout("slow")])
    async with client_for(capillary, clock) as client:
        for _ in range(3):  # a timed-out write is unknown: it may have happened
            assert isinstance(await client.redeem("GOOD100", CUSTOMER), OutcomeUnknown)
        with pytest.raises(CapillaryError) as raised:
            await client.redeem("GOOD100", CUSTOMER)
    assert capillary.paths == ["/v1.1/coupon/redeem"] * 3
    assert_unavailable(raised.value)


async def test_after_the_cooldown_a_read_is_the_probe_and_closes_the_circuit(
    clock: Clock,
) -> None:
    capillary = Capillary(get=[GATEWAY_502, GATEWAY_502, GATEWAY_502, GET_OK])
    async with client_for(capillary, clock) as client:
        with pytest.raises(CapillaryError):
            await client.get("GOOD100")
        clock.now += 29
        with pytest.raises(CapillaryError):
            await client.get("GOOD100")
        clock.now += 1
        assert client.breaker.state is BreakerState.HALF_OPEN
        assert (await client.get("GOOD100")).coupons[0].code == "GOOD100"
        assert client.breaker.state is BreakerState.CLOSED
    assert len(capillary.paths) == 4


async def test_a_failed_probe_opens_the_circuit_again_without_retries(clock: Clock) -> None:
    capillary = Capillary(get=[GATEWAY_502])
    async with client_for(capillary, clock) as client:
        with pytest.raises(CapillaryError):
            await client.get("GOOD100")
        clock.now += 30
        with pytest.raises(CapillaryError) as raised:
            await client.get("GOOD100")  # the probe fails; its retry is refused at once
        assert client.breaker.state is BreakerState.OPEN
    assert len(capillary.paths) == 4
    assert_unavailable(raised.value)


async def test_a_write_is_never_the_probe_a_harmless_read_goes_first(clock: Clock) -> None:
    capillary = Capillary(get=[GATEWAY_502], series=[SERIES_LIST], redeem=[REDEEM_OK])
    async with client_for(capillary, clock) as client:
        with pytest.raises(CapillaryError):
            await client.get("GOOD100")
        clock.now += 30
        assert isinstance(await client.redeem("GOOD100", CUSTOMER), RedeemedCoupon)
        assert client.breaker.state is BreakerState.CLOSED
    assert capillary.paths[3:] == ["/v1.1/coupon/series", "/v1.1/coupon/redeem"]


async def test_a_write_whose_probe_fails_is_not_sent(clock: Clock) -> None:
    capillary = Capillary(get=[GATEWAY_502], series=[GATEWAY_502], redeem=[REDEEM_OK])
    async with client_for(capillary, clock) as client:
        with pytest.raises(CapillaryError):
            await client.get("GOOD100")
        clock.now += 30
        with pytest.raises(CapillaryError) as raised:
            await client.redeem("GOOD100", CUSTOMER)
    assert "/v1.1/coupon/redeem" not in capillary.paths
    assert capillary.paths[-1] == "/v1.1/coupon/series"
    assert_unavailable(raised.value)


async def test_calls_refused_by_the_breaker_are_not_reported_as_http_attempts(
    clock: Clock,
) -> None:
    calls: list[CallRecord] = []
    capillary = Capillary(get=[SERVER_500])
    async with client_for(capillary, clock, observer=calls.append) as client:
        for _ in range(3):
            with pytest.raises(CapillaryError):
                await client.get("GOOD100")
    assert [(c.attempt, c.http_status, c.code) for c in calls] == [
        (1, 500, "500"),
        (2, 500, "500"),
        (3, 500, "500"),
    ]


async def test_the_default_breaker_opens_after_five_failures() -> None:
    capillary = Capillary(get=[GATEWAY_502])

    async def no_sleep(seconds: float) -> None:
        return None

    client = CapillaryClient(
        BASE,
        BasicAuth("u", SecretStr("p")),
        transport=httpx.MockTransport(capillary),
        sleep=no_sleep,
    )
    async with client:
        for _ in range(3):
            with pytest.raises(CapillaryError):
                await client.get("GOOD100")
    assert len(capillary.paths) == 5
    assert client.breaker.state is BreakerState.OPEN
