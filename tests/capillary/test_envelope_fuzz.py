"""Fed arbitrary JSON, the parser raises only the project's own typed errors."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.capillary.envelope import (
    PAYLOAD_PATHS,
    Endpoint,
    decode,
    parse_get,
    parse_is_redeemable,
    parse_issue,
    parse_redeem,
    parse_resend,
    parse_series,
    parse_series_list,
)
from bot.capillary.errors import CapillaryError

PARSERS = {
    Endpoint.ISSUE: parse_issue,
    Endpoint.REDEEM: parse_redeem,
    Endpoint.RESEND: parse_resend,
    Endpoint.GET: parse_get,
    Endpoint.SERIES: parse_series,
    Endpoint.IS_REDEEMABLE: parse_is_redeemable,
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "true",
            "false",
            "700",
            "713",
            "-1",
            "NULL",
            "",
            "31-12-2026",
            "2026-12-31",
            "1e999",
            "1e9999999",
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "code",
        "id",
        "success",
        "status",
        "message",
        "item_status",
        "series_id",
        "valid_till",
        "is_redeemable",
        "redemption_info",
        "transaction",
        "customer",
        "series_info",
        "redemption_id",
        "coupons",
        "value",
    ]
)
item_like = st.recursive(
    st.dictionaries(field_names, scalars, max_size=8),
    lambda children: st.dictionaries(
        field_names, children | scalars | st.lists(children, max_size=3), max_size=8
    ),
    max_leaves=30,
)


def nest(path: tuple[str, ...], payload: Any) -> dict[str, Any]:
    node: Any = payload
    for key in reversed(path):
        node = {key: node}
    return node  # type: ignore[no-any-return]


def run_all_parsers(body: bytes, http_status: int) -> None:
    for endpoint, parse in PARSERS.items():
        with contextlib.suppress(CapillaryError):
            envelope = decode(
                body, http_status=http_status, request_id="r", endpoint=endpoint.value
            )
            parse(envelope)  # type: ignore[operator]
    with contextlib.suppress(CapillaryError):
        parse_series_list(decode(body, http_status=http_status, request_id="r", endpoint="series"))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(document=json_values, http_status=st.sampled_from([200, 400, 401, 500, 502]))
def test_arbitrary_json(document: Any, http_status: int) -> None:
    run_all_parsers(json.dumps(document).encode(), http_status)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.dictionaries(
        st.sampled_from(["success", "code", "message", "status"]), scalars, max_size=4
    ),
    endpoint=st.sampled_from(list(Endpoint)),
    payload=st.one_of(item_like, st.lists(item_like, max_size=3), json_values),
    http_status=st.sampled_from([200, 500]),
)
def test_envelope_shaped_json(
    status: dict[str, Any], endpoint: Endpoint, payload: Any, http_status: int
) -> None:
    response = {"status": status, **nest(PAYLOAD_PATHS[endpoint], payload)}
    run_all_parsers(json.dumps({"response": response}).encode(), http_status)


@settings(max_examples=200)
@given(body=st.binary(max_size=200))
def test_arbitrary_bytes(body: bytes) -> None:
    run_all_parsers(body, 200)


def test_deeply_nested_json_is_a_protocol_error() -> None:
    run_all_parsers(b"[" * 100_000 + b"]" * 100_000, 200)
