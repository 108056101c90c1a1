"""Block Kit → plain terminal text, for ``coupon-bot shell`` (pure functions, no I/O).

Buttons are numbered in reading order across a message or view (``[1] Approve  [2] Reject``);
:func:`buttons` returns them in that same order so a shell can map a number to a click.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from bot.sandbox.slack.models import Json, Message, View

__all__ = [
    "CONTEXT_PREFIX",
    "Button",
    "buttons",
    "mrkdwn_to_text",
    "render_blocks",
    "render_message",
    "render_view",
]

CONTEXT_PREFIX: Final = "  ┆ "
ERROR_PREFIX: Final = "  ⚠ "
DIVIDER: Final = "─" * 40
_DIM, _RESET = "\x1b[2m", "\x1b[0m"
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


@dataclass(frozen=True)
class Button:
    """A clickable button as the shell lists it."""

    action_id: str
    text: str
    value: str | None
    style: str | None
    block_id: str
    url: str | None = None


def buttons(blocks: list[Json]) -> list[Button]:
    """Every button in ``blocks`` (actions elements and section accessories), in order."""
    return [_button(element, str(block.get("block_id", ""))) for block, element in _buttons(blocks)]


def _buttons(blocks: list[Json]) -> Iterator[tuple[Json, Json]]:
    for block in blocks:
        for element in _elements(block):
            if element.get("type") == "button":
                yield block, element


def _elements(block: Json) -> list[Json]:
    if block.get("type") == "actions":
        return [e for e in block.get("elements", []) if isinstance(e, dict)]
    accessory = block.get("accessory")
    return [accessory] if isinstance(accessory, dict) else []


def _button(element: Json, block_id: str) -> Button:
    text = element.get("text")
    label = str(text.get("text", "")) if isinstance(text, dict) else ""
    value, style, url = element.get("value"), element.get("style"), element.get("url")
    return Button(
        action_id=str(element.get("action_id", "")),
        text=label,
        value=None if value is None else str(value),
        style=None if style is None else str(style),
        block_id=block_id,
        url=None if url is None else str(url),
    )


def mrkdwn_to_text(text: str, users: Mapping[str, str]) -> str:
    """``<@U1>`` → ``@name``, ``<url|label>`` → ``label``, ``<#C1|x>`` → ``#x``; &amp; decoded.

    A date token ``<!date^1767225600^{date_short_pretty} at {time}|Jan 1>`` shows its
    fallback text (Slack's clients format it in the reader's time zone).
    """
    return html.unescape(_LINK.sub(lambda match: _link(match, users), text))


def _link(match: re.Match[str], users: Mapping[str, str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("!date^"):
        return label if label is not None else _date_fallback(target)
    if target.startswith("@"):
        return "@" + (users.get(target[1:]) or label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):
        return label or "@" + target.removeprefix("!subteam^")
    if target.startswith("!"):
        return "@" + target[1:]
    return label or target


def _date_fallback(target: str) -> str:
    """A date token without fallback text (Slack requires one): its time in UTC."""
    stamp = target.split("^")[1]
    if not stamp.lstrip("-").isdigit():
        return target
    return datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%d %H:%M UTC")


def render_message(
    message: Message, *, users: Mapping[str, str], header: bool = True, color: bool = False
) -> str:
    """A message as text: author line, then its blocks (or its text when it has none)."""
    lines = [_author(message, users)] if header else []
    if message.blocks:
        lines.append(render_blocks(message.blocks, users=users, color=color))
    else:
        lines.append(mrkdwn_to_text(message.text, users))
    return "\n".join(lines)


def _author(message: Message, users: Mapping[str, str]) -> str:
    notes = [f"ts {message.ts}"]
    if message.ephemeral_for is not None:
        notes.append(f"only visible to @{users.get(message.ephemeral_for, message.ephemeral_for)}")
    if message.edited:
        notes.append("edited")
    return f"@{users.get(message.user, message.user)} ({', '.join(notes)})"


def render_view(view: View, *, users: Mapping[str, str], color: bool = False) -> str:
    """A modal as text: title, blocks with input fields and their errors, then submit/close.

    A Home tab has no title or buttons of its own: ``┌ Home ┐`` and its blocks.
    """
    renderer = _Renderer(users, color, view.errors, view.values)
    if view.payload.get("type") == "home":
        return "\n".join(["┌ Home ┐", *renderer.blocks(view.blocks)])
    lines = [f"┌ {view.title} ┐", *renderer.blocks(view.blocks), _footer(view.payload)]
    return "\n".join(line for line in lines if line)


def _footer(payload: Json) -> str:
    labels = [_plain(payload.get(key)) for key in ("submit", "close")]
    shown = [f"<{label}>" for label in labels if label]
    return "  ".join(shown) or "<Close>"


def render_blocks(blocks: list[Json], *, users: Mapping[str, str], color: bool = False) -> str:
    """Blocks as text lines, buttons numbered from 1."""
    return "\n".join(_Renderer(users, color, {}, {}).blocks(blocks))


class _Renderer:
    """Turns blocks into lines; numbers buttons as it meets them."""

    def __init__(
        self, users: Mapping[str, str], color: bool, errors: Mapping[str, str], values: Json
    ) -> None:
        self.users, self.color, self.errors, self.values = users, color, errors, values
        self.number = 0

    def blocks(self, blocks: list[Json]) -> list[str]:
        lines: list[str] = []
        for block in blocks:
            lines.extend(_BLOCKS.get(str(block.get("type")), _Renderer.unknown)(self, block))
        return lines

    def text(self, obj: object) -> str:
        if not isinstance(obj, dict):
            return ""
        raw = str(obj.get("text", ""))
        return mrkdwn_to_text(raw, self.users) if obj.get("type") == "mrkdwn" else raw

    def header(self, block: Json) -> list[str]:
        return [f"== {self.text(block.get('text'))} =="]

    def section(self, block: Json) -> list[str]:
        lines = self.text(block.get("text")).splitlines() if block.get("text") else []
        lines += [_field(self.text(field)) for field in block.get("fields", [])]
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            lines.append(self.element(accessory))
        return lines

    def context(self, block: Json) -> list[str]:
        parts = [self.text(e) or _image(e) for e in block.get("elements", [])]
        line = CONTEXT_PREFIX + "  ".join(part for part in parts if part)
        return [f"{_DIM}{line}{_RESET}" if self.color else line]

    def actions(self, block: Json) -> list[str]:
        return ["  ".join(self.element(e) for e in block.get("elements", []))]

    def divider(self, block: Json) -> list[str]:
        return [DIVIDER]

    def image(self, block: Json) -> list[str]:
        return [_image(block)]

    def markdown(self, block: Json) -> list[str]:
        return str(block.get("text", "")).splitlines()

    def rich_text(self, block: Json) -> list[str]:
        return "".join(_rich(block, self.users)).splitlines()

    def unknown(self, block: Json) -> list[str]:
        return [f"[{block.get('type')} block]"]

    def input(self, block: Json) -> list[str]:
        optional = " (optional)" if block.get("optional") else ""
        lines = [f"{self.text(block.get('label'))}{optional}:"]
        element = block.get("element")
        lines.append("  " + self.field_value(block, element if isinstance(element, dict) else {}))
        if block.get("hint"):
            lines.append(f"  ({self.text(block.get('hint'))})")
        error = self.errors.get(str(block.get("block_id")))
        if error:
            lines.append(ERROR_PREFIX + error)
        return lines

    def field_value(self, block: Json, element: Json) -> str:
        """``[typed or initial value]``, the options of a choice, or the placeholder."""
        value = self.current_value(block, element)
        if element.get("options"):
            choices = " | ".join(self.text(o.get("text")) for o in element["options"])
            return f"[{value or ' '}] ({choices})"
        placeholder = self.text(element.get("placeholder"))
        return f"[{value}]" if value else f"[____] {placeholder}".rstrip()

    def current_value(self, block: Json, element: Json) -> str:
        """What the input shows: the submitted value, else the initial one."""
        typed = self.values.get(str(block.get("block_id")), {}).get(element.get("action_id"))
        if isinstance(typed, dict):
            return str(typed.get("value") or self.option_text(typed.get("selected_option")))
        return str(element.get("initial_value") or self.option_text(element.get("initial_option")))

    def option_text(self, option: object) -> str:
        return self.text(option.get("text")) if isinstance(option, dict) else ""

    def element(self, element: Json) -> str:
        if element.get("type") == "button":
            self.number += 1
            return f"[{self.number}] {self.text(element.get('text'))}"
        placeholder = self.text(element.get("placeholder"))
        return f"<{element.get('type')}{': ' + placeholder if placeholder else ''}>"


def _field(text: str) -> str:
    """``*Label*\\nValue`` → ``Label: Value``."""
    label, newline, value = text.partition("\n")
    if not newline:
        return text
    return f"{label.strip('*_ ').rstrip(':')}: {value.strip()}"


def _image(element: object) -> str:
    alt = element.get("alt_text", "") if isinstance(element, dict) else ""
    return f"[image: {alt}]" if alt else ""


def _rich(node: Any, users: Mapping[str, str]) -> Iterator[str]:
    """Text of a rich_text tree: text, links, user mentions, emoji and nested elements."""
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "text":
        yield str(node.get("text", ""))
    elif kind == "link":
        yield str(node.get("text") or node.get("url", ""))
    elif kind == "user":
        yield "@" + users.get(str(node.get("user_id")), str(node.get("user_id")))
    elif kind == "emoji":
        yield f":{node.get('name')}:"
    for child in node.get("elements", []):
        yield from _rich(child, users)
    if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
        yield "\n"


def _plain(obj: object) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


_BLOCKS: Final[Mapping[str, Callable[[_Renderer, Json], list[str]]]] = {
    "header": _Renderer.header,
    "section": _Renderer.section,
    "context": _Renderer.context,
    "actions": _Renderer.actions,
    "divider": _Renderer.divider,
    "image": _Renderer.image,
    "markdown": _Renderer.markdown,
    "rich_text": _Renderer.rich_text,
    "input": _Renderer.input,
}
