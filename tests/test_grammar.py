"""``/coupon`` text and modal fields → commands, with precise errors for anything else."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.capillary.identifiers import CustomerId, CustomerKind
from bot.commands import (
    Check,
    Command,
    Get,
    Help,
    Issue,
    LogQuery,
    OpenForm,
    Pending,
    Redeem,
    Resend,
    SeriesInfo,
    UsageError,
    Verb,
)
from bot.grammar import (
    MAX_CODES,
    VERB_ALIASES,
    FormErrors,
    example,
    parse_command,
    parse_form,
    summary,
    usage,
)
from bot.ids import SLASH_COMMAND, BlockId

MOBILE = CustomerId(CustomerKind.MOBILE, "919876543210")
EMAIL = CustomerId(CustomerKind.EMAIL, "asha@example.com")


def usage_error(text: str) -> UsageError:
    with pytest.raises(UsageError) as caught:
        parse_command(text)
    return caught.value


# --- every verb's happy path ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("help", Help()),
        ("help redeem", Help(Verb.REDEEM)),
        ("HELP Lookup", Help(Verb.GET)),
        ("help help", Help(Verb.HELP)),
        ("help approve", Help(Verb.PENDING)),  # approving is a button: pending says how
        ("help Reject", Help(Verb.PENDING)),
        ("get GOOD100", Get(("GOOD100",))),
        ("get good100", Get(("GOOD100",))),
        ("get GOOD100,GOOD200", Get(("GOOD100", "GOOD200"))),
        (
            "get GOOD100, GOOD200 ,GOOD300 , GOOD400",
            Get(("GOOD100", "GOOD200", "GOOD300", "GOOD400")),
        ),
        ("get GOOD100,good100,GOOD200,GOOD100", Get(("GOOD100", "GOOD200"))),
        ("get GOOD100,", Get(("GOOD100",))),
        ("get GOOD100 +919876543210", Get(("GOOD100",), MOBILE)),
        ("get GOOD100, GOOD200 asha@example.com", Get(("GOOD100", "GOOD200"), EMAIL)),
        ("lookup GOOD100", Get(("GOOD100",))),
        ("details GOOD100", Get(("GOOD100",))),
        ("LOOKUP GOOD100", Get(("GOOD100",))),
        ("series 1001", SeriesInfo("1001")),
        ("check GOOD100 +919876543210", Check("GOOD100", MOBILE)),
        ("Check good100 919876543210", Check("GOOD100", MOBILE)),
        ("check GOOD100 Asha@Example.com", Check("GOOD100", EMAIL)),
        (
            "check GOOD100 ext:CUST-9",
            Check("GOOD100", CustomerId(CustomerKind.EXTERNAL_ID, "CUST-9")),
        ),
        ("resend GOOD100 +919876543210", Resend("GOOD100", MOBILE)),
        ("issue 1001 +919876543210", Issue("1001", MOBILE)),
        ("issue 01001 +919876543210", Issue("1001", MOBILE)),  # the same series, the same key
        ("issue 1001 id:98662653", Issue("1001", CustomerId(CustomerKind.ID, "98662653"))),
        ("redeem GOOD200 +919876543210", Redeem("GOOD200", MOBILE)),
        (
            "redeem GOOD200 +919876543210 txn=B-1182 amount=1450 validation=4321",
            Redeem("GOOD200", MOBILE, "B-1182", Decimal("1450"), "4321"),
        ),
        (
            "redeem GOOD200 +919876543210 VALIDATION=4321 Amount=1450.50 TXN=B/11.82_x",
            Redeem("GOOD200", MOBILE, "B/11.82_x", Decimal("1450.50"), "4321"),
        ),
        (
            "redeem GOOD200 txn=B-1182 +919876543210",
            Redeem("GOOD200", MOBILE, bill_number="B-1182"),
        ),
        ("log", LogQuery("")),
        ("log GOOD200", LogQuery("GOOD200")),
        ("log  GOOD200   action=redeem since=7d", LogQuery("GOOD200 action=redeem since=7d")),
        ("pending", Pending()),
        ("PENDING", Pending()),
    ],
)
def test_parses(text: str, command: Command) -> None:
    assert parse_command(text) == command


def test_aliases() -> None:
    assert VERB_ALIASES["lookup"] is Verb.GET
    assert VERB_ALIASES["details"] is Verb.GET
    for verb in Verb:
        assert VERB_ALIASES[verb.value] is verb


@pytest.mark.parametrize(
    ("amount", "value"),
    [
        ("1450", "1450"),
        ("1450.5", "1450.5"),
        ("1450.50", "1450.50"),
        ("1,450", "1450"),
        ("₹1,450", "1450"),
        ("Rs.1450", "1450"),
        ("rs1450", "1450"),
        ("INR1,45,000.25", "145000.25"),
        ("0.01", "0.01"),
        ("9999999.99", "9999999.99"),
    ],
)
def test_amounts(amount: str, value: str) -> None:
    command = parse_command(f"redeem GOOD200 +919876543210 amount={amount}")
    assert isinstance(command, Redeem)
    assert command.bill_amount == Decimal(value)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("amount=Rs 1450", "1450"),
        ("amount=₹ 1,450", "1450"),
        ("amount=INR 1,45,000.50", "145000.50"),
        ("amount= 1450", "1450"),
    ],
)
def test_an_amount_typed_with_a_space_after_its_currency_is_one_amount(
    typed: str, value: str
) -> None:
    command = parse_command(f"redeem GOOD200 +919876543210 {typed} txn=B-1")
    assert isinstance(command, Redeem)
    assert command.bill_amount == Decimal(value) and command.bill_number == "B-1"


def test_a_word_after_a_bare_currency_that_is_no_number_is_not_taken_as_the_amount() -> None:
    with pytest.raises(UsageError, match="“B-1” is one too many"):
        parse_command("redeem GOOD200 +919876543210 amount=Rs B-1")


# --- missing arguments open the verb's form -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("", OpenForm(None)),
        ("   ", OpenForm(None)),
        ("\u00a0\u200b", OpenForm(None)),
        ("get", OpenForm(Verb.GET, {})),
        ("lookup", OpenForm(Verb.GET, {})),
        ("series", OpenForm(Verb.SERIES, {})),
        ("check", OpenForm(Verb.CHECK, {})),
        ("check good100", OpenForm(Verb.CHECK, {"code": "GOOD100"})),
        ("resend GOOD100", OpenForm(Verb.RESEND, {"code": "GOOD100"})),
        ("issue 1001", OpenForm(Verb.ISSUE, {"series_id": "1001"})),
        ("redeem", OpenForm(Verb.REDEEM, {})),
        ("redeem GOOD100", OpenForm(Verb.REDEEM, {"code": "GOOD100"})),
        ("redeem GOOD100 txn=B1", OpenForm(Verb.REDEEM, {"code": "GOOD100", "txn": "B1"})),
        (
            "redeem amount=₹1,450 validation=77",
            OpenForm(Verb.REDEEM, {"amount": "₹1,450", "validation": "77"}),
        ),
    ],
)
def test_missing_arguments_open_a_prefilled_form(text: str, form: OpenForm) -> None:
    assert parse_command(text) == form


def test_prefill_keys_are_block_ids() -> None:
    form = parse_command("redeem GOOD100 txn=B1 amount=10 validation=1")
    assert isinstance(form, OpenForm)
    assert set(form.prefill) <= {block.value for block in BlockId}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("redeem BAD!!", "“BAD!!” is not a coupon code"),
        ("redeem GOOD100 amount=abc", "amount= must be a bill amount"),
        ("issue ten", "is not a series id"),
        ("check GOOD100 txn=B1", "takes no options"),
    ],
)
def test_no_form_is_opened_with_garbage(text: str, complaint: str) -> None:
    assert complaint in str(usage_error(text))


# --- precise errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "verb"),
    [
        ("frobnicate", "I don't know “frobnicate”. Try `/coupon help`.", None),
        ("redem GOOD100", "I don't know “redem”. Did you mean `redeem`? Try `/coupon help`.", None),
        ("lookpu GOOD100", "Did you mean `lookup`?", None),
        ("check GOOD100 +919876543210 +919812345678", "“••••5678” is one too many", Verb.CHECK),
        ("help frob", "I don't know “frob”", Verb.HELP),
        ("help redeem now", "`help` takes at most one verb; “now” is one too many.", Verb.HELP),
        (
            "check GOOD100 +919876543210 extra",
            "`check` takes a code and a customer; “extra” is one too many.",
            Verb.CHECK,
        ),
        (
            "check GOOD100 +919876543210 extra more",
            "`check` takes a code and a customer; “extra more” are too many.",
            Verb.CHECK,
        ),
        ("series 1001 1002", "`series` takes a series id; “1002” is one too many.", Verb.SERIES),
        ("pending now", "`pending` takes nothing after it; “now” is one too many.", Verb.PENDING),
        ("check GOOD100 asha", "“asha” is not a customer", Verb.CHECK),
        ("check GOOD100 +91", "A mobile number has 8–15 digits", Verb.CHECK),
        ("resend GOOD100 asha@example", "email address doesn't look complete", Verb.RESEND),
        ("check GOOD-100! +919876543210", "is not a coupon code", Verb.CHECK),
        (
            "redeem GOOD100 +919876543210 amount=abc",
            "amount= must be a bill amount like 1450 or 1450.50.",
            Verb.REDEEM,
        ),
        ("redeem GOOD100 +919876543210 amount=0", "more than 0", Verb.REDEEM),
        ("redeem GOOD100 +919876543210 amount=10000000", "less than 10,000,000", Verb.REDEEM),
        ("redeem GOOD100 +919876543210 amount=1450.505", "like 1450 or 1450.50", Verb.REDEEM),
        ("redeem GOOD100 +919876543210 amount=-5", "must be a bill amount", Verb.REDEEM),
        ("redeem GOOD100 +919876543210 amount=", "must be a bill amount", Verb.REDEEM),
        ("redeem GOOD100 +919876543210 txn=B#1", "txn= must be a bill number", Verb.REDEEM),
        ("redeem GOOD100 +919876543210 txn=" + "B" * 41, "1–40", Verb.REDEEM),
        ("redeem GOOD100 +919876543210 validation=12-34", "validation= must be", Verb.REDEEM),
        ("redeem GOOD100 +919876543210 validation=" + "1" * 21, "1–20", Verb.REDEEM),
        (
            "redeem GOOD100 +919876543210 foo=1",
            "`redeem` options are txn=, amount= and validation=; “foo=” isn't one.",
            Verb.REDEEM,
        ),
        (
            "redeem GOOD100 +919876543210 txn=B1 TXN=B2",
            "txn= is given twice; give it once.",
            Verb.REDEEM,
        ),
        (
            "check GOOD100 +919876543210 txn=B1",
            "`check` takes no options, so “txn=” can't be used; it takes a code and a customer.",
            Verb.CHECK,
        ),
        ("get GOOD100 amount=5", "`get` takes no options", Verb.GET),
        (
            "get GOOD100 GOOD200",
            "To look up several codes, separate them with commas: `/coupon get GOOD100,GOOD200`",
            Verb.GET,
        ),
        ("get GOOD100,BAD!", "“BAD!” is not a coupon code", Verb.GET),
        ("get ,", "At least one coupon code is needed", Verb.GET),
        ("check GOOD100 <@U123|asha>", "That's a Slack user, not a customer", Verb.CHECK),
    ],
)
def test_errors(text: str, message: str, verb: Verb | None) -> None:
    error = usage_error(text)
    assert message in str(error)
    assert error.verb is verb


def test_too_many_codes() -> None:
    codes = ",".join(f"C{i}" for i in range(MAX_CODES + 1))
    assert "at most 100 codes at a time; that's 101" in str(usage_error(f"get {codes}"))
    most = parse_command("get " + ",".join(f"C{i}" for i in range(MAX_CODES)))
    assert isinstance(most, Get)
    assert len(most.codes) == MAX_CODES


def test_errors_do_not_repeat_the_usage_line() -> None:
    assert "/coupon check <code>" not in str(usage_error("check GOOD100 +919876543210 extra"))


# --- Slack's formatting and unicode ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("check GOOD100 <mailto:asha@example.com|asha@example.com>", Check("GOOD100", EMAIL)),
        ("check GOOD100 <mailto:asha@example.com>", Check("GOOD100", EMAIL)),
        ("check GOOD100 <tel:+919876543210|+91 98765 43210>", Check("GOOD100", MOBILE)),
        ("check GOOD100 <tel:+91 98765 43210>", Check("GOOD100", MOBILE)),
        (
            "check GOOD100 ext:<http://shop.example|shop.example>",
            Check("GOOD100", CustomerId(CustomerKind.EXTERNAL_ID, "shop.example")),
        ),
        ("check GOOD100 +91 98765 43210", Check("GOOD100", MOBILE)),
        ("check GOOD100 +91 9876543210", Check("GOOD100", MOBILE)),
        ("check\u00a0GOOD100\u2003+919876543210", Check("GOOD100", MOBILE)),
        ("check\tGOOD100\n+919876543210", Check("GOOD100", MOBILE)),
        ("check\u200bGOOD100\ufeff+919876543210", Check("GOOD100", MOBILE)),
        ("log <@U123|asha> since=7d", LogQuery("<@U123> since=7d")),
        ("log &lt;x&gt; a&amp;b &amp;lt;", LogQuery("<x> a&b &lt;")),
        (
            "check GOOD100 ext:A&amp;B",
            None,
        ),
    ],
)
def test_slack_formatting(text: str, command: Command | None) -> None:
    if command is None:  # decoded to "ext:A&B", which the identifier rules refuse by name
        assert "external id" in str(usage_error(text))
    else:
        assert parse_command(text) == command


def test_a_stray_number_after_a_spaced_phone_is_not_swallowed() -> None:
    assert "“5” is one too many" in str(usage_error("check GOOD100 +91 98765 43210 5"))


@pytest.mark.parametrize(
    "text",
    [
        "check GOOD100\x00 +919876543210",
        "get \x07",
        "log \x1b[31m",
        "check \u202eGOOD100",
        "\ud800",
    ],
)
def test_control_characters_are_refused(text: str) -> None:
    assert "control character" in str(usage_error(text))


@pytest.mark.parametrize(
    "text",
    [
        "🎟️",
        "ｃｈｅｃｋ GOOD100",
        "चेक GOOD100",
        "check ＧＯＯＤ100 +919876543210",
        "check GOOD100 ٩٨٧٦٥٤٣٢١٠",
    ],
)
def test_unicode_is_refused_politely(text: str) -> None:
    usage_error(text)


def test_too_long_is_refused_without_further_work() -> None:
    assert "That's too long for a coupon command" in str(usage_error("get " + "A," * 2500))
    assert "too long" in str(usage_error("\x00" * 5000))  # the length is checked first


# --- the grammar raises nothing but UsageError, and is quick about it -----------------------------

WORDS = [
    *VERB_ALIASES,
    "GOOD100",
    "GOOD100,GOOD200",
    "+919876543210",
    "+91",
    "98765",
    "asha@example.com",
    "ext:C-9",
    "id:0",
    "card:",
    "1001",
    "txn=B1",
    "amount=₹1,450",
    "amount=1e9",
    "validation=",
    "=",
    ",",
    "<@U1|a>",
    "<mailto:a@b.co|a@b.co>",
    "<tel:+91|x>",
    "<",
    ">",
    "|",
    "&amp;",
    "&lt;",
]
SPACES = st.sampled_from([" ", "  ", "\u00a0", "\t", "\u3000", ",", ", "])
phrases = st.lists(st.sampled_from(WORDS) | st.text(max_size=12), max_size=12).flatmap(
    lambda words: SPACES.map(lambda space: space.join(words))
)
any_text = st.text() | phrases


def parses_or_refuses(text: str) -> None:
    try:
        result = parse_command(text)
    except UsageError:
        return
    assert isinstance(result, OpenForm) or result.verb in Verb


@given(any_text)
def test_any_text_parses_or_raises_usage_error(text: str) -> None:
    parses_or_refuses(text)


long_texts = st.tuples(
    st.sampled_from(["", "get ", "redeem GOOD100 ", "log "]), st.text(min_size=1, max_size=40)
)


@settings(max_examples=50)
@given(long_texts)
def test_5000_character_text_is_refused_as_too_long(parts: tuple[str, str]) -> None:
    prefix, unit = parts
    text = (prefix + unit * 5000)[:5000]
    with pytest.raises(UsageError, match="too long"):
        parse_command(text)


@pytest.mark.parametrize(
    "text",
    [
        "get " + ",".join(["A"] * 490),
        "get " + ",".join(f"{i:03}" for i in range(249)),
        "check GOOD100 +91 " + "1 " * 490,
        "<|" * 499,
        "<" + "|" * 998,
        "&amp;" * 199,
        "redem" * 199,
    ],
)
def test_worst_case_short_text_parses_or_refuses(text: str) -> None:
    # Timing is measured by benchmarks/, never asserted here (shared, noisy machines).
    assert len(text) <= 1000
    parses_or_refuses(text)


# --- usage, examples, summaries -------------------------------------------------------------------


@pytest.mark.parametrize("verb", list(Verb))
def test_every_verb_has_usage_example_and_summary(verb: Verb) -> None:
    assert usage(verb).startswith(f"{SLASH_COMMAND} {verb.value}")
    assert example(verb).startswith(f"{SLASH_COMMAND} {verb.value}")
    assert summary(verb) and summary(verb)[0].islower()
    parsed = parse_command(example(verb).removeprefix(SLASH_COMMAND))
    assert not isinstance(parsed, OpenForm)
    assert parsed.verb is verb


def test_usage_lines_match_the_design() -> None:
    assert usage(Verb.REDEEM) == (
        "/coupon redeem <code> <customer> [txn=<bill no>] [amount=<bill amount>] "
        "[validation=<code>]"
    )
    assert usage(Verb.GET) == "/coupon get <code>[,<code>…] [<customer>]"
    assert example(Verb.CHECK) == "/coupon check GOOD100 +919876543210"
    assert summary(Verb.CHECK) == "is it redeemable by this customer?"


def test_usage_without_a_verb_lists_every_verb() -> None:
    assert usage() == "/coupon help|get|series|check|resend|issue|redeem|log|pending …"
    assert usage(None) == usage()


# --- modal forms ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verb", "values", "command"),
    [
        (
            Verb.GET,
            {"codes": "good100, GOOD200\nGOOD300 GOOD100"},
            Get(("GOOD100", "GOOD200", "GOOD300")),
        ),
        (Verb.GET, {"codes": "GOOD100", "customer": "+91 98765 43210"}, Get(("GOOD100",), MOBILE)),
        (Verb.GET, {"codes": "GOOD100", "customer": None}, Get(("GOOD100",))),
        (Verb.SERIES, {"series_id": " 1001 "}, SeriesInfo("1001")),
        (Verb.CHECK, {"code": "good100", "customer": "asha@example.com"}, Check("GOOD100", EMAIL)),
        (Verb.RESEND, {"code": "GOOD100", "customer": "+919876543210"}, Resend("GOOD100", MOBILE)),
        (Verb.ISSUE, {"series_id": "1001", "customer": "+919876543210"}, Issue("1001", MOBILE)),
        (
            Verb.REDEEM,
            {
                "code": "GOOD200",
                "customer": "+919876543210",
                "txn": None,
                "amount": "",
                "validation": None,
            },
            Redeem("GOOD200", MOBILE),
        ),
        (
            Verb.REDEEM,
            {
                "code": "GOOD200",
                "customer": "+919876543210",
                "txn": "B-1182",
                "amount": "Rs. 1,450.50",
                "validation": "4321",
            },
            Redeem("GOOD200", MOBILE, "B-1182", Decimal("1450.50"), "4321"),
        ),
        (Verb.HELP, {}, Help()),
        (Verb.LOG, {}, LogQuery()),
        (Verb.PENDING, {}, Pending()),
    ],
)
def test_parse_form(verb: Verb, values: dict[str, str | None], command: Command) -> None:
    assert parse_form(verb, values) == command


def test_parse_form_reports_every_problem_at_once() -> None:
    with pytest.raises(FormErrors) as caught:
        parse_form(
            Verb.REDEEM,
            {"code": "BAD!", "customer": None, "txn": "B#1", "amount": "lots", "validation": "ok"},
        )
    errors = caught.value.errors
    assert set(errors) == {"code", "customer", "txn", "amount"}
    assert "is not a coupon code" in errors["code"]
    assert errors["customer"].startswith("A customer is needed: ")
    assert errors["amount"] == "This must be a bill amount like 1450 or 1450.50."
    assert "bill number" in errors["txn"]


@pytest.mark.parametrize(
    ("verb", "values", "errors"),
    [
        (Verb.GET, {}, {"codes": "At least one coupon code is needed"}),
        (Verb.GET, {"codes": " , "}, {"codes": "At least one coupon code is needed"}),
        (Verb.GET, {"codes": ",".join(f"C{i}" for i in range(101))}, {"codes": "at most 100"}),
        (Verb.GET, {"codes": "A", "customer": "asha"}, {"customer": "is not a customer"}),
        (Verb.SERIES, {"series_id": "   "}, {"series_id": "A series id is needed"}),
        (
            Verb.CHECK,
            {"code": None, "customer": ""},
            {"code": "A coupon code is needed", "customer": "A customer is needed"},
        ),
        (
            Verb.ISSUE,
            {"series_id": "abc", "customer": "+91"},
            {"series_id": "is not a series id", "customer": "8–15 digits"},
        ),
        (Verb.CHECK, {"code": "GOOD\x00", "customer": "+919876543210"}, {"code": "type it again"}),
    ],
)
def test_parse_form_errors(
    verb: Verb, values: dict[str, str | None], errors: dict[str, str]
) -> None:
    with pytest.raises(FormErrors) as caught:
        parse_form(verb, values)
    assert set(caught.value.errors) == set(errors)
    for block, fragment in errors.items():
        assert fragment in caught.value.errors[block]


def test_form_errors_is_a_value_error_naming_the_fields() -> None:
    error = FormErrors({"code": "No."})
    assert isinstance(error, ValueError)
    assert str(error) == "code: No."


@pytest.mark.parametrize("amount", ["0,500", "00,450", "0,45,000"])
def test_a_comma_after_a_leading_zero_is_no_digit_grouping(amount: str) -> None:
    # "0,500" is a decimal comma (₹0.50), never a grouped ₹500: no number is written "0,…".
    with pytest.raises(UsageError, match="must be a bill amount"):
        parse_command(f"redeem GOOD200 +919876543210 amount={amount}")
