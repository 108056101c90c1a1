"""Reading Capillary's two-level envelope. Pure functions: bytes in, typed results or errors out.

::

    {"response": {"status": {"success": …, "code": …, "message": …},
                  <payload at an endpoint-specific path>: {… "item_status": {…}} or [ … ]}}

What the notes (``capillary-v1.1.md``) document and this module survives: status fields as
strings, booleans or ints; a payload that is an object or an array; HTTP 500 carrying a
normal envelope; ``id: -1`` items for unmatched codes; missing or empty fields; the older
``series_info`` nesting. Anything else raises one of :mod:`bot.capillary.errors` — never a
``KeyError``, ``TypeError`` or pydantic error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError

from bot.capillary.catalogue import explain_item, explain_lookup_miss, is_retryable_item_code
from bot.capillary.errors import (
    CapillaryItemError,
    CapillaryProtocolError,
    CapillaryRequestError,
)
from bot.capillary.models import (
    CouponDetails,
    CouponLookup,
    IssuedCoupon,
    ItemStatus,
    MissingCoupon,
    Redeemability,
    RedeemedCoupon,
    ResentCoupon,
    Series,
    to_bool,
    to_int,
    to_text,
)

__all__ = [
    "Endpoint",
    "Envelope",
    "RequestStatus",
    "decode",
    "parse_get",
    "parse_is_redeemable",
    "parse_issue",
    "parse_redeem",
    "parse_resend",
    "parse_series",
    "parse_series_list",
]

M = TypeVar("M", bound=BaseModel)
Item = dict[str, Any]


class Endpoint(StrEnum):
    """The six coupon endpoints, as paths under the cluster host."""

    ISSUE = "/v1.1/coupon/issue"
    RESEND = "/v1.1/coupon/resend"
    GET = "/v1.1/coupon/get"
    SERIES = "/v1.1/coupon/series"
    IS_REDEEMABLE = "/v1.1/coupon/isredeemable"
    REDEEM = "/v1.1/coupon/redeem"


# Where each endpoint puts its items (note issue's singular ``coupon``).
PAYLOAD_PATHS: Mapping[Endpoint, tuple[str, ...]] = {
    Endpoint.ISSUE: ("coupon",),
    Endpoint.RESEND: ("coupons", "coupon"),
    Endpoint.GET: ("coupons", "coupon"),
    Endpoint.SERIES: ("series", "items", "item"),
    Endpoint.IS_REDEEMABLE: ("coupons", "redeemable"),
    Endpoint.REDEEM: ("coupons", "coupon"),
}

_SUCCESS_REQUEST_CODES = frozenset({200, 201})


@dataclass(frozen=True, slots=True)
class RequestStatus:
    success: bool
    code: int | None
    message: str | None

    @property
    def ok(self) -> bool:
        return self.code in _SUCCESS_REQUEST_CODES if self.code is not None else self.success


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded body: the request-level status and the raw ``response`` object."""

    status: RequestStatus
    response: Mapping[str, Any]
    http_status: int
    request_id: str | None

    def items(self, endpoint: Endpoint) -> list[Item]:
        """The endpoint's items, always as a list of objects (object → [object])."""
        node: Any = self.response
        for key in PAYLOAD_PATHS[endpoint]:
            node = node.get(key) if isinstance(node, dict) else None
        found = node if isinstance(node, list) else [node]
        return [item for item in found if isinstance(item, dict)]

    def verdict(self, endpoint: Endpoint) -> int | None:
        """The code that decided the call: the first item's code, else the request's."""
        items = self.items(endpoint)
        code = _item_status(items[0]).code if items else None
        return code if code is not None else self.status.code


def decode(body: bytes, *, http_status: int, request_id: str | None, endpoint: str) -> Envelope:
    """Decode a body into an :class:`Envelope`.

    A body that is not an envelope becomes :class:`CapillaryRequestError` when the HTTP
    status itself says what went wrong (401, 429, 5xx …), else :class:`CapillaryProtocolError`.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        document = None
    response = document.get("response") if isinstance(document, dict) else None
    status = response.get("status") if isinstance(response, dict) else None
    if not isinstance(response, dict) or not isinstance(status, dict):
        if http_status >= 400:
            raise CapillaryRequestError(
                http_status,
                None,
                http_status=http_status,
                from_envelope=False,
                endpoint=endpoint,
                request_id=request_id,
            )
        raise CapillaryProtocolError(_describe_body(body), endpoint=endpoint, request_id=request_id)
    return Envelope(_request_status(status), response, http_status, request_id)


def _describe_body(body: bytes) -> str:
    snippet = body[:60].decode("utf-8", "replace").replace("\n", " ")
    return f"not a Capillary envelope ({len(body)} bytes: {snippet!r})"


def _request_status(status: Mapping[str, Any]) -> RequestStatus:
    success = to_bool(status.get("success"))
    if success is None:
        success = to_bool(status.get("status"))
    return RequestStatus(bool(success), to_int(status.get("code")), to_text(status.get("message")))


def _item_status(item: Item) -> ItemStatus:
    raw = item.get("item_status")
    return ItemStatus.model_validate(raw if isinstance(raw, dict) else {})


def _raise_for_request(envelope: Envelope, endpoint: Endpoint) -> NoReturn:
    """A failed request with no item to explain it is a request-level error."""
    code = envelope.status.code
    raise CapillaryRequestError(
        code if code is not None else envelope.http_status,
        envelope.status.message,
        http_status=envelope.http_status,
        endpoint=endpoint.value,
        request_id=envelope.request_id,
    )


def _item_error(status: ItemStatus, envelope: Envelope, endpoint: Endpoint) -> CapillaryItemError:
    return CapillaryItemError(
        status.code if status.code is not None else 0,
        status.message,
        endpoint=endpoint.value,
        request_id=envelope.request_id,
    )


def _first_item(envelope: Envelope, endpoint: Endpoint) -> Item:
    """The first item; with none, the request error (or a protocol error if it "succeeded")."""
    items = envelope.items(endpoint)
    if items:
        return items[0]
    if not envelope.status.ok:
        _raise_for_request(envelope, endpoint)
    raise CapillaryProtocolError(
        f"success without a payload at {'.'.join(PAYLOAD_PATHS[endpoint])}",
        endpoint=endpoint.value,
        request_id=envelope.request_id,
    )


def _single_item(envelope: Envelope, endpoint: Endpoint) -> Item:
    """The one item of a single-item call; its item error or the request error is raised.

    The item's own verdict (a code, or at least a success flag) decides. An item without a
    verdict follows the request status: success, or the request-level error.
    """
    item = _first_item(envelope, endpoint)
    status = _item_status(item)
    has_verdict = status.code is not None or status.success is not None
    if has_verdict and not status.ok:
        raise _item_error(status, envelope, endpoint)
    if not has_verdict and not envelope.status.ok:
        _raise_for_request(envelope, endpoint)
    return item


def _validate(model: type[M], item: Item, envelope: Envelope, endpoint: Endpoint) -> M:
    try:
        return model.model_validate({**item, "request_id": envelope.request_id})
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()[:3])
        raise CapillaryProtocolError(
            f"unreadable {endpoint.name.lower()} item ({fields})",
            endpoint=endpoint.value,
            request_id=envelope.request_id,
        ) from None


def _single(model: type[M], endpoint: Endpoint) -> Callable[[Envelope], M]:
    def parse(envelope: Envelope) -> M:
        return _validate(model, _single_item(envelope, endpoint), envelope, endpoint)

    parse.__doc__ = f"Parse a ``{endpoint.value}`` envelope into :class:`{model.__name__}`."
    return parse


parse_issue = _single(IssuedCoupon, Endpoint.ISSUE)
parse_redeem = _single(RedeemedCoupon, Endpoint.REDEEM)
parse_resend = _single(ResentCoupon, Endpoint.RESEND)
parse_series = _single(Series, Endpoint.SERIES)


def parse_series_list(envelope: Envelope) -> list[Series]:
    """Parse ``coupon/series`` without an id (every series); failed items are skipped."""
    items = envelope.items(Endpoint.SERIES)
    if not items and not envelope.status.ok:
        _raise_for_request(envelope, Endpoint.SERIES)
    return [
        _validate(Series, item, envelope, Endpoint.SERIES)
        for item in items
        if _item_status(item).ok
    ]


def parse_is_redeemable(envelope: Envelope) -> Redeemability:
    """Parse ``coupon/isredeemable``. "Not redeemable" is an answer, with its reason.

    Redeemable needs the flag and, when there is one, a success code. Item codes that mean
    "try again later" are raised instead, so the caller may retry.
    """
    item = _first_item(envelope, Endpoint.IS_REDEEMABLE)
    status = _item_status(item)
    flag = to_bool(item.get("is_redeemable"))
    code_ok = status.code is None or status.ok
    redeemable = bool(flag) and code_ok
    if not redeemable and status.code is not None and is_retryable_item_code(status.code):
        raise _item_error(status, envelope, Endpoint.IS_REDEEMABLE)
    reason = None
    if not redeemable:
        reason = explain_item(status.code if status.code and not status.ok else 0, status.message)
    data = {"code": "", **item, "is_redeemable": redeemable, "reason": reason}
    return _validate(Redeemability, data, envelope, Endpoint.IS_REDEEMABLE)


def parse_get(envelope: Envelope) -> CouponLookup:
    """Parse ``coupon/get``: matched coupons, and the codes Capillary could not match.

    A "try again later" item code anywhere is raised so that the caller may retry.
    """
    items = envelope.items(Endpoint.GET)
    if not items and not envelope.status.ok:
        _raise_for_request(envelope, Endpoint.GET)
    found: list[CouponDetails] = []
    missing: list[MissingCoupon] = []
    for item in items:
        status = _item_status(item)
        if status.code is not None and is_retryable_item_code(status.code):
            raise _item_error(status, envelope, Endpoint.GET)
        if status.ok and to_int(item.get("id")) != -1:
            found.append(_validate(CouponDetails, item, envelope, Endpoint.GET))
        else:
            code = to_text(item.get("code")) or "?"
            missing.append(
                MissingCoupon(
                    code=code, explanation=explain_lookup_miss(status.code, status.message)
                )
            )
    return CouponLookup(
        request_id=envelope.request_id, coupons=tuple(found), missing=tuple(missing)
    )
