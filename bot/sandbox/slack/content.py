"""Reading Web API arguments: text, blocks and views (JSON or JSON-in-a-form-field).

Blocks that pass validation get Slack's generated ``block_id``/``action_id`` where the bot
left them out, as real Slack does: a bot that relies on ids it never set finds random ones.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Mapping
from typing import Any

from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.limits import LIMITS
from bot.sandbox.slack.models import Json
from bot.sandbox.slack.validation import check_message_blocks

__all__ = ["fill_ids", "flag", "json_arg", "message_content", "parse_blocks", "string_arg"]

_INTERACTIVE_HOLDERS = ("accessory", "element")


def string_arg(args: Mapping[str, Any], name: str) -> str | None:
    """A string argument ("" and absent both mean None)."""
    value = args.get(name)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value)


def flag(args: Mapping[str, Any], name: str) -> bool:
    """A boolean argument: JSON true or the form strings "true"/"1"."""
    value = args.get(name)
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def json_arg(value: object, error: str) -> object:
    """A JSON value that may arrive as a JSON string (form bodies); ``error`` if unparsable."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise SlackError(error, ["[ERROR] failed to parse JSON"]) from None


def parse_blocks(raw: object) -> list[Json] | None:
    """Validated ``blocks`` with generated ids filled in (None when absent)."""
    if raw is None:
        return None
    blocks = json_arg(raw, "invalid_blocks_format")
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format", ["[ERROR] blocks must be an array"])
    problems = check_message_blocks(blocks)
    if problems:
        raise SlackError("invalid_blocks", problems)
    return fill_ids(blocks)


def message_content(
    args: Mapping[str, Any], *, required: bool = True
) -> tuple[str | None, list[Json] | None]:
    """``(text, blocks)`` of a chat.* call: no_text / msg_too_long / invalid_blocks."""
    text = string_arg(args, "text")
    blocks = parse_blocks(args.get("blocks"))
    attachments = json_arg(args.get("attachments"), "invalid_attachments")
    if required and not text and not blocks and not attachments:
        raise SlackError("no_text")
    if text is not None and len(text) > LIMITS.message_text:
        raise SlackError("msg_too_long")
    return text, blocks


def fill_ids(blocks: list[Any]) -> list[Json]:
    """A copy of ``blocks`` where every block has a block_id and every element an action_id."""
    filled: list[Json] = copy.deepcopy(blocks)
    taken = {b["block_id"] for b in filled if isinstance(b.get("block_id"), str)}
    for block in filled:
        if "block_id" not in block:
            block["block_id"] = _fresh_id(taken)
        for element in _interactive(block):
            element.setdefault("action_id", _fresh_id(set()))
    return filled


def _interactive(block: Json) -> list[Json]:
    found = [block[key] for key in _INTERACTIVE_HOLDERS if isinstance(block.get(key), dict)]
    if block.get("type") == "actions":
        found += [e for e in block.get("elements", []) if isinstance(e, dict)]
    return [element for element in found if element.get("type") != "image"]


def _fresh_id(taken: set[str]) -> str:
    while True:
        candidate = secrets.token_urlsafe(4)[:5]
        if candidate not in taken:
            taken.add(candidate)
            return candidate
