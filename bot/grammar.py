"""What an agent types after ``/coupon`` (or fills in a verb's modal), turned into a command.

The grammar is DESIGN.md's "Command grammar". Every verb is one row of :data:`_SYNTAX`: its
usage line, example and summary (for help), its positional fields and ``key=value`` options.
Each field is one row of :data:`_FIELDS`: the command attribute it fills and its parser.

Text from Slack is cleaned first: at most 1,000 characters, no control characters, Slack's
``<mailto:…|…>`` / ``<tel:…|…>`` links unwrapped to the address, ``<http…|label>`` to the
label, mentions kept as ``<@U…>``, ``&amp; &lt; &gt;`` decoded, any unicode space splits.

:func:`parse_command` returns a command, or :class:`~bot.commands.OpenForm` when required
arguments are missing, and raises only :class:`~bot.commands.UsageError`, whose message names
the problem and the fix (the caller adds the usage line). :func:`parse_form` raises
:class:`FormErrors` with every field's problem at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from bot.capillary.identifiers import (
    InvalidInputError,
    parse_coupon_code,
    parse_customer,
    parse_series_id,
    scrub,
)
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
from bot.ids import SLASH_COMMAND, BlockId

__all__ = [
    "MAX_CODES",
    "MAX_TEXT",
    "VERB_ALIASES",
    "FormErrors",
    "example",
    "join_phone_groups",
    "parse_command",
    "parse_form",
    "summary",
    "usage",
]

MAX_TEXT = 1000  # characters of command text (and of one form field) we look at
MAX_CODES = 100  # coupon codes in one `get`

#: Every word that names a verb (lower case): each verb's own name plus the aliases.
VERB_ALIASES: Mapping[str, Verb] = MappingProxyType(
    {**{verb.value: verb for verb in Verb}, "lookup": Verb.GET, "details": Verb.GET}
)

_TOO_LONG = (
    f"That's too long for a coupon command: keep it under {MAX_TEXT:,} characters "
    f"(and at most {MAX_CODES} codes)."
)
_CONTROL_CHARACTER = (
    "That has an invisible control character in it. Type the command again rather than pasting it."
)


class FormErrors(ValueError):
    """A modal's fields are invalid. ``errors`` maps each bad field's block id to its problem,
    ready for Slack's ``response_action: errors``."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__("; ".join(f"{block}: {problem}" for block, problem in errors.items()))
        self.errors: dict[str, str] = dict(errors)


# ---------------------------------------------------------------------------------------------
# Fields: one parser per modal block; options are worded with their label ("amount=" or "This").

_CODE_SEPARATORS = re.compile(r"[\s,]+")
# A comma only groups digits as Indian or Western numbers do (1,450 · 1,45,000 · 1,450,000):
# "14,50" is a decimal comma, and reading it as ₹1,450 would put a bill 100 times too big;
# so is "0,500" (no grouped number starts with 0).
_AMOUNT = re.compile(
    r"(?:(?:₹|rs\.?|inr)\s*)?((?:[1-9][0-9]{0,2}(?:,[0-9]{2,3})*,[0-9]{3}|[0-9]+)(?:\.[0-9]{1,2})?)",
    re.IGNORECASE,
)
_MAX_AMOUNT = Decimal(10_000_000)
_TXN = re.compile(r"[A-Za-z0-9_\-/.]{1,40}")
_VALIDATION = re.compile(r"[A-Za-z0-9]{1,20}")
_NEED_CUSTOMER = "A customer is needed: a mobile number, an email, or ext:/id:/card:."


def _code(text: str, label: str) -> str:
    return parse_coupon_code(text)


def _series_id(text: str, label: str) -> str:
    return parse_series_id(text)


def _customer(text: str, label: str) -> object:
    if text.lstrip().startswith("<@"):
        raise InvalidInputError(
            "That's a Slack user, not a customer: use the customer's mobile number, email, "
            "or ext:/id:/card:."
        )
    return parse_customer(text)


def _codes(text: str, label: str) -> tuple[str, ...]:
    typed = dict.fromkeys(c for c in _CODE_SEPARATORS.split(text) if c)  # cheap dedupe first
    codes = tuple(dict.fromkeys(parse_coupon_code(c) for c in typed))
    if not codes:
        raise InvalidInputError("At least one coupon code is needed, like GOOD100.")
    if len(codes) > MAX_CODES:
        raise InvalidInputError(
            f"Look up at most {MAX_CODES} codes at a time; that's {len(codes)}."
        )
    return codes


def _amount(text: str, label: str) -> Decimal:
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        raise InvalidInputError(f"{label} must be a bill amount like 1450 or 1450.50.")
    amount = Decimal(match[1].replace(",", ""))
    if not 0 < amount < _MAX_AMOUNT:
        raise InvalidInputError(f"{label} must be more than 0 and less than 10,000,000.")
    return amount


def _txn(text: str, label: str) -> str:
    if not _TXN.fullmatch(text.strip()):
        raise InvalidInputError(
            f"{label} must be a bill number like B-1182: 1–40 letters, digits or - _ / ."
        )
    return text.strip()


def _validation(text: str, label: str) -> str:
    if not _VALIDATION.fullmatch(text.strip()):
        raise InvalidInputError(
            f"{label} must be the customer's validation code: 1–20 letters or digits."
        )
    return text.strip()


@dataclass(frozen=True, slots=True)
class _Field:
    attr: str  # the command's dataclass field it fills
    parse: Callable[[str, str], object]  # (text, label) -> value; raises InvalidInputError
    missing: str = ""  # the form's complaint when a required field is left empty


_FIELDS: Mapping[BlockId, _Field] = {
    BlockId.CODES: _Field("codes", _codes, "At least one coupon code is needed, like GOOD100."),
    BlockId.CODE: _Field("code", _code, "A coupon code is needed, like GOOD100."),
    BlockId.CUSTOMER: _Field("customer", _customer, _NEED_CUSTOMER),
    BlockId.SERIES_ID: _Field("series_id", _series_id, "A series id is needed, like 1001."),
    BlockId.TXN: _Field("bill_number", _txn),
    BlockId.AMOUNT: _Field("bill_amount", _amount),
    BlockId.VALIDATION: _Field("validation_code", _validation),
}


# ---------------------------------------------------------------------------------------------
# Cleaning Slack's text into words.

# C0/C1 controls except tab and newlines, bidi overrides (they disguise text), lone surrogates.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SLACK_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_ADDRESS_SCHEMES = frozenset({"mailto", "tel"})  # unwrapped to the address itself
_MENTIONS = ("@", "#", "!")  # user, channel, special: the id is kept, the label dropped
_INVISIBLE_SPACES = str.maketrans(dict.fromkeys("\u200b\u2060\ufeff", " "))


def _unwrap_link(match: re.Match[str]) -> str:
    target, label = match[1], match[2]
    if target.startswith(_MENTIONS):
        return f"<{target}>"
    scheme, _, address = target.partition(":")
    if scheme.lower() in _ADDRESS_SCHEMES:
        return "".join(address.split())
    return label or target


def _words(text: str) -> list[str]:
    if len(text) > MAX_TEXT:
        raise UsageError(_TOO_LONG)
    if _CONTROL.search(text):
        raise UsageError(_CONTROL_CHARACTER)
    text = _SLACK_LINK.sub(_unwrap_link, text)
    text = _ENTITY.sub(lambda entity: _ENTITIES[entity[1]], text)
    return text.translate(_INVISIBLE_SPACES).split()


def _shorten(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _listing(items: Iterable[str]) -> str:
    *rest, last = items
    return f"{', '.join(rest)} and {last}" if rest else last


# ---------------------------------------------------------------------------------------------
# Verbs.


def _verb(word: str, verb: Verb | None = None) -> Verb:
    found = VERB_ALIASES.get(word.lower())
    if found is None:
        close = difflib.get_close_matches(word.lower(), VERB_ALIASES, n=1) if len(word) < 20 else []
        hint = f" Did you mean `{close[0]}`?" if close else ""
        raise UsageError(
            f"I don't know “{_shorten(word)}”.{hint} Try `{SLASH_COMMAND} help`.", verb
        )
    return found


def _at_most(verb: Verb, args: list[str], limit: int) -> None:
    extra = args[limit:]
    if extra:
        what = "is one too many" if len(extra) == 1 else "are too many"
        takes = _SYNTAX[verb].takes
        shown = _shorten(scrub(" ".join(extra)))  # it may hold a customer's number
        raise UsageError(f"`{verb}` takes {takes}; “{shown}” {what}.", verb)


#: Help topics that aren't verbs: approving is a button, and ``pending`` is where it starts.
_HELP_TOPICS = dict.fromkeys(("approve", "approval", "approvals", "reject"), Verb.PENDING)


def _parse_help(verb: Verb, args: list[str]) -> Command | OpenForm:
    _at_most(verb, args, 1)
    if not args:
        return Help()
    return Help(_HELP_TOPICS.get(args[0].lower()) or _verb(args[0], verb))


def _parse_log(verb: Verb, args: list[str]) -> Command | OpenForm:
    return LogQuery(" ".join(args))


def _parse_pending(verb: Verb, args: list[str]) -> Command | OpenForm:
    _at_most(verb, args, 0)
    return Pending()


_OPTION = re.compile(r"([A-Za-z]+)=(.*)", re.DOTALL)
_PHONE_START = re.compile(r"\+[0-9]{1,4}")  # "+91" typed apart from the rest of the number
_PHONE_GROUP = re.compile(r"[0-9][0-9\-]*")
_LOCAL_DIGITS = 10  # stop joining digit groups once the national number is this long


def join_phone_groups(args: list[str]) -> list[str]:
    """``+91 98765 43210`` → ``+919876543210``: people write numbers in groups."""
    joined: list[str] = []
    local = _LOCAL_DIGITS
    for word in args:
        if local < _LOCAL_DIGITS and _PHONE_GROUP.fullmatch(word):
            joined[-1] += word
            local += sum(c.isdigit() for c in word)
        else:
            joined.append(word)
            local = 0 if _PHONE_START.fullmatch(word) else _LOCAL_DIGITS
    return joined


def _option(verb: Verb, key: str) -> BlockId:
    options = _SYNTAX[verb].options
    for block in options:
        if block.value == key.lower():
            return block
    shown = f"“{_shorten(key)}=”"
    if not options:
        takes = _SYNTAX[verb].takes
        raise UsageError(
            f"`{verb}` takes no options, so {shown} can't be used; it takes {takes}.", verb
        )
    names = _listing(f"{block}=" for block in options)
    raise UsageError(f"`{verb}` options are {names}; {shown} isn't one.", verb)


_CURRENCY_ALONE = re.compile(r"(?:₹|rs\.?|inr)?", re.IGNORECASE)


def _join_spaced_amounts(args: list[str]) -> list[str]:
    """``amount=Rs 1450``, ``amount=₹ 1,450``, ``amount= 1450`` → one word, as meant."""
    joined: list[str] = []
    for word in args:
        previous = _OPTION.fullmatch(joined[-1]) if joined else None
        spaced = (
            previous is not None
            and previous[1].lower() == BlockId.AMOUNT.value
            and _CURRENCY_ALONE.fullmatch(previous[2]) is not None
            and word[:1].isdigit()
        )
        if spaced:
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def _split_options(verb: Verb, args: list[str]) -> tuple[list[str], dict[BlockId, str]]:
    positionals: list[str] = []
    options: dict[BlockId, str] = {}
    for word in _join_spaced_amounts(args):
        match = _OPTION.fullmatch(word)
        if match is None:
            positionals.append(word)
            continue
        block = _option(verb, match[1])
        if block in options:
            raise UsageError(f"{block}= is given twice; give it once.", verb)
        options[block] = match[2]
    return positionals, options


def _value(verb: Verb, block: BlockId, text: str) -> object:
    try:
        return _FIELDS[block].parse(text, f"{block}=")
    except InvalidInputError as error:
        raise UsageError(str(error), verb) from error


def _build(verb: Verb, values: Mapping[BlockId, object]) -> Command:
    kwargs: dict[str, Any] = {_FIELDS[block].attr: value for block, value in values.items()}
    return _SYNTAX[verb].build(**kwargs)


def _parse_fields(verb: Verb, args: list[str]) -> Command | OpenForm:
    syntax = _SYNTAX[verb]
    positionals, options = _split_options(verb, join_phone_groups(args))
    _at_most(verb, positionals, len(syntax.positional))
    given = {**dict(zip(syntax.positional, positionals, strict=False)), **options}
    values = {block: _value(verb, block, text) for block, text in given.items()}
    if len(positionals) < syntax.required:
        prefill = {b.value: v if isinstance(v, str) else given[b] for b, v in values.items()}
        return OpenForm(verb, prefill)
    return _build(verb, values)


_COMMAS = re.compile(r"\s*,\s*")


def _parse_get(verb: Verb, args: list[str]) -> Command | OpenForm:
    args = _COMMAS.sub(",", " ".join(args)).split()  # "A, B" is one list of codes
    if len(args) > 1 and _looks_like_code(args[1]):
        raise UsageError(
            f"“{_shorten(args[1])}” isn't a customer. To look up several codes, separate them "
            f"with commas: `{SLASH_COMMAND} get {_shorten(args[0])},{_shorten(args[1])}`.",
            verb,
        )
    return _parse_fields(verb, args)


def _looks_like_code(word: str) -> bool:
    """A second code typed where the customer goes (codes have letters; phones don't)."""
    return any(c.isalpha() for c in word) and _parses(_code, word) and not _parses(_customer, word)


def _parses(parse: Callable[[str, str], object], word: str) -> bool:
    try:
        parse(word, "")
    except InvalidInputError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Syntax:
    usage: str  # after "/coupon "
    example: str  # after "/coupon "
    summary: str  # lower case: help capitalises it
    takes: str  # "`check` takes <this>; …"
    parse: Callable[[Verb, list[str]], Command | OpenForm]  # the words after the verb
    build: Callable[..., Command]  # keyword arguments from _FIELDS' attrs
    positional: tuple[BlockId, ...] = ()
    required: int = 0  # how many of the positionals must be given
    options: tuple[BlockId, ...] = ()  # key=value, any order


_CODE_CUSTOMER = (BlockId.CODE, BlockId.CUSTOMER)
_SYNTAX: Mapping[Verb, _Syntax] = {
    Verb.HELP: _Syntax(
        usage="help [verb]",
        example="help redeem",
        summary="usage, examples and your role",
        takes="at most one verb",
        parse=_parse_help,
        build=Help,
    ),
    Verb.GET: _Syntax(
        usage="get <code>[,<code>…] [<customer>]",
        example="get GOOD100,REDEEMED100",
        summary="look up coupon details",
        takes="codes separated by commas, then optionally a customer",
        parse=_parse_get,
        build=Get,
        positional=(BlockId.CODES, BlockId.CUSTOMER),
        required=1,
    ),
    Verb.SERIES: _Syntax(
        usage="series <series_id>",
        example="series 1001",
        summary="coupon series details",
        takes="a series id",
        parse=_parse_fields,
        build=SeriesInfo,
        positional=(BlockId.SERIES_ID,),
        required=1,
    ),
    Verb.CHECK: _Syntax(
        usage="check <code> <customer>",
        example="check GOOD100 +919876543210",
        summary="is it redeemable by this customer?",
        takes="a code and a customer",
        parse=_parse_fields,
        build=Check,
        positional=_CODE_CUSTOMER,
        required=2,
    ),
    Verb.RESEND: _Syntax(
        usage="resend <code> <customer>",
        example="resend GOOD100 +919876543210",
        summary="resend the coupon to the customer",
        takes="a code and a customer",
        parse=_parse_fields,
        build=Resend,
        positional=_CODE_CUSTOMER,
        required=2,
    ),
    Verb.ISSUE: _Syntax(
        usage="issue <series_id> <customer>",
        example="issue 1001 +919876543210",
        summary="issue a coupon from a series to a customer",
        takes="a series id and a customer",
        parse=_parse_fields,
        build=Issue,
        positional=(BlockId.SERIES_ID, BlockId.CUSTOMER),
        required=2,
    ),
    Verb.REDEEM: _Syntax(
        usage="redeem <code> <customer> [txn=<bill no>] [amount=<bill amount>] [validation=<code>]",
        example="redeem GOOD100 +919876543210 txn=B-1182 amount=1450",
        summary="redeem a coupon, optionally against a bill",
        takes="a code and a customer, then txn=, amount= or validation=",
        parse=_parse_fields,
        build=Redeem,
        positional=_CODE_CUSTOMER,
        required=2,
        options=(BlockId.TXN, BlockId.AMOUNT, BlockId.VALIDATION),
    ),
    Verb.LOG: _Syntax(
        usage="log [<code>|<customer>|<@user>] [action=<verb>] [status=<s>] "
        "[since=<7d|YYYY-MM-DD>] [limit=<n>]",
        example="log GOOD100",
        summary="query the audit log",
        takes="filters",
        parse=_parse_log,
        build=LogQuery,
    ),
    Verb.PENDING: _Syntax(
        usage="pending",
        example="pending",
        summary="open approval requests in this channel",
        takes="nothing after it",
        parse=_parse_pending,
        build=Pending,
    ),
}


# ---------------------------------------------------------------------------------------------
# Public API.


def parse_command(text: str) -> Command | OpenForm:
    """Parse the text after ``/coupon``: a command, or the form to open when arguments are
    missing. Raises :class:`~bot.commands.UsageError` (and nothing else) for bad input."""
    words = _words(text)
    if not words:
        return OpenForm(None)
    verb = _verb(words[0])
    return _SYNTAX[verb].parse(verb, words[1:])


def parse_form(verb: Verb, values: Mapping[str, str | None]) -> Command:
    """Build ``verb``'s command from its modal's fields (keyed by block id). Raises
    :class:`FormErrors` naming every missing or invalid field at once."""
    parsed: dict[BlockId, object] = {}
    errors: dict[str, str] = {}
    for block, required in _form_fields(verb):
        try:
            value = _form_value(block, values.get(block.value), required)
        except InvalidInputError as error:
            errors[block.value] = str(error)
        else:
            if value is not None:
                parsed[block] = value
    if errors:
        raise FormErrors(errors)
    return _build(verb, parsed)


def _form_fields(verb: Verb) -> list[tuple[BlockId, bool]]:
    syntax = _SYNTAX[verb]
    positional = [(block, i < syntax.required) for i, block in enumerate(syntax.positional)]
    return positional + [(block, False) for block in syntax.options]


def _form_value(block: BlockId, raw: str | None, required: bool) -> object | None:
    text = " ".join((raw or "").split())
    if not text:
        if required:
            raise InvalidInputError(_FIELDS[block].missing)
        return None
    if len(text) > MAX_TEXT or _CONTROL.search(text):
        raise InvalidInputError(
            "That is too long or has invisible control characters: type it again."
        )
    return _FIELDS[block].parse(text, "This")


def usage(verb: Verb | None = None) -> str:
    """The verb's one-line usage, e.g. ``/coupon check <code> <customer>``; without a verb
    (it was not one we know), the overall one: ``/coupon help|get|…|pending …``."""
    if verb is None:
        return f"{SLASH_COMMAND} {'|'.join(_SYNTAX)} …"
    return f"{SLASH_COMMAND} {_SYNTAX[verb].usage}"


def example(verb: Verb) -> str:
    """One realistic example of the verb, e.g. ``/coupon check GOOD100 +919876543210``."""
    return f"{SLASH_COMMAND} {_SYNTAX[verb].example}"


def summary(verb: Verb) -> str:
    """What the verb does, in a few lower-case words: ``is it redeemable by this customer?``."""
    return _SYNTAX[verb].summary
