"""The code catalogue covers Capillary's code page and speaks plain English."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.capillary import catalogue
from bot.capillary.catalogue import (
    ITEM_CODES,
    REQUEST_CODES,
    TRANSPORT,
    Category,
    Entry,
    Explanation,
    TransportFailure,
    explain_item,
    explain_lookup_miss,
    explain_request,
    explain_transport,
    is_retryable_item_code,
    is_retryable_request_code,
)

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "coupon-v1.1-api.md"
SHARED_SEED = Path(__file__).resolve().parents[3] / "shared/seed/coupon-v1.1-api.md"
ROW = re.compile(r"^\|\s*(\d{3})\s*\|\s*(.*?)\s*\|\s*$", re.MULTILINE)

EXTRA_ITEM_CODES = {629, 660, 683, 696}
REQUEST_CODES_EXPECTED = {
    *(201, 400, 401, 402, 403, 404, 405, 406, 407, 408),
    *(415, 429, 461, 500, 503, 521),
}
RETRYABLE_ITEM = {786, 787, *range(789, 795), 796, 797, 798}
RETRYABLE_REQUEST = {429, 461, 503, 521}
RETRYABLE_TRANSPORT = {
    TransportFailure.TIMEOUT,
    TransportFailure.CONNECTION_REFUSED,
    TransportFailure.RATE_LIMITED,
    TransportFailure.CIRCUIT_OPEN,
}
Explain = Callable[[int, str | None], Explanation]
JARGON = ("item_status", "http", "json", "null")


def seed_rows() -> dict[int, str]:
    """Every (code, description) row of the seed's tables, minus the 700 success rows."""
    rows = {int(code): text for code, text in ROW.findall(SEED.read_text(encoding="utf-8"))}
    rows.pop(700, None)
    return rows


def all_entries() -> list[tuple[str, Entry]]:
    return [
        *((f"item {code}", entry) for code, entry in ITEM_CODES.items()),
        *((f"request {code}", entry) for code, entry in REQUEST_CODES.items()),
        *((f"transport {failure}", entry) for failure, entry in TRANSPORT.items()),
    ]


def normalise(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".")


ENTRIES = all_entries()
ENTRY_IDS = [label for label, _ in ENTRIES]


def test_vendored_seed_matches_shared_copy() -> None:
    assert SEED.read_bytes()
    if SHARED_SEED.exists():
        assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_seed_table_parses() -> None:
    rows = seed_rows()
    assert len(rows) > 40
    assert rows[713] == "Coupon has expired"


def test_every_seed_error_code_is_in_item_codes() -> None:
    assert set(seed_rows()) - set(ITEM_CODES) == set()


def test_item_codes_are_seed_plus_extras_without_success() -> None:
    assert set(ITEM_CODES) == set(seed_rows()) | EXTRA_ITEM_CODES
    assert 700 not in ITEM_CODES


def test_request_codes_covered() -> None:
    assert REQUEST_CODES_EXPECTED - set(REQUEST_CODES) == set()
    assert 200 not in REQUEST_CODES


@pytest.mark.parametrize("failure", list(TransportFailure))
def test_every_transport_failure_covered(failure: TransportFailure) -> None:
    assert failure in TRANSPORT


@pytest.mark.parametrize(("label", "entry"), ENTRIES, ids=ENTRY_IDS)
def test_entry_has_sentence_and_next_step(label: str, entry: Entry) -> None:
    assert entry.sentence.strip()
    assert entry.next_step.strip()
    assert entry.sentence.endswith(".")
    assert entry.next_step.endswith(".")


@pytest.mark.parametrize(("label", "entry"), ENTRIES, ids=ENTRY_IDS)
def test_entry_has_no_jargon(label: str, entry: Entry) -> None:
    for word in JARGON:
        assert word not in entry.sentence.lower()
        assert word not in entry.next_step.lower()


@pytest.mark.parametrize(("code", "description"), sorted(seed_rows().items()))
def test_sentence_is_ours_not_the_seeds(code: int, description: str) -> None:
    assert normalise(ITEM_CODES[code].sentence) != normalise(description)


@pytest.mark.parametrize(("label", "entry"), ENTRIES, ids=ENTRY_IDS)
def test_only_transient_entries_say_retry_helps(label: str, entry: Entry) -> None:
    assert entry.retry_later_helps == (entry.category is Category.TRANSIENT)


@pytest.mark.parametrize("code", sorted(ITEM_CODES))
def test_item_retryability(code: int) -> None:
    assert is_retryable_item_code(code) == (code in RETRYABLE_ITEM)


@pytest.mark.parametrize("code", sorted(REQUEST_CODES))
def test_request_retryability(code: int) -> None:
    assert is_retryable_request_code(code) == (code in RETRYABLE_REQUEST)


@pytest.mark.parametrize("failure", list(TransportFailure))
def test_transport_retryability(failure: TransportFailure) -> None:
    assert explain_transport(failure).retry_later_helps == (failure in RETRYABLE_TRANSPORT)


@pytest.mark.parametrize("code", [0, 200, 700, 777, 999])
def test_unknown_codes_are_not_retryable(code: int) -> None:
    assert not is_retryable_item_code(code)
    assert not is_retryable_request_code(code)


@pytest.mark.parametrize(
    ("codes", "category"),
    [
        ({788, 795, 799}, Category.CONFIGURATION),
        ({740, 750, 742}, Category.BLOCKED),
        ({714, 728, 736, 738, 696}, Category.LIMIT),
        (RETRYABLE_ITEM, Category.TRANSIENT),
        ({713, 711, 702, 719}, Category.COUPON),
        ({701}, Category.CUSTOMER),
        ({718, 725, 735}, Category.REDEMPTION_RULE),
    ],
)
def test_item_categories(codes: set[int], category: Category) -> None:
    assert {code: ITEM_CODES[code].category for code in codes} == dict.fromkeys(codes, category)


@pytest.mark.parametrize(
    ("codes", "category"),
    [
        ({401, 403, 405, 406, 415}, Category.CONFIGURATION),
        (RETRYABLE_REQUEST, Category.TRANSIENT),
    ],
)
def test_request_categories(codes: set[int], category: Category) -> None:
    assert {code: REQUEST_CODES[code].category for code in codes} == dict.fromkeys(codes, category)


def test_request_500_does_not_blame_the_request() -> None:
    """ "All items failed" with no item saying why: seen in outages, not a verdict on the
    request, so the agent first tries again (a write's 500 is "unknown", told elsewhere)."""
    explained = explain_request(500)
    assert explained.sentence == "Capillary failed this request without saying why."
    assert explained.next_step.startswith("Try again in a minute; if it fails again, escalate")


def test_713_reads_like_the_ux_sketch() -> None:
    explanation = explain_item(713, "Coupon has expired")
    assert explanation.sentence == "This coupon has expired."
    assert "/coupon issue" in explanation.next_step


def test_738_quotes_capillarys_days() -> None:
    message = "Cannot redeem the coupon. Please wait for 3 days to redeem this coupon again"
    explanation = explain_item(738, message)
    assert explanation.category is Category.LIMIT
    assert message in explanation.sentence
    assert explain_item(738).sentence == ITEM_CODES[738].sentence


@pytest.mark.parametrize(
    ("explain", "code"),
    [(explain_item, 738), (explain_item, 777), (explain_request, 777)],
)
def test_a_customer_in_capillarys_quoted_words_is_masked(explain: Explain, code: int) -> None:
    # The sentence is shown in the thread, on the card and in its pre-check line.
    said = "Customer 919876543210 (riya@example.com) is blocked from redemption"
    explanation = explain(code, said)
    assert "919876543210" not in explanation.sentence
    assert "riya@example.com" not in explanation.sentence
    assert "••••3210" in explanation.sentence
    assert explanation.capillary_message == said  # kept as sent; the audit display scrubs it


@pytest.mark.parametrize("explain", [explain_item, explain_request])
def test_unknown_code_with_message(explain: Explain) -> None:
    explanation = explain(777, "Something odd: 42%")
    assert explanation.known is False
    assert explanation.category is Category.UNKNOWN
    assert not explanation.retry_later_helps
    assert "777" in explanation.sentence
    assert "Something odd: 42%" in explanation.sentence
    assert explanation.capillary_message == "Something odd: 42%"
    assert explanation.code == "777"
    assert "request id" in explanation.next_step


@pytest.mark.parametrize("explain", [explain_item, explain_request])
def test_unknown_code_without_message(explain: Explain) -> None:
    explanation = explain(777, None)
    assert explanation.known is False
    assert "777" in explanation.sentence
    assert explanation.capillary_message is None
    assert explanation.next_step


@pytest.mark.parametrize("code", sorted(ITEM_CODES))
def test_explain_item_keeps_capillary_message(code: int) -> None:
    message = f"  Capillary's text for {code}  "
    explanation = explain_item(code, message)
    assert explanation.capillary_message == message
    assert explanation.known is True
    assert explanation.source == "item"
    assert explanation.code == str(code)
    assert explanation.category is ITEM_CODES[code].category


@pytest.mark.parametrize("code", sorted(REQUEST_CODES))
def test_explain_request_keeps_capillary_message(code: int) -> None:
    explanation = explain_request(code, "All requests have failed due to errors")
    assert explanation.capillary_message == "All requests have failed due to errors"
    assert explanation.known is True
    assert explanation.source == "request"
    assert explanation.sentence == REQUEST_CODES[code].sentence


@pytest.mark.parametrize("failure", list(TransportFailure))
def test_explain_transport_keeps_detail(failure: TransportFailure) -> None:
    explanation = explain_transport(failure, "ReadTimeout('timed out')")
    assert explanation.capillary_message == "ReadTimeout('timed out')"
    assert explanation.code == failure.value
    assert explanation.source == "transport"
    assert explanation.known is True
    assert explain_transport(failure).capillary_message is None


def test_public_names_are_exported() -> None:
    for name in catalogue.__all__:
        assert hasattr(catalogue, name)


def test_a_lookup_miss_is_no_such_coupon_under_capillarys_code() -> None:
    said = "Both coupon code and validation code are invalid"
    explanation = explain_lookup_miss(705, said)
    assert (explanation.code, explanation.sentence) == ("705", "No coupon with this code exists.")
    assert explanation.capillary_message == said
    assert explain_lookup_miss(None).code == "705"
    assert explain_lookup_miss(713).sentence == explain_item(713).sentence  # others as they are
