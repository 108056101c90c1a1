"""The channel's Block Kit: parent lines and thread results, as pure functions of outcomes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.audit import AuditOutcome
from bot.blocks.messages import STATUS_EMOJI, ParentStatus
from bot.blocks.results import SlackMessage, describe, parent_message, result_message, status_key
from bot.capillary.catalogue import (
    TransportFailure,
    explain_item,
    explain_request,
    explain_transport,
)
from bot.capillary.identifiers import parse_customer
from bot.capillary.models import (
    CouponDetails,
    IssuedCoupon,
    MissingCoupon,
    OutcomeUnknown,
    Redeemability,
    RedeemedCoupon,
    ResentCoupon,
    Series,
)
from bot.commands import (
    Check,
    Command,
    Get,
    Help,
    Issue,
    LogQuery,
    Pending,
    Redeem,
    Resend,
    SeriesInfo,
    Verb,
)
from bot.sandbox.slack.validation import check_message_blocks
from bot.service import (
    Checked,
    Failed,
    Issued,
    Known,
    Looked,
    Outcome,
    Redeemed,
    Resent,
    SeriesFound,
    Status,
    Unknown,
)

RAW_MOBILE = "919876543210"
RAW_EMAIL = "riya.sharma@example.com"
MOBILE = parse_customer("+" + RAW_MOBILE)
EMAIL = parse_customer(RAW_EMAIL)
REQUEST_ID = "5f2c8a7e-1d2b-4c3a-8f00-3e9d4a6b7c91"
SHORT_REQUEST_ID = "5f2c8a…7c91"
CHECKED_AT = datetime(2026, 11, 20, 14, 3, tzinfo=UTC)  # the bot's clock: aware
CHECKED = (  # each reader's own time; UTC where a client can't show one
    f"<!date^{int(CHECKED_AT.timestamp())}^{{date_short_pretty}} at {{time}}"
    "|20 Nov 2026, 14:03 UTC>"
)
# Whatever the raw identifiers look like inside a message, none of these may appear.
RAW_FRAGMENTS = (RAW_MOBILE, RAW_MOBILE[2:], "98765", RAW_EMAIL, "riya.sharma")


def coupon(code: str = "GOOD200", **extra: Any) -> CouponDetails:
    data: dict[str, Any] = {
        "id": "5501",
        "code": code,
        "series_id": "1001",
        "valid_till": "31-12-2026",
        "issued_on": "2026-11-02 10:00:00",
        "is_absolute": "true",
        "value": "200",
        "customer": {"mobile": RAW_MOBILE, "email": RAW_EMAIL, "external_id": "CUST-778899"},
        "issued_store": {"code": "S12", "name": "Store 12"},
        "request_id": REQUEST_ID,
    }
    data.update(extra)
    return CouponDetails.model_validate(data)


REDEEMED = coupon(
    redemption_info={
        "redeemed": True,
        "redeemed_on": "2026-11-20 14:02:00",
        "id": "88213",
        "transaction": {"bill_number": "B-1182"},
        "store": {"name": "Store 12"},
    }
)


def lost(endpoint: str) -> OutcomeUnknown:
    return OutcomeUnknown(endpoint, "no answer before the timeout", REQUEST_ID)


def redeemability(redeemable: bool, **extra: Any) -> Redeemability:
    return Redeemability.model_validate(
        {"code": "GOOD200", "is_redeemable": redeemable, "request_id": REQUEST_ID, **extra}
    )


REDEEM = Redeem("GOOD200", MOBILE, "B-1182", Decimal("1450"))
ISSUE = Issue("1001", EMAIL)
SERIES = Series.model_validate(
    {
        "id": "1001",
        "description": "Diwali welcome",
        "discount_type": "PERC",
        "discount_value": "10.00",
        "valid_till_date": "2026-12-31",
        "max_create": "-1",
        "is_validation_required": "0",
        "coupons": {"issued": "120", "redeemed": "45"},
        "request_id": REQUEST_ID,
    }
)

#: One of every outcome, with the code or series id each must name.
OUTCOMES: dict[str, tuple[Outcome, str]] = {
    "looked": (
        Looked(
            Get(("GOOD200", "NOPE1"), MOBILE),
            (REDEEMED,),
            (MissingCoupon(code="NOPE1", explanation=explain_item(702)),),
            REQUEST_ID,
        ),
        "GOOD200",
    ),
    "looked-nothing-found": (
        Looked(
            Get(("NOPE1",)), (), (MissingCoupon(code="NOPE1", explanation=explain_item(702)),), None
        ),
        "NOPE1",
    ),
    "series": (SeriesFound(SeriesInfo("1001"), SERIES), "1001"),
    "checked-ok": (
        Checked(
            Check("GOOD200", MOBILE),
            redeemability(
                True,
                redemptions_left="1",
                coupon_value="200",
                series_info={"discount_type": "ABS"},
            ),
        ),
        "GOOD200",
    ),
    "checked-unlimited": (
        Checked(Check("GOOD200", EMAIL), redeemability(True, redemptions_left="-1")),
        "GOOD200",
    ),
    "checked-no": (
        Checked(
            Check("GOOD200", MOBILE),
            redeemability(False, reason=explain_item(713, "Coupon Expired")),
        ),
        "GOOD200",
    ),
    "checked-no-reason": (
        Checked(Check("GOOD200", MOBILE), redeemability(False)),
        "GOOD200",
    ),
    "resent": (
        Resent(
            Resend("GOOD200", EMAIL),
            ResentCoupon.model_validate({"code": "GOOD200", "request_id": REQUEST_ID}),
        ),
        "GOOD200",
    ),
    "issued": (
        Issued(
            ISSUE,
            IssuedCoupon.model_validate(
                {
                    "code": "NEW777",
                    "series_id": "1001",
                    "discount_type": "ABS",
                    "discount_value": "100",
                    "valid_till": "2026-12-31",
                    "customer": {"email": RAW_EMAIL},
                    "request_id": REQUEST_ID,
                }
            ),
        ),
        "NEW777",
    ),
    "redeemed": (
        Redeemed(
            REDEEM,
            RedeemedCoupon.model_validate(
                {
                    "code": "GOOD200",
                    "redemption_id": "88213",
                    "is_absolute": "true",
                    "coupon_value": "200",
                    "customer": {"mobile": RAW_MOBILE},
                    "transaction": [{"number": "B-1182", "amount": "1450"}],
                    "request_id": REQUEST_ID,
                }
            ),
        ),
        "GOOD200",
    ),
    "failed-item": (
        Failed(Redeem("GOOD200", MOBILE), explain_item(711, "Coupon already redeemed"), REQUEST_ID),
        "GOOD200",
    ),
    "failed-request": (
        Failed(SeriesInfo("1001"), explain_request(401, "Invalid credentials"), REQUEST_ID),
        "1001",
    ),
    "failed-transport": (
        Failed(Get(("GOOD200",)), explain_transport(TransportFailure.TIMEOUT, "ReadTimeout")),
        "GOOD200",
    ),
    "failed-issue": (Failed(ISSUE, explain_item(722), REQUEST_ID), "1001"),
    "unknown-issue": (
        Unknown(ISSUE, lost("coupon/issue"), Known.CANNOT_TELL, CHECKED_AT),
        "1001",
    ),
    "unknown-redeem-happened": (
        Unknown(REDEEM, lost("coupon/redeem"), Known.HAPPENED, CHECKED_AT, REDEEMED),
        "GOOD200",
    ),
    "unknown-redeem-did-not-happen": (
        Unknown(REDEEM, lost("coupon/redeem"), Known.DID_NOT_HAPPEN, CHECKED_AT, coupon()),
        "GOOD200",
    ),
    "unknown-redeem-cannot-tell": (
        Unknown(REDEEM, lost("coupon/redeem"), Known.CANNOT_TELL, CHECKED_AT),
        "GOOD200",
    ),
}


def rendered(message: SlackMessage) -> str:
    """Everything Slack would receive, as one string."""
    return json.dumps(message.as_kwargs(), ensure_ascii=False)


def texts(message: SlackMessage) -> list[str]:
    """Every mrkdwn/plain text in the blocks, in order."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.as_kwargs()["blocks"])
    return found


def assert_valid(message: SlackMessage) -> None:
    blocks = [block.to_dict() for block in message.blocks]  # slack_sdk checks its limits
    assert 0 < len(blocks) <= 50
    assert check_message_blocks(blocks) == []  # and the emulator checks Slack's
    assert message.text.strip()


# ---- every outcome ------------------------------------------------------------------------


@pytest.mark.parametrize(("outcome", "subject"), OUTCOMES.values(), ids=OUTCOMES.keys())
def test_every_outcome_renders_valid_blocks_naming_its_subject(
    outcome: Outcome, subject: str
) -> None:
    message = result_message(outcome)

    assert_valid(message)
    assert subject in "\n".join(texts(message))


@pytest.mark.parametrize(("outcome", "subject"), OUTCOMES.values(), ids=OUTCOMES.keys())
def test_every_outcome_shows_customers_masked_only(outcome: Outcome, subject: str) -> None:
    everything = rendered(result_message(outcome)) + rendered(
        parent_message("U03AGENT", outcome.command, status_key(outcome))
    )

    for fragment in RAW_FRAGMENTS:
        assert fragment not in everything


def test_customers_appear_masked_where_shown() -> None:
    checked, _ = OUTCOMES["checked-ok"]
    resent, _ = OUTCOMES["resent"]

    assert "••••3210" in result_message(checked).text
    assert "r•••@example.com" in result_message(resent).text


# ---- lookups ------------------------------------------------------------------------------


def test_lookup_shows_the_coupon_for_people() -> None:
    looked, _ = OUTCOMES["looked"]
    shown = "\n".join(texts(result_message(looked)))

    assert "*GOOD200* — ₹200 off · series 1001" in shown
    assert "31 Dec 2026" in shown
    assert "2 Nov 2026, 10:00 at Store 12 to ••••3210" in shown
    assert "Yes, 20 Nov 2026, 14:02 at Store 12, bill B-1182" in shown
    assert "• *NOPE1*: That isn't a valid coupon code." in shown
    assert f"request id {SHORT_REQUEST_ID}" in shown


def test_lookup_of_a_percentage_coupon_not_yet_redeemed() -> None:
    percent = coupon("PCT10", is_absolute="false", value="10.00")
    shown = "\n".join(texts(result_message(Looked(Get(("PCT10",)), (percent,), (), None))))

    assert "*PCT10* — 10% off" in shown
    assert "Not redeemed yet" in shown


@pytest.mark.parametrize(
    ("as_of", "shown"),
    [
        (None, "31 Dec 2026"),  # the day of the lookup not known: nothing said
        (date(2026, 12, 31), "31 Dec 2026"),
        (date(2027, 1, 1), "31 Dec 2026"),  # over in UTC, maybe not in the org's zone
        (date(2027, 1, 2), "31 Dec 2026 · expired"),
    ],
)
def test_a_lookup_says_expired_once_the_day_is_over_everywhere(
    as_of: date | None, shown: str
) -> None:
    looked = Looked(Get(("GOOD200",)), (coupon(),), (), REQUEST_ID, as_of)
    fields = "\n".join(texts(result_message(looked)))
    assert f"*Valid till*\n{shown}\n" in fields + "\n"


def test_codes_not_shown_are_listed_as_such_not_as_unknown() -> None:
    """A coupon given to someone else exists: it is not shown, and the reason says why."""
    theirs = MissingCoupon(code="ARJUN100", explanation=explain_item(703))
    shown = "\n".join(
        texts(result_message(Looked(Get(("GOOD200", "ARJUN100")), (coupon(),), (theirs,), None)))
    )
    assert "Not shown for this lookup:\n• *ARJUN100*: " in shown
    assert "not found" not in shown.lower()


@pytest.mark.parametrize(("found", "missing"), [(100, 0), (60, 40), (0, 100)])
def test_a_lookup_of_100_coupons_fits_one_message(found: int, missing: int) -> None:
    coupons = tuple(coupon(f"CODE{i:03d}") for i in range(found))
    gone = tuple(
        MissingCoupon(code=f"GONE{i:03d}", explanation=explain_item(719)) for i in range(missing)
    )
    codes = tuple(c.code for c in coupons) + tuple(m.code for m in gone)
    message = result_message(Looked(Get(codes), coupons, gone, REQUEST_ID))

    assert_valid(message)
    if found > 20:
        assert f"…and {found - 20} more." in "\n".join(texts(message))


def test_a_lookup_never_hides_missing_codes_silently() -> None:
    gone = tuple(
        MissingCoupon(code=f"GONE{i:03d}", explanation=explain_item(719)) for i in range(30)
    )
    shown = "\n".join(texts(result_message(Looked(Get(("GONE000",)), (), gone, REQUEST_ID))))

    all_named = all(m.code in shown for m in gone)
    assert all_named or "10 more" in shown


# ---- the other successes ------------------------------------------------------------------


def test_series_details() -> None:
    outcome, _ = OUTCOMES["series"]
    shown = "\n".join(texts(result_message(outcome)))

    assert "*Series 1001* — Diwali welcome" in shown
    assert "10% off" in shown
    assert "31 Dec 2026" in shown
    assert "120 / 45" in shown
    assert "*Issue limit*\nunlimited" in shown
    assert "not needed" in shown
    assert "Minimum bill" not in shown  # none set


@pytest.mark.parametrize(
    ("max_create", "issued", "shown"),
    [("3", "3", "3 (none left)"), ("5", "3", "5 (2 left)"), ("5", None, "5")],
)
def test_a_series_says_what_is_left_of_its_issue_limit_and_its_minimum_bill(
    max_create: str, issued: str | None, shown: str
) -> None:
    """A series whose three coupons were all issued showed "Can issue: 3": three more?"""
    counts = {"coupons": {"issued": issued, "redeemed": "0"}} if issued else {}
    data = {"id": "1005", "max_create": max_create, "min_bill_amount": "1000.00", **counts}
    series = Series.model_validate(data)
    text = "\n".join(texts(result_message(SeriesFound(SeriesInfo("1005"), series))))
    assert f"*Issue limit*\n{shown}" in text
    assert "*Minimum bill*\n₹1,000" in text


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("checked-ok", "✅ GOOD200 can be redeemed by ••••3210 · 1 redemption left · ₹200 off"),
        ("checked-unlimited", "✅ GOOD200 can be redeemed by r•••@example.com · unlimited"),
    ],
)
def test_redeemable_check(key: str, expected: str) -> None:
    outcome, _ = OUTCOMES[key]
    assert result_message(outcome).text.startswith(expected)


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        ("id:5001", "customer id ••••"),
        ("card:CARD5001", "card ••••5001"),
        ("ext:EXT-5001", "ext ••••5001"),
        ("+919876543210", "••••3210"),
        ("riya.sharma@example.com", "r•••@example.com"),
    ],
)
def test_a_check_names_the_kind_of_customer(typed: str, who: str) -> None:
    command = Check("GOOD100", parse_customer(typed))
    outcome = Checked(command, redeemability(True, redemptions_left="1"))

    assert result_message(outcome).text.startswith(f"✅ GOOD100 can be redeemed by {who} · ")
    assert describe(command) == f"check GOOD100 for {who}"


@pytest.mark.parametrize(
    ("series_info", "value"),
    [
        ({"discount_type": "PERC", "discount_value": "20"}, "20% off"),
        ({"discount_type": "ABS", "discount_value": "20"}, "₹20 off"),
        (None, "20 off"),  # Capillary didn't say which kind: no currency is made up
    ],
)
def test_a_check_shows_the_value_as_a_lookup_does(
    series_info: dict[str, str] | None, value: str
) -> None:
    extra = {"series_info": series_info} if series_info else {}
    result = redeemability(True, redemptions_left="1", coupon_value="20", **extra)
    text = result_message(Checked(Check("VALID20", MOBILE), result)).text

    assert text.endswith(f"· 1 redemption left · {value}")
    assert ("₹" in text) is (value.startswith("₹"))


def redeemed(command: Redeem, **extra: str) -> Redeemed:
    data = {"code": command.code, "redemption_id": "88213", "request_id": REQUEST_ID, **extra}
    return Redeemed(command, RedeemedCoupon.model_validate(data))


@pytest.mark.parametrize(
    ("bill_amount", "is_absolute", "coupon_value", "value"),
    [
        (None, "true", "200", "₹200 off"),
        (None, "false", "20", "20% off"),
        # Against a bill amount, a percentage coupon's value is what it took off that bill.
        (Decimal("1450"), "false", "290", "₹290 off"),
    ],
)
def test_a_redemption_shows_the_value_as_a_lookup_does(
    bill_amount: Decimal | None, is_absolute: str, coupon_value: str, value: str
) -> None:
    command = Redeem("VALID20", MOBILE, None, bill_amount)
    outcome = redeemed(command, is_absolute=is_absolute, coupon_value=coupon_value)

    assert result_message(outcome).text.endswith(f"· redemption id 88213 · {value}")


def test_a_redemption_of_unknown_kind_names_no_currency() -> None:
    outcome = redeemed(Redeem("VALID20", MOBILE), coupon_value="20")

    assert result_message(outcome).text.endswith("· redemption id 88213 · 20 off")


def test_issued_and_redeemed_say_what_happened() -> None:
    issued, _ = OUTCOMES["issued"]
    redeemed, _ = OUTCOMES["redeemed"]

    assert result_message(issued).text == (
        "✅ Issued *NEW777* to r•••@example.com · series 1001 · ₹100 off · valid till 31 Dec 2026"
    )
    assert result_message(redeemed).text == (
        "✅ GOOD200 redeemed for ••••3210 · redemption id 88213 · ₹200 off bill B-1182"
    )


def test_issued_percentage_coupon_is_formatted_like_elsewhere() -> None:
    issued = IssuedCoupon.model_validate(
        {"code": "PCT10", "discount_type": "PERC", "discount_value": "10.00"}
    )
    assert "· 10% off ·" in result_message(Issued(ISSUE, issued)).text


# ---- translated errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "sentence", "code"),
    [
        ("checked-no", "this coupon has expired.", "713"),
        ("failed-item", "this coupon has already been used.", "711"),
        ("failed-request", "Capillary didn't accept the bot's login.", "401"),
        ("failed-issue", "Capillary couldn't issue a coupon from this series.", "722"),
    ],
)
def test_translated_error_shows_sentence_next_step_code_and_short_request_id(
    key: str, sentence: str, code: str
) -> None:
    outcome, _ = OUTCOMES[key]
    message = result_message(outcome)
    first, next_step, small = texts(message)

    assert first.startswith("❌ ")
    assert first.lower().endswith(sentence.lower())
    assert next_step.startswith("*Next step:* ")
    assert len(next_step) > len("*Next step:* ")
    assert f"Capillary code {code}" in small
    assert f"request id {SHORT_REQUEST_ID}" in small
    assert REQUEST_ID not in rendered(message)
    assert message.text == first  # the notification is the answer itself


def test_translated_error_keeps_the_name_capillary_capitalised() -> None:
    outcome, _ = OUTCOMES["failed-request"]
    first = result_message(outcome).text

    assert first == "❌ Series 1001 didn't work: Capillary didn't accept the bot's login."


def test_translated_error_keeps_capillarys_words_last_and_small() -> None:
    outcome, _ = OUTCOMES["failed-item"]
    first, _, small = texts(result_message(outcome))

    assert "Coupon already redeemed" not in first
    assert "Capillary said “Coupon already redeemed”" in small


def test_check_refused_without_a_reason_still_answers() -> None:
    outcome, _ = OUTCOMES["checked-no-reason"]
    assert result_message(outcome).text == "❌ GOOD200 can't be redeemed by ••••3210."


def test_a_next_step_names_the_coupon_it_is_about() -> None:
    """ "Run /coupon get <code>" made the agent retype the code the thread is about."""
    redeemed = Failed(Redeem("REDEEMED100", MOBILE), explain_item(711), REQUEST_ID)
    shown = "\n".join(texts(result_message(redeemed)))
    assert "Run /coupon get REDEEMED100 to see when and where it was redeemed." in shown
    validation = Failed(Redeem("VALID20", MOBILE), explain_item(725), REQUEST_ID)
    assert "validation=&lt;code&gt;" in "\n".join(texts(result_message(validation)))  # kept
    no = redeemability(False, code="REDEEMED100", reason=explain_item(711))
    checked = Checked(Check("REDEEMED100", MOBILE), no)
    assert "Run /coupon get REDEEMED100 to see" in "\n".join(texts(result_message(checked)))
    several = Failed(Get(("GOOD200", "GOOD300")), explain_item(711), REQUEST_ID)
    assert "/coupon get &lt;code&gt;" in "\n".join(texts(result_message(several)))


@pytest.mark.parametrize(
    "explanation",
    [
        explain_transport(TransportFailure.TIMEOUT, "ReadTimeout"),
        explain_transport(TransportFailure.CONNECTION_REFUSED, "ConnectError"),
        explain_request(521, "Concurrent modification"),
        explain_item(790),
    ],
    ids=["timeout", "refused", "request-521", "item-790"],
)
def test_transient_failure_says_nothing_was_changed(explanation: Any) -> None:
    outcome = Failed(Get(("GOOD200",)), explanation, REQUEST_ID)
    message = result_message(outcome)
    first, next_step, small = texts(message)

    assert first.startswith("⚠️ Looking up GOOD200")
    assert "Nothing was changed." in first
    # "Not answering" only when no answer came; else what Capillary's code means.
    no_answer = explanation.source == "transport"
    assert ("Capillary isn't answering right now." in first) is no_answer
    if not no_answer:
        assert explanation.sentence in first
    assert next_step == f"*Next step:* {explanation.next_step}"
    assert f"request id {SHORT_REQUEST_ID}" in small
    if explanation.source == "transport":  # our own failure names are not Capillary codes
        assert "Capillary code" not in small
        assert "ReadTimeout" not in small and "ConnectError" not in small
    assert status_key(outcome) == "transient"


# ---- unknown outcomes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "verdict"),
    [
        (
            "unknown-redeem-happened",
            f"Checked again {CHECKED}: GOOD200 shows as redeemed at "
            "20 Nov 2026, 14:02 (redemption id 88213). Don't redeem it again.",
        ),
        (
            "unknown-redeem-did-not-happen",
            f"Checked again {CHECKED}: GOOD200 is not redeemed, so it did not go "
            "through. It is safe to try again.",
        ),
        ("unknown-redeem-cannot-tell", "before you redeem again, so nothing is done twice."),
        ("unknown-issue", "before you issue again, so nothing is done twice."),
    ],
)
def test_unknown_outcome_says_what_checking_again_showed(key: str, verdict: str) -> None:
    outcome, subject = OUTCOMES[key]
    first, known, _ = texts(result_message(outcome))

    # Shown not to have gone through, it is not done (❌, as the parent); else still ❓.
    assert first.startswith("❌ Not done: " if "did-not-happen" in key else "❓ ")
    assert ("we don't know yet" in first) is ("did-not-happen" not in key)
    assert "(no answer before the timeout)" in first
    assert subject in first
    assert verdict in known


# ---- the parent line ----------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUS_EMOJI)
def test_parent_message_for_every_status(status: ParentStatus) -> None:
    message = parent_message("U03AGENT", REDEEM, status)

    assert_valid(message)
    assert message.text == (
        f"🎟️ <@U03AGENT> · redeem GOOD200 for ••••3210 · bill B-1182 ₹1,450 · {STATUS_EMOJI[status]}"
    )
    assert texts(message) == [message.text]


def test_every_status_has_an_emoji() -> None:
    assert STATUS_EMOJI.keys() == set(ParentStatus)
    # How a command ended, and (bot.blocks.log) how an audited one did, each has its own.
    assert {status.value for status in Status} <= {status.value for status in ParentStatus}
    assert {outcome.value for outcome in AuditOutcome} <= {status.value for status in ParentStatus}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("looked", "ok"),
        ("checked-ok", "ok"),
        ("checked-no", "failed"),
        ("failed-item", "failed"),
        ("failed-transport", "transient"),
        ("unknown-issue", "unknown"),
        ("redeemed", "ok"),
    ],
)
def test_status_key(key: str, expected: str) -> None:
    outcome, _ = OUTCOMES[key]
    assert status_key(outcome) == expected


# ---- describe -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "line"),
    [
        (Get(("GOOD100",)), "get GOOD100"),
        (Get(("A1", "B2"), MOBILE), "get A1, B2 for ••••3210"),
        (Get(tuple(f"C{i}" for i in range(7))), "get C0, C1, C2, C3, C4 +2 more"),
        (SeriesInfo("1001"), "series 1001"),
        (Check("GOOD100", MOBILE), "check GOOD100 for ••••3210"),
        (Resend("GOOD100", EMAIL), "resend GOOD100 for r•••@example.com"),
        (Issue("1001", MOBILE), "issue from series 1001 to ••••3210"),
        (Redeem("GOOD200", MOBILE), "redeem GOOD200 for ••••3210"),
        (
            Redeem("GOOD200", MOBILE, "B-1182", Decimal("1450")),
            "redeem GOOD200 for ••••3210 · bill B-1182 ₹1,450",
        ),
        (
            Redeem("GOOD200", MOBILE, "B-1182", Decimal("1450.5")),
            "redeem GOOD200 for ••••3210 · bill B-1182 ₹1,450.50",
        ),
        (
            Redeem("GOOD200", MOBILE, None, Decimal("1234567")),
            "redeem GOOD200 for ••••3210 · ₹1,234,567",
        ),
        (Redeem("GOOD200", MOBILE, "B-1182"), "redeem GOOD200 for ••••3210 · bill B-1182"),
        (Help(Verb.REDEEM), "help"),
        (LogQuery("GOOD200"), "log GOOD200"),
        # What was typed after `log`: customers masked (digit groups too), mentions kept.
        (LogQuery("+91 98765 43210 since=7d"), "log ••••3210 since=7d"),
        (LogQuery("<@U03AGENT|asha> status=failed"), "log <@U03AGENT> status=failed"),
        (LogQuery("<!channel> a@<!here>"), "log &lt;!channel&gt; a•••@&lt;!here&gt;"),
        (LogQuery(""), "log"),
        (Pending(), "pending"),
    ],
)
def test_describe(command: Command, line: str) -> None:
    assert describe(command) == line


def test_describe_uses_the_currency_given() -> None:
    assert describe(REDEEM, currency="$") == "redeem GOOD200 for ••••3210 · bill B-1182 $1,450"


@pytest.mark.parametrize("padding", range(180, 215))
def test_a_long_log_query_is_cut_after_its_customer_is_masked(padding: int) -> None:
    # Wherever the cut falls, no part of the grouped number shows in the channel.
    typed = "x" * padding + " +91 98765 43210 since=7d"
    line = describe(LogQuery(typed))
    assert not any(group in line for group in ("98765", "8765", "43210", "4321"))
    assert len(line) <= len("log ") + 200 + 2


def test_a_lookup_answered_with_no_items_says_so_and_what_to_do() -> None:
    empty = Looked(Get(("GOOD100",)), (), (), REQUEST_ID)
    shown = "\n".join(texts(result_message(empty)))
    assert empty.status is Status.FAILED
    assert "Capillary returned nothing for this lookup." in shown and "*Next step:*" in shown
