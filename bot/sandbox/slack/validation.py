"""Block Kit and view validation against :mod:`limits`, worded like Slack's own answers.

Each problem reads ``[ERROR] <what> [json-pointer:/blocks/0/text/text]``, the form Slack puts
in ``response_metadata.messages`` next to ``invalid_blocks`` / ``invalid_arguments``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

from bot.sandbox.slack.limits import (
    ACTION_ELEMENTS,
    BLOCK_TYPES,
    BUTTON_STYLES,
    CONTEXT_ELEMENTS,
    INPUT_ELEMENTS,
    LIMITS,
    SECTION_ACCESSORIES,
    TEXT_TYPES,
)

__all__ = ["check_message_blocks", "check_view", "problem"]

Json = dict[str, Any]


def problem(pointer: str, message: str) -> str:
    """One line of ``response_metadata.messages``."""
    return f"[ERROR] {message} [json-pointer:{pointer}]"


class _Checker:
    """Collects problems and the block ids seen so far in one message or view."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.block_ids: set[str] = set()
        self.action_ids: set[str] = set()

    def fail(self, pointer: str, message: str) -> None:
        self.problems.append(problem(pointer, message))


def check_message_blocks(blocks: object) -> list[str]:
    """Problems with a message's ``blocks`` (empty when Slack would accept them)."""
    checker = _Checker()
    _blocks(checker, blocks, "/blocks", LIMITS.message_blocks)
    return checker.problems


def check_view(view: object, *, surface: str = "modal") -> list[str]:
    """Problems with a view object (empty when Slack would accept it).

    ``surface`` is ``modal`` (views.open / push / update) or ``home`` (views.publish).
    """
    checker = _Checker()
    if not isinstance(view, dict):
        checker.fail("/view", "must be an object")
        return checker.problems
    _VIEW_CHECKS[surface](checker, view, "/view")
    return checker.problems


def _modal(c: _Checker, view: Json, p: str) -> None:
    if view.get("type") != "modal":
        c.fail(f"{p}/type", "must be 'modal' (a Home tab is published with views.publish)")
    _text(c, view.get("title"), f"{p}/title", LIMITS.modal_title, plain=True)
    _text(c, view.get("submit"), f"{p}/submit", LIMITS.modal_submit, plain=True, required=False)
    _text(c, view.get("close"), f"{p}/close", LIMITS.modal_close, plain=True, required=False)
    _view_fields(c, view, p)
    if _has_input(view.get("blocks")) and view.get("submit") is None:
        c.fail(p, "must provide a submit property when an input block is present")


def _home(c: _Checker, view: Json, p: str) -> None:
    """A Home tab: type, blocks and the optional ids; no title, submit or close to check."""
    if view.get("type") != "home":
        c.fail(f"{p}/type", "must be 'home' (modals are opened with views.open)")
    _view_fields(c, view, p)


def _view_fields(c: _Checker, view: Json, p: str) -> None:
    """What modals and Home tabs share: metadata, ids and up to 100 blocks."""
    _string(c, view, "private_metadata", p, LIMITS.private_metadata)
    _string(c, view, "callback_id", p, LIMITS.callback_id)
    _string(c, view, "external_id", p, LIMITS.external_id)
    _blocks(c, view.get("blocks"), f"{p}/blocks", LIMITS.modal_blocks)


def _has_input(blocks: object) -> bool:
    return isinstance(blocks, list) and any(
        isinstance(block, dict) and block.get("type") == "input" for block in blocks
    )


def _string(c: _Checker, obj: Json, key: str, p: str, max_len: int) -> None:
    value = obj.get(key)
    if value is None:
        return
    if not isinstance(value, str):
        c.fail(f"{p}/{key}", "must provide a string")
    elif len(value) > max_len:
        c.fail(f"{p}/{key}", f"must be less than {max_len + 1} characters")


def _text(
    c: _Checker, obj: object, p: str, max_len: int, *, plain: bool = False, required: bool = True
) -> None:
    """A text object: plain_text or mrkdwn, a non-empty string within ``max_len``."""
    if obj is None:
        if required:
            c.fail(p, "missing required field")
        return
    if not isinstance(obj, dict):
        c.fail(p, "must provide an object")
        return
    kind = obj.get("type")
    if kind not in TEXT_TYPES:
        c.fail(f"{p}/type", "failed to match all allowed schemas (plain_text or mrkdwn)")
    elif plain and kind != "plain_text":
        c.fail(f"{p}/type", "must be plain_text")
    _length(c, obj.get("text"), f"{p}/text", max_len)


def _length(c: _Checker, text: object, p: str, max_len: int) -> None:
    if not isinstance(text, str):
        c.fail(p, "must provide a string")
    elif not text:
        c.fail(p, "must be more than 0 characters")
    elif len(text) > max_len:
        c.fail(p, f"must be less than {max_len + 1} characters")


def _blocks(c: _Checker, blocks: object, p: str, max_blocks: int) -> None:
    if not isinstance(blocks, list):
        c.fail(p, "must provide an array")
        return
    if len(blocks) > max_blocks:
        c.fail(p, f"no more than {max_blocks} items allowed")
    for index, block in enumerate(blocks):
        _block(c, block, f"{p}/{index}")


def _block(c: _Checker, block: object, p: str) -> None:
    if not isinstance(block, dict):
        c.fail(p, "must provide an object")
        return
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        c.fail(f"{p}/type", f"failed to match all allowed schemas (unknown block type {kind!r})")
        return
    _block_id(c, block.get("block_id"), f"{p}/block_id")
    c.action_ids = set()
    _BLOCK_CHECKS[kind](c, block, p)


def _block_id(c: _Checker, block_id: object, p: str) -> None:
    if block_id is None:
        return
    if not isinstance(block_id, str) or not block_id:
        c.fail(p, "must provide a non-empty string")
    elif len(block_id) > LIMITS.block_id:
        c.fail(p, f"must be less than {LIMITS.block_id + 1} characters")
    elif block_id in c.block_ids:
        c.fail(p, f"duplicate block_id {block_id!r}: block_ids must be unique")
    else:
        c.block_ids.add(block_id)


def _section(c: _Checker, block: Json, p: str) -> None:
    if block.get("text") is None and block.get("fields") is None:
        c.fail(p, "must provide text or fields")
    _text(c, block.get("text"), f"{p}/text", LIMITS.section_text, required=False)
    fields = block.get("fields")
    if fields is not None:
        _fields(c, fields, f"{p}/fields")
    if block.get("accessory") is not None:
        _element(c, block["accessory"], f"{p}/accessory", SECTION_ACCESSORIES)


def _fields(c: _Checker, fields: object, p: str) -> None:
    if not isinstance(fields, list) or not fields:
        c.fail(p, "must provide a non-empty array")
        return
    if len(fields) > LIMITS.section_fields:
        c.fail(p, f"no more than {LIMITS.section_fields} items allowed")
    for index, field in enumerate(fields):
        _text(c, field, f"{p}/{index}", LIMITS.section_field_text)


def _header(c: _Checker, block: Json, p: str) -> None:
    _text(c, block.get("text"), f"{p}/text", LIMITS.header_text, plain=True)


def _context(c: _Checker, block: Json, p: str) -> None:
    elements = _items(c, block.get("elements"), f"{p}/elements", LIMITS.context_elements)
    for index, element in enumerate(elements):
        _context_element(c, element, f"{p}/elements/{index}")


def _context_element(c: _Checker, element: object, p: str) -> None:
    kind = element.get("type") if isinstance(element, dict) else None
    if kind not in CONTEXT_ELEMENTS:
        c.fail(p, "failed to match all allowed schemas (image, plain_text or mrkdwn)")
    elif kind == "image":
        _image(c, element, p)
    else:
        _text(c, element, p, LIMITS.section_text)


def _actions(c: _Checker, block: Json, p: str) -> None:
    elements = _items(c, block.get("elements"), f"{p}/elements", LIMITS.actions_elements)
    for index, element in enumerate(elements):
        _element(c, element, f"{p}/elements/{index}", ACTION_ELEMENTS)


def _items(c: _Checker, items: object, p: str, max_items: int) -> list[object]:
    if not isinstance(items, list) or not items:
        c.fail(p, "must provide a non-empty array")
        return []
    if len(items) > max_items:
        c.fail(p, f"no more than {max_items} items allowed")
    return items


def _input(c: _Checker, block: Json, p: str) -> None:
    _text(c, block.get("label"), f"{p}/label", LIMITS.input_label, plain=True)
    _text(c, block.get("hint"), f"{p}/hint", LIMITS.input_hint, plain=True, required=False)
    if block.get("element") is None:
        c.fail(f"{p}/element", "missing required field")
    else:
        _element(c, block["element"], f"{p}/element", INPUT_ELEMENTS)


def _image(c: _Checker, block: object, p: str) -> None:
    image = block if isinstance(block, dict) else {}
    if image.get("image_url") is None and image.get("slack_file") is None:
        c.fail(p, "must provide image_url or slack_file")
    if not isinstance(image.get("alt_text"), str):
        c.fail(f"{p}/alt_text", "must provide a string")


def _rich_text(c: _Checker, block: Json, p: str) -> None:
    if not isinstance(block.get("elements"), list):
        c.fail(f"{p}/elements", "must provide an array")


def _markdown(c: _Checker, block: Json, p: str) -> None:
    _length(c, block.get("text"), f"{p}/text", LIMITS.markdown_text)


def _divider(c: _Checker, block: Json, p: str) -> None:
    """A divider carries nothing but its type and block_id."""


def _element(c: _Checker, element: object, p: str, allowed: Collection[str]) -> None:
    if not isinstance(element, dict):
        c.fail(p, "must provide an object")
        return
    kind = element.get("type")
    if not isinstance(kind, str) or kind not in allowed:
        c.fail(f"{p}/type", f"failed to match all allowed schemas (element type {kind!r})")
        return
    _action_id(c, element.get("action_id"), f"{p}/action_id")
    _ELEMENT_CHECKS.get(kind, _no_more)(c, element, p)


def _action_id(c: _Checker, action_id: object, p: str) -> None:
    if action_id is None:
        return
    if not isinstance(action_id, str) or not action_id:
        c.fail(p, "must provide a non-empty string")
    elif len(action_id) > LIMITS.action_id:
        c.fail(p, f"must be less than {LIMITS.action_id + 1} characters")
    elif action_id in c.action_ids:
        c.fail(p, f"duplicate action_id {action_id!r} within one block")
    else:
        c.action_ids.add(action_id)


def _button(c: _Checker, button: Json, p: str) -> None:
    _text(c, button.get("text"), f"{p}/text", LIMITS.button_text, plain=True)
    _string(c, button, "value", p, LIMITS.button_value)
    _string(c, button, "url", p, LIMITS.button_url)
    if button.get("style") is not None and button["style"] not in BUTTON_STYLES:
        c.fail(f"{p}/style", "must be one of primary, danger")
    if button.get("confirm") is not None:
        _confirm(c, button["confirm"], f"{p}/confirm")


def _confirm(c: _Checker, confirm: object, p: str) -> None:
    dialog = confirm if isinstance(confirm, dict) else {}
    _text(c, dialog.get("title"), f"{p}/title", LIMITS.confirm_title, plain=True)
    _text(c, dialog.get("text"), f"{p}/text", LIMITS.confirm_text)
    _text(c, dialog.get("confirm"), f"{p}/confirm", LIMITS.confirm_button, plain=True)
    _text(c, dialog.get("deny"), f"{p}/deny", LIMITS.confirm_button, plain=True)


def _select(c: _Checker, select: Json, p: str) -> None:
    _placeholder(c, select, p)
    if select.get("option_groups") is None:
        _options(c, select.get("options"), f"{p}/options", LIMITS.select_options, plain=True)


def _choices(c: _Checker, choices: Json, p: str) -> None:
    _options(c, choices.get("options"), f"{p}/options", LIMITS.radio_options, plain=False)


def _overflow(c: _Checker, overflow: Json, p: str) -> None:
    _options(c, overflow.get("options"), f"{p}/options", LIMITS.select_options, plain=True)


def _options(c: _Checker, options: object, p: str, max_items: int, *, plain: bool) -> None:
    for index, option in enumerate(_items(c, options, p, max_items)):
        entry = option if isinstance(option, dict) else {}
        _text(c, entry.get("text"), f"{p}/{index}/text", LIMITS.option_text, plain=plain)
        _length(c, entry.get("value"), f"{p}/{index}/value", LIMITS.option_value)


def _placeholder(c: _Checker, element: Json, p: str) -> None:
    placeholder = element.get("placeholder")
    _text(c, placeholder, f"{p}/placeholder", LIMITS.placeholder, plain=True, required=False)


def _no_more(c: _Checker, element: Json, p: str) -> None:
    """Elements the bot does not use are checked for type and action_id only."""


_Check = Callable[[_Checker, Json, str], None]
_VIEW_CHECKS: Final[Mapping[str, _Check]] = {"modal": _modal, "home": _home}
_BLOCK_CHECKS: Final[Mapping[str, _Check]] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "divider": _divider,
    "input": _input,
    "rich_text": _rich_text,
    "image": _image,
    "markdown": _markdown,
}
_ELEMENT_CHECKS: Final[Mapping[str, _Check]] = {
    "button": _button,
    "image": _image,
    "static_select": _select,
    "multi_static_select": _select,
    "radio_buttons": _choices,
    "checkboxes": _choices,
    "overflow": _overflow,
    "plain_text_input": _placeholder,
    "number_input": _placeholder,
    "email_text_input": _placeholder,
    "url_text_input": _placeholder,
}
