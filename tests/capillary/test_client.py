"""The client's request loop, auth, retries and write safety, against httpx.MockTransport."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.capillary.auth import OAUTH_HEADER, BasicAuth, OAuth
from bot.capillary.catalogue import TransportFailure
from bot.capillary.client import CallRecord, CapillaryClient
from bot.capillary.errors import (
    CapillaryItemError,
    CapillaryRequestError,
    CapillaryTransportError,
)
from bot.capillary.identifiers import parse_customer
from bot.capillary.models import IssuedCoupon, OutcomeUnknown, RedeemedCoupon
from bot.capillary.retry import RetryPolicy

BASE = "https://eu.api.capillarytech.com"
CUSTOMER = parse_customer("+919876543210")
Handler = Callable[[httpx.Request], httpx.Response]


def reply(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"X-Cap-Requestid": "rid-1", **headers})


GET_OK = {
    "response": {
        "status": {"success": "true", "code": 200, "message": "Success"},
        "coupons": {
            "coupon": [{"id": 1, "code": "GOOD100", "item_status": {"status": "true", "code": 700}}]
        },
    }
}
ISSUE_OK = {
    "response": {
        "status": {"success": True, "code": 200, "message": "Success"},
        "coupon": {
            "code": "NEW1",
            "series_id": 1001,
            "item_status": {"success": True, "code": 700},
        },
    }
}
REDEEM_OK = {
    "response": {
        "status": {"success": "true", "code": 200, "message": "Success"},
        "coupons": {
            "coupon": {
                "code": "GOOD100",
                "redemption_id": "9",
                "item_status": {"success": "true", "code": 700},
            }
        },
    }
}


class Recorder:
    """A MockTransport handler that plays a script of responses and records requests."""

    def __init__(self, *script: httpx.Response | Exception | Handler):
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step(request) if callable(step) and not isinstance(step, httpx.Response) else step

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/v1.1/")]


def make_client(recorder: Recorder, *, auth: Any = None, **kwargs: Any) -> CapillaryClient:
    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    sleeps: list[float] = []
    client = CapillaryClient(
        BASE,
        auth or BasicAuth("till.user", SecretStr("s3cret")),
        transport=httpx.MockTransport(recorder),
        sleep=no_sleep,
        **kwargs,
    )
    client.sleeps = sleeps  # type: ignore[attr-defined]
    return client


async def test_basic_auth_sends_md5_of_password_and_format_json() -> None:
    recorder = Recorder(reply(GET_OK))
    async with make_client(recorder) as client:
        await client.get("good100")
    (request,) = recorder.requests
    expected = base64.b64encode(f"till.user:{hashlib.md5(b's3cret').hexdigest()}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.url.params["format"] == "json"
    assert request.url.params["code"] == "GOOD100"
    assert request.headers["Accept"] == "application/json"


async def test_base_url_with_version_suffix_is_accepted() -> None:
    recorder = Recorder(reply(GET_OK))
    client = CapillaryClient(
        BASE + "/v1.1/", BasicAuth("u", SecretStr("p")), transport=httpx.MockTransport(recorder)
    )
    async with client:
        await client.get("A")
    assert recorder.requests[0].url.path == "/v1.1/coupon/get"


async def test_result_carries_request_id() -> None:
    async with make_client(Recorder(reply(GET_OK))) as client:
        lookup = await client.get(["A", "B"])
    assert lookup.request_id == "rid-1"
    assert lookup.coupons[0].request_id == "rid-1"


async def test_get_retries_transport_errors_then_succeeds() -> None:
    recorder = Recorder(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), reply(GET_OK))
    async with make_client(recorder) as client:
        lookup = await client.get("A")
        assert len(client.sleeps) == 2  # type: ignore[attr-defined]
        assert all(0 < s <= 2.0 for s in client.sleeps)  # type: ignore[attr-defined]
    assert lookup.coupons[0].code == "GOOD100"
    assert len(recorder.requests) == 3


async def test_get_gives_up_after_attempts_with_transport_error() -> None:
    recorder = Recorder(httpx.ReadTimeout("slow"))
    async with make_client(recorder, retry=RetryPolicy(attempts=4)) as client:
        with pytest.raises(CapillaryTransportError) as caught:
            await client.get("A")
    assert caught.value.failure is TransportFailure.TIMEOUT
    assert len(recorder.requests) == 4


@pytest.mark.parametrize(
    "first",
    [
        reply({"response": {"status": {"success": False, "code": 521, "message": "busy"}}}),
        reply({"response": {"status": {"success": False, "code": 461, "message": "search busy"}}}),
        httpx.Response(503, text="<html>unavailable</html>"),
        httpx.Response(502, text="bad gateway"),
        reply(
            {
                "response": {
                    "status": {"success": True, "code": 200},
                    "coupons": {
                        "coupon": [{"code": "A", "item_status": {"success": False, "code": 794}}]
                    },
                }
            }
        ),
    ],
    ids=["521", "461", "503-html", "502", "item-794"],
)
async def test_get_retries_try_again_later(first: httpx.Response) -> None:
    recorder = Recorder(first, reply(GET_OK))
    async with make_client(recorder) as client:
        assert (await client.get("A")).coupons
    assert len(recorder.requests) == 2


async def test_get_does_not_retry_definite_answers() -> None:
    body = {"response": {"status": {"success": False, "code": 400, "message": "Invalid input"}}}
    recorder = Recorder(reply(body, 400))
    async with make_client(recorder) as client:
        with pytest.raises(CapillaryRequestError) as caught:
            await client.get("A")
    assert caught.value.request_id == "rid-1"
    assert len(recorder.requests) == 1


async def test_is_redeemable_not_redeemable_is_not_retried() -> None:
    body = {
        "response": {
            "status": {"success": True, "code": 200},
            "coupons": {
                "redeemable": {"code": "A", "is_redeemable": "false", "item_status": {"code": 713}}
            },
        }
    }
    recorder = Recorder(reply(body))
    async with make_client(recorder) as client:
        result = await client.is_redeemable("A", CUSTOMER)
    assert not result.is_redeemable
    assert len(recorder.requests) == 1
    assert recorder.requests[0].url.params["mobile"] == "919876543210"


async def test_retry_after_is_honoured_and_long_ones_are_not_waited() -> None:
    limited = {
        "response": {"status": {"success": False, "code": 429, "message": "Rate limit exceeded"}}
    }
    recorder = Recorder(reply(limited, 429, **{"Retry-After": "2"}), reply(GET_OK))
    async with make_client(recorder) as client:
        await client.get("A")
        assert client.sleeps[0] >= 2.0  # type: ignore[attr-defined]
    recorder = Recorder(reply(limited, 429, **{"Retry-After": "60"}))
    async with make_client(recorder) as client:
        with pytest.raises(CapillaryRequestError) as caught:
            await client.get("A")
    assert caught.value.retry_after == 60
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("no answer"),
        httpx.WriteTimeout("stuck"),
        httpx.RemoteProtocolError("Server disconnected"),
        httpx.ReadError("reset"),
    ],
)
async def test_write_timeout_is_outcome_unknown_and_never_retried(failure: Exception) -> None:
    recorder = Recorder(failure, reply(ISSUE_OK))
    async with make_client(recorder) as client:
        result = await client.issue("1001", CUSTOMER)
    assert isinstance(result, OutcomeUnknown)
    assert not isinstance(result, IssuedCoupon)
    assert result.endpoint == "/v1.1/coupon/issue"
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(504, text="<html>Gateway Timeout</html>"),
        httpx.Response(200, text="<html>oops</html>"),
        reply(
            {"response": {"status": {"success": False, "code": 500, "message": "Server error"}}},
            500,
        ),
        reply({"response": {"status": {"success": True, "code": 200}}}),
    ],
    ids=["504-html", "200-html", "500-no-item", "success-no-payload"],
)
async def test_write_with_unreadable_or_unexplained_answer_is_unknown(
    answer: httpx.Response,
) -> None:
    recorder = Recorder(answer)
    async with make_client(recorder) as client:
        result = await client.redeem("GOOD100", CUSTOMER)
    assert isinstance(result, OutcomeUnknown)
    assert len(recorder.requests) == 1


async def test_write_not_sent_is_a_plain_failure() -> None:
    recorder = Recorder(httpx.ConnectError("refused"))
    async with make_client(recorder) as client:
        with pytest.raises(CapillaryTransportError) as caught:
            await client.redeem("GOOD100", CUSTOMER)
    assert caught.value.failure is TransportFailure.CONNECTION_REFUSED
    assert len(recorder.requests) == 1


async def test_write_item_error_is_definite() -> None:
    body = {
        "response": {
            "status": {
                "success": "false",
                "code": 500,
                "message": "All requests have failed due to errors",
            },
            "coupons": {
                "coupon": {"code": "GOOD100", "item_status": {"success": "false", "code": 711}}
            },
        }
    }
    recorder = Recorder(reply(body, 500))
    async with make_client(recorder) as client:
        with pytest.raises(CapillaryItemError) as caught:
            await client.redeem("GOOD100", CUSTOMER)
    assert caught.value.item_code == 711
    assert caught.value.request_id == "rid-1"
    assert len(recorder.requests) == 1


async def test_write_transient_item_code_is_not_retried() -> None:
    body = {
        "response": {
            "status": {"success": False, "code": 500},
            "coupon": {
                "item_status": {"success": False, "code": 791, "message": "try again later"}
            },
        }
    }
    recorder = Recorder(reply(body))
    async with make_client(recorder) as client:
        with pytest.raises(CapillaryItemError) as caught:
            await client.issue("1001", CUSTOMER)
    assert caught.value.retry_later_helps
    assert len(recorder.requests) == 1


async def test_redeem_body() -> None:
    recorder = Recorder(reply(REDEEM_OK))
    async with make_client(recorder) as client:
        result = await client.redeem(
            "good100",
            parse_customer("asha@example.com"),
            bill_number="B-1182",
            bill_amount=Decimal("1450"),
            validation_code="XYZ",
        )
    assert isinstance(result, RedeemedCoupon) and result.redemption_id == "9"
    request = recorder.requests[0]
    assert request.method == "POST" and request.url.params["format"] == "json"
    assert json.loads(request.content) == {
        "root": {
            "coupon": [
                {
                    "code": "GOOD100",
                    "customer": {"email": "asha@example.com"},
                    "validation_code": "XYZ",
                    "transaction": [{"number": "B-1182", "amount": "1450.00"}],
                }
            ]
        }
    }


async def test_issue_body() -> None:
    recorder = Recorder(reply(ISSUE_OK))
    async with make_client(recorder) as client:
        result = await client.issue("1001", parse_customer("ext:CUST-9"))
    assert isinstance(result, IssuedCoupon) and result.code == "NEW1"
    assert json.loads(recorder.requests[0].content) == {
        "root": {"coupon": [{"series_id": "1001", "customer": {"external_id": "CUST-9"}}]}
    }


def token_reply(token: str, ttl: int = 300) -> httpx.Response:
    return httpx.Response(
        200, json={"data": {"accessToken": token, "ttlSeconds": ttl}, "errors": None}
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_oauth_token_cached_for_ttl_then_regenerated() -> None:
    tokens = iter(["t1", "t2"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/oauth/token/generate":
            assert json.loads(request.content) == {"key": "k", "secret": "s"}
            return token_reply(next(tokens), ttl=300)
        return reply(GET_OK)

    clock = Clock()
    recorder = Recorder(handler)
    auth = OAuth(BASE, SecretStr("k"), SecretStr("s"), clock=clock)
    async with make_client(recorder, auth=auth) as client:
        await client.get("A")
        await client.get("A")
        clock.now += 299
        await client.get("A")
    paths = [r.url.path for r in recorder.requests]
    assert paths.count("/v3/oauth/token/generate") == 2
    assert [r.headers[OAUTH_HEADER] for r in recorder.api_requests()] == ["t1", "t1", "t2"]
    assert "Authorization" not in recorder.api_requests()[0].headers


async def test_oauth_refreshes_once_on_401() -> None:
    tokens = iter(["stale", "fresh", "never"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/oauth/token/generate":
            return token_reply(next(tokens))
        if request.headers[OAUTH_HEADER] == "stale":
            return reply(
                {
                    "response": {
                        "status": {"success": False, "code": 401, "message": "Unauthorized"}
                    }
                },
                401,
            )
        return reply(ISSUE_OK)

    recorder = Recorder(handler)
    auth = OAuth(BASE, SecretStr("k"), SecretStr("s"))
    async with make_client(recorder, auth=auth) as client:
        result = await client.issue("1001", CUSTOMER)
    assert isinstance(result, IssuedCoupon)
    assert [r.headers[OAUTH_HEADER] for r in recorder.api_requests()] == ["stale", "fresh"]


async def test_oauth_401_twice_is_a_request_error_not_a_loop() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/oauth/token/generate":
            return token_reply("t")
        return reply(
            {"response": {"status": {"success": False, "code": 401, "message": "Unauthorized"}}},
            401,
        )

    recorder = Recorder(handler)
    async with make_client(recorder, auth=OAuth(BASE, SecretStr("k"), SecretStr("s"))) as client:
        with pytest.raises(CapillaryRequestError) as caught:
            await client.get("A")
    assert caught.value.status_code == 401
    assert len(recorder.api_requests()) == 2


async def test_oauth_bad_key_is_a_request_error() -> None:
    bad = httpx.Response(
        401, json={"data": None, "errors": [{"code": 1, "message": "Invalid key/secret"}]}
    )
    recorder = Recorder(bad)
    async with make_client(recorder, auth=OAuth(BASE, SecretStr("k"), SecretStr("s"))) as client:
        with pytest.raises(CapillaryRequestError) as caught:
            await client.get("A")
    assert caught.value.status_code == 401
    assert caught.value.explanation.capillary_message == "Invalid key/secret"


async def test_observer_sees_every_attempt() -> None:
    records: list[CallRecord] = []
    recorder = Recorder(httpx.ReadTimeout("slow"), reply(GET_OK))
    async with make_client(recorder, observer=records.append) as client:
        await client.get("A")
    assert [(r.attempt, r.outcome, r.code) for r in records] == [
        (1, "error", "timeout"),
        (2, "ok", "700"),
    ]
    assert records[1].request_id == "rid-1" and records[1].http_status == 200
    assert all(r.endpoint == "/v1.1/coupon/get" and r.latency_ms >= 0 for r in records)


async def test_observer_sees_unknown_write() -> None:
    records: list[CallRecord] = []
    async with make_client(Recorder(httpx.ReadTimeout("slow")), observer=records.append) as client:
        await client.redeem("A", CUSTOMER)
    # What cut it short is kept: metrics count it as code="timeout", as for a read.
    assert [(r.outcome, r.code) for r in records] == [("unknown", "timeout")]


@pytest.mark.parametrize("codes", [[], [f"C{i}" for i in range(101)]])
async def test_get_rejects_bad_code_counts(codes: list[str]) -> None:
    recorder = Recorder(reply(GET_OK))
    async with make_client(recorder) as client:
        with pytest.raises(ValueError, match="1 to 100"):
            await client.get(codes)
    assert recorder.requests == []


def test_credentials_never_in_repr() -> None:
    assert "s3cret" not in repr(BasicAuth("u", SecretStr("s3cret")))
    assert "sec" not in repr(OAuth(BASE, SecretStr("key"), SecretStr("sec")))


class TestReviewFindings:
    """Money-safety edges a review found."""

    async def test_gateway_503_page_on_write_is_unknown(self) -> None:
        recorder = Recorder(httpx.Response(503, text="upstream connect error or disconnect/reset"))
        async with make_client(recorder) as client:
            assert isinstance(await client.redeem("A", CUSTOMER), OutcomeUnknown)

    async def test_capillary_busy_521_on_write_is_a_plain_failure(self) -> None:
        body = {
            "response": {"status": {"success": False, "code": 521, "message": "Concurrent actions"}}
        }
        async with make_client(Recorder(reply(body))) as client:
            with pytest.raises(CapillaryRequestError):
                await client.redeem("A", CUSTOMER)

    async def test_ambiguous_item_code_on_write_is_unknown(self) -> None:
        body = {
            "response": {
                "status": {"success": False, "code": 500},
                "coupons": {
                    "coupon": {"code": "A", "item_status": {"success": False, "code": 683}}
                },
            }
        }
        async with make_client(Recorder(reply(body, 500))) as client:
            assert isinstance(await client.redeem("A", CUSTOMER), OutcomeUnknown)

    async def test_undecodable_body_is_a_typed_error_and_unknown_for_writes(self) -> None:
        async with make_client(Recorder(httpx.DecodingError("bad gzip"))) as client:
            assert isinstance(await client.issue("1001", CUSTOMER), OutcomeUnknown)

    async def test_token_failure_on_write_is_a_plain_failure(self) -> None:
        recorder = Recorder(httpx.Response(502, text="bad gateway"))
        async with make_client(
            recorder, auth=OAuth(BASE, SecretStr("k"), SecretStr("s"))
        ) as client:
            with pytest.raises(CapillaryRequestError):
                await client.issue("1001", CUSTOMER)
        assert recorder.api_requests() == []

    async def test_resend_is_not_repeated_after_a_lost_answer(self) -> None:
        recorder = Recorder(httpx.ReadTimeout("slow"), reply(GET_OK))
        async with make_client(recorder) as client:
            with pytest.raises(CapillaryTransportError):
                await client.resend("A", CUSTOMER)
        assert len(recorder.requests) == 1

    async def test_resend_is_retried_when_nothing_was_sent(self) -> None:
        resent = {
            "response": {
                "status": {"success": "true", "code": "200"},
                "coupons": {
                    "coupon": [{"code": "A", "item_status": {"success": "true", "code": "700"}}]
                },
            }
        }
        recorder = Recorder(httpx.ConnectError("refused"), reply(resent))
        async with make_client(recorder) as client:
            assert (await client.resend("A", CUSTOMER)).code == "A"
        assert len(recorder.requests) == 2

    async def test_5xx_with_definite_envelope_code_is_not_retried(self) -> None:
        body = {"response": {"status": {"success": False, "code": 400, "message": "Invalid input"}}}
        recorder = Recorder(reply(body, 500))
        async with make_client(recorder) as client:
            with pytest.raises(CapillaryRequestError):
                await client.get("A")
        assert len(recorder.requests) == 1


def test_customer_repr_is_masked() -> None:
    assert "919876543210" not in repr(CUSTOMER)
    assert "919876543210" not in repr([CUSTOMER])


def test_placeholder_oauth_does_not_override_basic() -> None:
    from bot.capillary.client import auth_from_settings
    from bot.settings import CapillarySettings

    settings = CapillarySettings(
        _env_file=None,
        username="till",
        password=SecretStr("pw"),
        oauth_key=SecretStr(""),
        oauth_secret=SecretStr(""),
    )
    assert isinstance(auth_from_settings(settings, BASE), BasicAuth)
