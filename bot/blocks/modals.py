"""Modals: the action menu (bare ``/coupon``) and one form per verb. Pure builders.

Modal ids come from :mod:`bot.ids`. ``private_metadata`` carries only the channel and the
verb (:class:`FormMetadata`), never customer identifiers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks.messages import VERB_TITLES
from bot.commands import Verb
from bot.grammar import MAX_TEXT
from bot.ids import ActionId, BlockId, CallbackId, pick_verb_action_id
from bot.payload import field

__all__ = [
    "FORM_VERBS",
    "FormMetadata",
    "action_menu",
    "form_values",
    "notice_view",
    "read_metadata",
    "verb_form",
]


class FormMetadata(BaseModel):
    """What rides in a modal's ``private_metadata``: where to answer, and which verb."""

    model_config = ConfigDict(frozen=True)

    channel_id: str
    verb: Verb | None = None


def read_metadata(raw: str | None) -> FormMetadata | None:
    """Parse ``private_metadata``; None when it is missing or not ours."""
    try:
        return FormMetadata.model_validate_json(raw or "")
    except ValidationError:
        return None


@dataclass(frozen=True, slots=True)
class Field:
    block_id: BlockId
    label: str
    placeholder: str
    hint: str | None = None
    optional: bool = False


_CUSTOMER_HINT = "A mobile number with country code, an email, or ext:<id>, id:<n>, card:<no>."
_CODE = Field(BlockId.CODE, "Coupon code", "GOOD100")
_CUSTOMER = Field(BlockId.CUSTOMER, "Customer", "+919876543210", _CUSTOMER_HINT)
_SERIES = Field(BlockId.SERIES_ID, "Series id", "1001")

FIELDS: Mapping[Verb, tuple[Field, ...]] = {
    Verb.GET: (
        Field(
            BlockId.CODES,
            "Coupon codes",
            "GOOD100, GOOD200",
            "One code, or several separated by commas.",
        ),
        Field(BlockId.CUSTOMER, "Customer", "+919876543210", _CUSTOMER_HINT, optional=True),
    ),
    Verb.SERIES: (_SERIES,),
    Verb.CHECK: (_CODE, _CUSTOMER),
    Verb.RESEND: (_CODE, _CUSTOMER),
    Verb.ISSUE: (_SERIES, _CUSTOMER),
    Verb.REDEEM: (
        _CODE,
        _CUSTOMER,
        Field(BlockId.TXN, "Bill number", "B-1182", "Needed by some coupon series.", optional=True),
        Field(BlockId.AMOUNT, "Bill amount", "1450", optional=True),
        Field(
            BlockId.VALIDATION,
            "Validation code",
            "4321",
            "Only for coupons that need one.",
            optional=True,
        ),
    ),
}
FORM_VERBS: tuple[Verb, ...] = tuple(FIELDS)

_SUBMIT = {
    Verb.GET: "Look up",
    Verb.SERIES: "Show",
    Verb.CHECK: "Check",
    Verb.RESEND: "Resend",
    Verb.ISSUE: "Issue",
    Verb.REDEEM: "Redeem",
}
_MENU_LABELS = {
    Verb.GET: "Look up",
    Verb.SERIES: "Series",
    Verb.CHECK: "Check",
    Verb.RESEND: "Resend",
    Verb.ISSUE: "Issue",
    Verb.REDEEM: "Redeem",
}


def action_menu(channel_id: str, verbs: Sequence[Verb]) -> View:
    """Bare ``/coupon``: one button per verb the user may use; a click opens that verb's form."""
    buttons = [
        ButtonElement(
            text=_MENU_LABELS[verb], action_id=pick_verb_action_id(verb), value=verb.value
        )
        for verb in verbs
        if verb in _MENU_LABELS
    ]
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text="What would you like to do?"))]
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.VERBS, elements=buttons))
    else:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(text="You have no coupon actions yet: `/coupon help`.")
                ]
            )
        )
    return View(
        type="modal",
        callback_id=CallbackId.ACTION_MENU,
        title=PlainTextObject(text="Coupons"),
        close=PlainTextObject(text="Close"),
        private_metadata=FormMetadata(channel_id=channel_id).model_dump_json(),
        blocks=blocks,
    )


def verb_form(verb: Verb, channel_id: str, prefill: Mapping[str, str] | None = None) -> View:
    """The form for one verb, prefilled with what the user already typed."""
    values = prefill or {}
    return View(
        type="modal",
        callback_id=CallbackId.VERB_FORM,
        title=PlainTextObject(text=VERB_TITLES[verb]),
        submit=PlainTextObject(text=_SUBMIT[verb]),
        close=PlainTextObject(text="Cancel"),
        private_metadata=FormMetadata(channel_id=channel_id, verb=verb).model_dump_json(),
        blocks=[_input(field, values.get(field.block_id)) for field in FIELDS[verb]],
    )


def _input(field: Field, initial: str | None) -> InputBlock:
    element = PlainTextInputElement(
        action_id=ActionId.INPUT,
        placeholder=PlainTextObject(text=field.placeholder),
        initial_value=initial[:150] if initial else None,
        max_length=MAX_TEXT,
    )
    return InputBlock(
        block_id=field.block_id,
        label=PlainTextObject(text=field.label),
        element=element,
        hint=PlainTextObject(text=field.hint) if field.hint else None,
        optional=field.optional,
    )


def form_values(state_values: object) -> dict[str, str | None]:
    """``view.state.values`` → {block_id: typed text or None}; anything not shaped like
    Slack's state is left out."""
    result: dict[str, str | None] = {}
    if not isinstance(state_values, dict):
        return result
    for block_id, actions in state_values.items():
        value = field(actions, ActionId.INPUT, "value")
        result[str(block_id)] = value if isinstance(value, str) and value.strip() else None
    return result


def notice_view(title: str, text: str) -> View:
    """A modal that only says something (e.g. a refusal in place of a form)."""
    return View(
        type="modal",
        title=PlainTextObject(text=title[:24]),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text[:3000]))],
    )
