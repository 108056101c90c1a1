"""The Capillary Coupon V1.1 client: one shared ``httpx.AsyncClient``, six endpoints.

Reads (get, series, is_redeemable, resend) are retried with jittered backoff when asking
again may help (:mod:`bot.capillary.retry`). Writes (issue, redeem) are sent exactly once:
when the request may have reached Capillary but no answer came back (a read timeout, a
dropped connection, a gateway error page), the result is :class:`OutcomeUnknown`, which
callers must reconcile with ``get``/``is_redeemable`` before anyone tries again.

Every result and error carries the ``X-Cap-Requestid`` of the call; every HTTP attempt is
reported to the optional ``observer`` (audit log, metrics) as a :class:`CallRecord`.

A circuit breaker (:mod:`bot.capillary.breaker`) watches every attempt: once Capillary has
failed repeatedly (no answer, an unreadable one, a server error; never a coupon-level
refusal), calls fail at once with :attr:`TransportFailure.CIRCUIT_OPEN`, sending nothing,
until a probe after the cool-down gets an answer. A write is never that probe: when one
arrives as the circuit is half-open, a harmless ``coupon/series`` read goes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, TypeVar

import httpx

from bot.capillary.auth import Auth, BasicAuth, OAuth, normalize_base_url
from bot.capillary.breaker import Admission, CircuitBreaker
from bot.capillary.catalogue import ITEM_CODES, REQUEST_CODES, TransportFailure
from bot.capillary.envelope import (
    Endpoint,
    Envelope,
    decode,
    parse_get,
    parse_is_redeemable,
    parse_issue,
    parse_redeem,
    parse_resend,
    parse_series,
    parse_series_list,
)
from bot.capillary.errors import (
    CapillaryError,
    CapillaryItemError,
    CapillaryProtocolError,
    CapillaryRequestError,
    CapillaryTransportError,
)
from bot.capillary.identifiers import CustomerId, coupon_code, parse_series_id
from bot.capillary.models import (
    CouponLookup,
    IssuedCoupon,
    OutcomeUnknown,
    Redeemability,
    RedeemedCoupon,
    ResentCoupon,
    Series,
)
from bot.capillary.retry import RetryPolicy, is_retryable
from bot.settings import SANDBOX, CapillarySettings, is_placeholder

__all__ = [
    "CallObserver",
    "CallRecord",
    "CapillaryClient",
    "auth_from_settings",
    "is_ambiguous",
]

T = TypeVar("T")
REQUEST_ID_HEADER = "X-Cap-Requestid"
_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}
_MAX_GET_CODES = 100  # Capillary refuses more than 100 coupons in one call (code 629)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP attempt against Capillary, for the audit log and metrics."""

    endpoint: str
    method: str
    attempt: int
    latency_ms: float
    http_status: int | None
    request_id: str | None
    code: str | None  # the item code, request code or transport failure that decided it
    outcome: Literal["ok", "error", "unknown"]


CallObserver = Callable[[CallRecord], None]


@dataclass(frozen=True, slots=True)
class _Call:
    method: Literal["GET", "POST"]
    endpoint: Endpoint
    params: Mapping[str, str] = field(repr=False)  # customer identifiers
    body: Mapping[str, Any] | None = field(default=None, repr=False)


class _Unknown(Exception):
    """A write whose outcome cannot be known (internal: becomes OutcomeUnknown)."""

    def __init__(self, reason: str, request_id: str | None = None, code: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.request_id = request_id
        self.code = code  # what cut it short (``timeout``, ``500``…), for the call's record


def auth_from_settings(settings: CapillarySettings, base_url: str) -> Auth:
    """OAuth when a key and secret are set, else Basic with the till's username and password."""
    key, secret = settings.oauth_key, settings.oauth_secret
    if (
        key is not None
        and secret is not None
        and not (is_placeholder(key) or is_placeholder(secret))
    ):
        return OAuth(base_url, key, secret)
    username = settings.username.get_secret_value() if settings.username else ""
    if username and settings.password is not None and not is_placeholder(settings.password):
        return BasicAuth(username, settings.password)
    raise ValueError(
        "Capillary credentials are missing: set CAPILLARY_OAUTH_KEY and CAPILLARY_OAUTH_SECRET, "
        "or CAPILLARY_USERNAME and CAPILLARY_PASSWORD."
    )


class CapillaryClient:
    """Capillary's six v1.1 coupon endpoints. Use as ``async with`` or call :meth:`aclose`."""

    def __init__(
        self,
        base_url: str,
        auth: Auth,
        *,
        timeout_seconds: float = 10.0,
        retry: RetryPolicy | None = None,
        observer: CallObserver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_in_flight: int = 32,
        breaker: CircuitBreaker | None = None,
    ):
        self.base_url = normalize_base_url(base_url)
        self._auth = auth
        #: Shared by every endpoint; ``/healthz`` reads its state.
        self.breaker = breaker or CircuitBreaker()
        self._retry = retry or RetryPolicy()
        self._observer = observer
        self._sleep = sleep
        # httpcore scans its whole queue against every connection on each request and each
        # release; with hundreds of requests queued inside it, that scan ate half the CPU.
        # Waiting here instead is free, and the timeout only starts once a slot is ours.
        self._slots = asyncio.Semaphore(max_in_flight)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=_HEADERS,
            timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
            limits=httpx.Limits(
                max_connections=max_in_flight, max_keepalive_connections=max_in_flight
            ),
            transport=transport,
        )

    @classmethod
    def from_settings(
        cls,
        settings: CapillarySettings,
        *,
        observer: CallObserver | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> CapillaryClient:
        """Build from settings (a cluster URL: the sandbox is wired by ``bot.server``)."""
        url = settings.base_url
        if not url or url == SANDBOX:
            raise ValueError(
                "CAPILLARY_BASE_URL must be a cluster URL here (the sandbox has its own)."
            )
        auth = auth_from_settings(settings, url)
        return cls(
            url,
            auth,
            timeout_seconds=settings.timeout_seconds,
            observer=observer,
            breaker=breaker,
        )

    async def __aenter__(self) -> CapillaryClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the six endpoints -------------------------------------------------------------

    async def issue(self, series_id: str, customer: CustomerId) -> IssuedCoupon | OutcomeUnknown:
        """Issue a coupon of ``series_id`` to ``customer``. Sent once; never retried."""
        coupon = {"series_id": parse_series_id(series_id), "customer": customer.as_params()}
        return await self._write(_Call("POST", Endpoint.ISSUE, {}, _root(coupon)), parse_issue)

    async def redeem(
        self,
        code: str,
        customer: CustomerId,
        *,
        bill_number: str | None = None,
        bill_amount: Decimal | None = None,
        validation_code: str | None = None,
    ) -> RedeemedCoupon | OutcomeUnknown:
        """Redeem ``code`` for ``customer``, optionally against a bill. Sent once; never retried."""
        coupon: dict[str, Any] = {"code": coupon_code(code), "customer": customer.as_params()}
        if validation_code:
            coupon["validation_code"] = validation_code
        if bill_number is not None or bill_amount is not None:
            coupon["transaction"] = [_transaction(bill_number, bill_amount)]
        return await self._write(_Call("POST", Endpoint.REDEEM, {}, _root(coupon)), parse_redeem)

    async def get(
        self, codes: str | Sequence[str], *, issued_to_id: str | None = None
    ) -> CouponLookup:
        """Details of one or several coupons; unmatched codes come back in ``missing``."""
        wanted = [codes] if isinstance(codes, str) else list(codes)
        if not 1 <= len(wanted) <= _MAX_GET_CODES:
            raise ValueError(f"get takes 1 to {_MAX_GET_CODES} coupon codes, not {len(wanted)}.")
        params = {"code": ",".join(coupon_code(c) for c in wanted)}
        if issued_to_id is not None:
            params["issuedToIds"] = issued_to_id
        return await self._read(_Call("GET", Endpoint.GET, params), parse_get)

    async def series(self, series_id: str) -> Series:
        """One coupon series (raises :class:`CapillaryItemError` 707 when there is none)."""
        params = {"id": parse_series_id(series_id)}
        return await self._read(_Call("GET", Endpoint.SERIES, params), parse_series)

    async def list_series(self) -> list[Series]:
        """Every coupon series the till can see (``coupon/series`` without an id)."""
        return await self._read(_Call("GET", Endpoint.SERIES, {}), parse_series_list)

    async def is_redeemable(self, code: str, customer: CustomerId) -> Redeemability:
        """Whether ``customer`` can redeem ``code`` now; when not, ``reason`` says why."""
        # "extended": series_info then carries discount_type (is coupon_value ₹ or %?).
        params = {"code": coupon_code(code), "details": "extended", **customer.as_params()}
        return await self._read(_Call("GET", Endpoint.IS_REDEEMABLE, params), parse_is_redeemable)

    async def resend(self, code: str, customer: CustomerId) -> ResentCoupon:
        """Send ``code`` to ``customer`` again through the programme's channel (SMS/email)."""
        params = {"code": coupon_code(code), **customer.as_params()}
        # A GET that sends an SMS: retried only when Capillary surely did nothing.
        return await self._read(
            _Call("GET", Endpoint.RESEND, params), parse_resend, idempotent=False
        )

    # --- the request loop ----------------------------------------------------------------

    async def _read(
        self, call: _Call, parse: Callable[[Envelope], T], *, idempotent: bool = True
    ) -> T:
        attempt = 1
        while True:
            try:
                return await self._exchange(call, parse, attempt)
            except CapillaryError as error:
                retry = is_retryable(error) and (idempotent or not is_ambiguous(error))
                retry = retry and not _circuit_open(error)  # asking again at once can't help
                wait = self._retry.delay(attempt, error.retry_after) if retry else None
                if wait is None:
                    raise
            await self._sleep(wait)
            attempt += 1

    async def _write(self, call: _Call, parse: Callable[[Envelope], T]) -> T | OutcomeUnknown:
        try:
            return await self._exchange(call, parse, attempt=1)
        except _Unknown as unknown:
            return OutcomeUnknown(call.endpoint.value, unknown.reason, unknown.request_id)

    async def _exchange(self, call: _Call, parse: Callable[[Envelope], T], attempt: int) -> T:
        """One call, if the circuit breaker lets it go."""
        if not await self._admitted(call):
            raise self._unavailable(call)
        return await self._attempt(call, parse, attempt)

    async def _admitted(self, call: _Call) -> bool:
        admission = self.breaker.admit()
        if admission is Admission.PROBE and call.method == "POST":
            await self._probe()  # a write is never the probe: it must not be sent twice
            admission = self.breaker.admit()
            return admission is Admission.PASS  # Capillary answered the probe
        return admission is not Admission.REJECT

    async def _probe(self) -> None:
        """A harmless read whose result settles the breaker (the one ``coupon-bot check`` uses)."""
        with contextlib.suppress(CapillaryError):
            await self._attempt(_Call("GET", Endpoint.SERIES, {}), _any_answer, attempt=1)

    def _unavailable(self, call: _Call) -> CapillaryTransportError:
        snapshot = self.breaker.snapshot()
        detail = (
            f"{snapshot.failures} failures in a row; next try in {math.ceil(snapshot.retry_in)} s"
        )
        failure = TransportFailure.CIRCUIT_OPEN
        return CapillaryTransportError(failure, detail, sent=False, endpoint=call.endpoint.value)

    async def _attempt(self, call: _Call, parse: Callable[[Envelope], T], attempt: int) -> T:
        """One call (plus one re-authentication on a 401), observed and reported to the breaker."""
        started = time.perf_counter()
        response: httpx.Response | None = None
        try:
            response = await self._send(call)
            envelope = self._decode(call, response)
            result = parse(envelope)
        except CapillaryError as error:
            self._settle(error)
            error.retry_after = _retry_after(response)
            if call.method == "POST" and is_ambiguous(error):
                unknown = _Unknown(_unknown_reason(error), error.request_id, error.code)
                self._observe(call, attempt, started, response, unknown)
                raise unknown from error
            self._observe(call, attempt, started, response, error)
            raise
        self._settle(None)
        self._observe(call, attempt, started, response, envelope.verdict(call.endpoint))
        return result

    def _settle(self, error: CapillaryError | None) -> None:
        if error is not None and _breaks_circuit(error):
            self.breaker.failed()
        else:
            self.breaker.succeeded()

    async def _send(self, call: _Call) -> httpx.Response:
        headers = await self._auth.headers(self._http)
        response = await self._transmit(call, headers)
        if response.status_code == 401 and self._auth.invalidate(headers):
            response = await self._transmit(call, await self._auth.headers(self._http))
        return response

    async def _transmit(self, call: _Call, headers: dict[str, str]) -> httpx.Response:
        params = {**call.params, "format": "json"}
        try:
            async with self._slots:
                return await self._http.request(
                    call.method, call.endpoint.value, params=params, json=call.body, headers=headers
                )
        except httpx.DecodingError as exc:
            raise CapillaryProtocolError(
                f"undecodable body ({exc})", endpoint=call.endpoint.value
            ) from exc
        except _NOT_SENT as exc:
            raise CapillaryTransportError(
                TransportFailure.CONNECTION_REFUSED,
                type(exc).__name__,
                sent=False,
                endpoint=call.endpoint.value,
            ) from exc
        except httpx.TransportError as exc:
            timed_out = isinstance(exc, httpx.TimeoutException)
            failure = TransportFailure.TIMEOUT if timed_out else TransportFailure.CONNECTION_REFUSED
            raise CapillaryTransportError(
                failure, type(exc).__name__, sent=True, endpoint=call.endpoint.value
            ) from exc

    def _decode(self, call: _Call, response: httpx.Response) -> Envelope:
        return decode(
            response.content,
            http_status=response.status_code,
            request_id=response.headers.get(REQUEST_ID_HEADER),
            endpoint=call.endpoint.value,
        )

    def _observe(
        self,
        call: _Call,
        attempt: int,
        started: float,
        response: httpx.Response | None,
        outcome: CapillaryError | _Unknown | int | None,
    ) -> None:
        if self._observer is None:
            return
        self._observer(
            CallRecord(
                endpoint=call.endpoint.value,
                method=call.method,
                attempt=attempt,
                latency_ms=(time.perf_counter() - started) * 1000,
                http_status=response.status_code if response is not None else None,
                request_id=response.headers.get(REQUEST_ID_HEADER)
                if response is not None
                else None,
                code=_outcome_code(outcome),
                outcome=_outcome_kind(outcome),
            )
        )


def _root(coupon: dict[str, Any]) -> dict[str, Any]:
    return {"root": {"coupon": [coupon]}}


def _transaction(number: str | None, amount: Decimal | None) -> dict[str, str]:
    txn = {}
    if number is not None:
        txn["number"] = number
    if amount is not None:
        txn["amount"] = f"{amount:.2f}"
    return txn


def _retry_after(response: httpx.Response | None) -> float | None:
    value = response.headers.get("Retry-After", "") if response is not None else ""
    return float(value) if value.strip().isdigit() else None


# Failures raised before a byte of the request left this process.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)
# Capillary's own request codes that refuse before doing any work (busy, try later).
_DEFINITE_5XX = frozenset({503, 521})
# Item codes that do not say whether the write happened ("unknown error"; a redemption
# whose follow-up event failed). Neither does a code the catalogue doesn't know.
_AMBIGUOUS_ITEM_CODES = frozenset({683, 730})
# Request codes that don't either: 407 is "unknown error" (item code 730's twin).
_AMBIGUOUS_REQUEST_CODES = frozenset({407})
# An issue's text message with the coupon couldn't be sent: nothing says no coupon was
# issued, and asking again could give the customer a second one. (For a resend the message
# is the action itself: there these are plain failures.)
_MESSAGE_NOT_SENT = frozenset({704, 724})


def is_ambiguous(error: CapillaryError) -> bool:
    """Whether a failed write (or a resend, which sends an SMS) may nevertheless have
    happened at Capillary."""
    if not error.sent:
        return False
    if isinstance(error, CapillaryRequestError):
        if not error.from_envelope:
            return (error.http_status or 0) >= 500  # a gateway page: no verdict at all
        code = error.status_code
        if code in _AMBIGUOUS_REQUEST_CODES or code not in REQUEST_CODES:
            return True
        return code >= 500 and code not in _DEFINITE_5XX
    if isinstance(error, CapillaryItemError):
        code = error.item_code  # 0: the item said it failed, with no code
        if code in _MESSAGE_NOT_SENT:
            return error.endpoint == Endpoint.ISSUE.value
        return code in _AMBIGUOUS_ITEM_CODES or (code != 0 and code not in ITEM_CODES)
    return True  # transport errors that were sent, unreadable answers


def _breaks_circuit(error: CapillaryError) -> bool:
    """Whether ``error`` says Capillary itself is failing (not that it refused this coupon)."""
    if isinstance(error, CapillaryTransportError):
        return error.failure in (TransportFailure.TIMEOUT, TransportFailure.CONNECTION_REFUSED)
    if isinstance(error, CapillaryProtocolError):
        return True  # a gateway's error page, a truncated body
    if isinstance(error, CapillaryRequestError):
        server_error = not error.from_envelope or error.status_code >= 500
        return (error.http_status or 0) >= 500 and server_error and error.status_code != 521
    return False  # an item code: Capillary answered about the coupon


def _circuit_open(error: CapillaryError) -> bool:
    return (
        isinstance(error, CapillaryTransportError)
        and error.failure is TransportFailure.CIRCUIT_OPEN
    )


def _any_answer(envelope: Envelope) -> Envelope:
    return envelope


def _unknown_reason(error: CapillaryError) -> str:
    if isinstance(error, CapillaryTransportError):
        if error.failure is TransportFailure.TIMEOUT:
            return "no answer before the timeout"
        return "the connection dropped before Capillary answered"
    if isinstance(error, CapillaryProtocolError):
        return "Capillary's answer could not be read"
    if isinstance(error, CapillaryItemError) and error.item_code in _MESSAGE_NOT_SENT:
        return "the text message with the coupon couldn't be sent, and Capillary didn't say more"
    if isinstance(error, CapillaryItemError) or (
        isinstance(error, CapillaryRequestError) and error.from_envelope and error.status_code < 500
    ):  # its code, for whoever escalates
        return f"Capillary answered with code {error.code}, which says neither yes nor no"
    return "Capillary reported a server error without saying what happened to the request"


def _outcome_code(outcome: object) -> str | None:
    if isinstance(outcome, CapillaryError | _Unknown):
        return outcome.code
    return str(outcome) if isinstance(outcome, int) else None


def _outcome_kind(outcome: object) -> Literal["ok", "error", "unknown"]:
    if isinstance(outcome, _Unknown):
        return "unknown"
    return "error" if isinstance(outcome, CapillaryError) else "ok"
