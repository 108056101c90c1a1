"""aiohttp handlers for the six V1.1 coupon endpoints and the OAuth token endpoint."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any

from aiohttp import web

from bot.sandbox.capillary import codes, envelope
from bot.sandbox.capillary.context import TRANSIENT, BadRequest, context, json_body, reply
from bot.sandbox.capillary.envelope import CodeCase, Details
from bot.sandbox.capillary.state import CustomerRef, Outcome, RedeemRequest, parse_amount

_CUSTOMER_HINT = "mobile, email, external_id, id, card_number or card_external_id"
_CASES: tuple[CodeCase, ...] = ("UPPER", "LOWER", "AS_IT_IS")


def _outcome(request: web.Request, operation: Callable[[], Outcome]) -> Outcome:
    """Run the business operation, unless a transient fault answers for it."""
    code = request.get(TRANSIENT)
    return Outcome(code) if code is not None else operation()


# ---- input parsing ---------------------------------------------------------------------


def _coupon_items(body: Any) -> list[Mapping[str, Any]]:
    root = body.get("root") if isinstance(body, dict) else None
    coupon = root.get("coupon") if isinstance(root, dict) else None
    items = coupon if isinstance(coupon, list) else [] if coupon is None else [coupon]
    if not items or not all(isinstance(item, dict) for item in items):
        raise BadRequest('Request body must be {"root": {"coupon": {...} or [{...}]}}')
    return items


def _body_customer(item: Mapping[str, Any], request: web.Request) -> CustomerRef:
    raw = item.get("customer")
    ref = CustomerRef.from_mapping(raw) if isinstance(raw, dict) else CustomerRef()
    return ref or _query_customer(request)


def _query_customer(request: web.Request) -> CustomerRef:
    ref = CustomerRef.from_mapping(request.query)
    if not ref:
        raise BadRequest(f"Customer identifier is required ({_CUSTOMER_HINT})")
    return ref


def _codes(request: web.Request) -> list[str]:
    asked = [c.strip() for c in request.query.get("code", "").split(",") if c.strip()]
    if not asked:
        raise BadRequest("Coupon code is required (code=...)")
    return asked


def _case(request: web.Request) -> CodeCase:
    raw = request.query.get("coupon_code_case", "UPPER").strip().upper() or "UPPER"
    for case in _CASES:
        if case == raw:
            return case
    raise BadRequest("coupon_code_case must be LOWER, UPPER or AS_IT_IS")


def _issued_to(request: web.Request) -> set[int] | None:
    raw = request.query.get("issuedToIds", "").strip()
    if not raw:
        return None
    try:
        return {int(part) for part in raw.split(",") if part.strip()}
    except ValueError as exc:
        raise BadRequest("issuedToIds must be comma-separated customer ids") from exc


def _details(request: web.Request) -> Details:
    raw = request.query.get("details", "").strip().lower()
    return "extended" if raw == "extended" else "true" if raw == "true" else ""


def _transaction(item: Mapping[str, Any]) -> tuple[str | None, str | None]:
    raw = item.get("transaction")
    if isinstance(raw, list):
        raw = raw[0] if raw else {}
    txn: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    number = str(txn.get("number") or "").strip() or None
    amount = txn.get("amount")
    return number, None if amount is None else str(amount)


def _issue_ask(item: Mapping[str, Any], request: web.Request) -> tuple[object, CustomerRef]:
    series_id = item.get("series_id")
    if series_id is None or str(series_id).strip() == "":
        raise BadRequest("series_id is required for every coupon")
    return series_id, _body_customer(item, request)


def _redeem_request(item: Mapping[str, Any], request: web.Request) -> RedeemRequest:
    code = str(item.get("code") or "").strip()
    if not code:
        raise BadRequest("Coupon code is required for every coupon")
    number, amount = _transaction(item)
    validation = str(item.get("validation_code") or "").strip() or None
    return RedeemRequest(code, _body_customer(item, request), validation, number, amount)


def _safe_amount(raw: str | None) -> Decimal | None:
    try:
        return parse_amount(raw)
    except ValueError:
        return None


# ---- endpoints -------------------------------------------------------------------------


async def issue(request: web.Request) -> web.Response:
    """POST /v1.1/coupon/issue (item failures still answer HTTP 200)."""
    state = context(request).state
    asked = [_issue_ask(item, request) for item in _coupon_items(await json_body(request))]
    outcomes = [_outcome(request, partial(state.issue, s, r)) for s, r in asked]
    return reply(envelope.issue(outcomes, asked))


async def redeem(request: web.Request) -> web.Response:
    """POST /v1.1/coupon/redeem (HTTP 500 when every coupon failed)."""
    state = context(request).state
    items = _coupon_items(await json_body(request))
    asks = [_redeem_request(item, request) for item in items]
    outcomes = [_outcome(request, partial(state.redeem, a)) for a in asks]
    bodies = [
        envelope.redeem_item(o, (a.code, a.customer), (a.bill_number, _safe_amount(a.amount)))
        for o, a in zip(outcomes, asks, strict=True)
    ]
    status = 500 if envelope.request_code(outcomes) == 500 else 200
    return reply(envelope.redeem(bodies, outcomes), status=status)


async def resend(request: web.Request) -> web.Response:
    """GET /v1.1/coupon/resend."""
    state = context(request).state
    code = _codes(request)[0]
    ref = _query_customer(request)
    return reply(envelope.resend(_outcome(request, lambda: state.resend(code, ref)), code))


async def get(request: web.Request) -> web.Response:
    """GET /v1.1/coupon/get (unknown codes come back as id -1 items)."""
    state = context(request).state
    asked, case, issued_to = _codes(request), _case(request), _issued_to(request)
    failure = request.get(TRANSIENT)
    found = [None] * len(asked) if failure else state.lookup(asked, issued_to)
    return reply(envelope.get(state, asked, found, case, failure))


async def series(request: web.Request) -> web.Response:
    """GET /v1.1/coupon/series[?id=N] (object for one id, array for all)."""
    state = context(request).state
    asked = request.query.get("id", "").strip()
    failure = request.get(TRANSIENT)
    if failure is not None:
        return reply(envelope.series_failure(asked, failure))
    if not asked:
        return reply(envelope.series_all(state.all_series()))
    found = state.find_series(asked)
    if found is None:
        return reply(envelope.series_failure(asked, codes.INVALID_SERIES))
    return reply(envelope.series_one(found))


async def isredeemable(request: web.Request) -> web.Response:
    """GET /v1.1/coupon/isredeemable (not redeemable is still request status 200)."""
    state = context(request).state
    asked, ref = _codes(request), _query_customer(request)
    case, details = _case(request), _details(request)
    validation = request.query.get("validation_code", "").strip() or None
    items = []
    for code in asked:
        outcome = _outcome(request, partial(state.check, code, ref, validation))
        items.append(envelope.redeemable_item(state, outcome, (code, ref), case, details))
    return reply(envelope.isredeemable(items))


async def oauth_token(request: web.Request) -> web.Response:
    """POST /v3/oauth/token/generate with {"key", "secret"}."""
    tokens = context(request).tokens
    try:
        body = await json_body(request)
    except BadRequest as exc:
        return reply({"data": None, "errors": [{"code": 400, "message": str(exc)}]}, 400)
    body = body if isinstance(body, dict) else {}
    token = tokens.generate(body.get("key"), body.get("secret"))
    if token is None:
        errors = [{"code": 401, "message": "Invalid key/secret"}]
        return reply({"data": None, "errors": errors}, status=401)
    data = {"accessToken": token, "ttlSeconds": tokens.ttl_seconds}
    return reply({"data": data, "errors": None})
