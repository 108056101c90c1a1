"""Slack's limits as data: one table the validators and the tests both read.

Sources are the keys of /work/shared/slack-platform.md (D-BLK, D-MODAL, D-TRIG, D-INT, D-PM,
S-SRC = slack_sdk.models validators).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "ACTION_ELEMENTS",
    "BLOCK_TYPES",
    "BUTTON_STYLES",
    "CONTEXT_ELEMENTS",
    "INPUT_ELEMENTS",
    "LIMITS",
    "SECTION_ACCESSORIES",
    "TEXT_TYPES",
    "Limits",
]


@dataclass(frozen=True)
class Limits:
    """Maximum lengths (characters) and counts Slack enforces."""

    message_text: int = 40_000  # D-PM (chat.* answer msg_too_long beyond this)
    message_blocks: int = 50  # D-BLK
    modal_blocks: int = 100  # D-BLK, D-MODAL (Home tabs too)
    section_text: int = 3_000  # S-SRC SectionBlock
    section_fields: int = 10  # S-SRC
    section_field_text: int = 2_000  # S-SRC
    header_text: int = 150  # S-SRC HeaderBlock
    markdown_text: int = 12_000  # S-SRC MarkdownBlock
    context_elements: int = 10  # S-SRC
    actions_elements: int = 25  # S-SRC
    button_text: int = 75  # S-SRC ButtonElement
    button_value: int = 2_000  # S-SRC
    button_url: int = 3_000  # S-SRC
    block_id: int = 255  # S-SRC
    action_id: int = 255  # S-SRC
    input_label: int = 2_000  # S-SRC
    input_hint: int = 2_000  # S-SRC
    placeholder: int = 150  # S-SRC
    option_text: int = 75  # S-SRC
    option_value: int = 150  # S-SRC
    select_options: int = 100  # S-SRC
    radio_options: int = 10  # S-SRC
    confirm_title: int = 100  # S-SRC ConfirmObject
    confirm_text: int = 300  # S-SRC
    confirm_button: int = 30  # S-SRC (confirm and deny)
    modal_title: int = 24  # D-MODAL
    modal_submit: int = 24  # D-MODAL
    modal_close: int = 24  # D-MODAL
    private_metadata: int = 3_000  # D-MODAL
    callback_id: int = 255  # D-MODAL
    external_id: int = 255  # D-MODAL
    view_bytes: int = 250_000  # D-METH views.* (view_too_large)
    view_stack: int = 3  # D-METH views.push (push_limit_reached)
    trigger_ttl_seconds: float = 3.0  # D-TRIG
    response_url_uses: int = 5  # D-INT
    response_url_ttl_seconds: float = 30 * 60  # D-INT
    signature_window_seconds: int = 5 * 60  # D-SIGN


LIMITS: Final = Limits()

TEXT_TYPES: Final = frozenset({"plain_text", "mrkdwn"})
BLOCK_TYPES: Final = frozenset(
    {
        "section",
        "header",
        "context",
        "actions",
        "divider",
        "input",
        "rich_text",
        "image",
        "markdown",
    }
)
BUTTON_STYLES: Final = frozenset({"primary", "danger"})
_SELECTS: Final = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
_PICKERS: Final = frozenset({"datepicker", "timepicker", "datetimepicker"})
_CHOICES: Final = frozenset({"checkboxes", "radio_buttons"})
ACTION_ELEMENTS: Final = _SELECTS | _PICKERS | _CHOICES | {"button", "overflow"}
SECTION_ACCESSORIES: Final = ACTION_ELEMENTS | {"image"}
CONTEXT_ELEMENTS: Final = TEXT_TYPES | {"image"}
INPUT_ELEMENTS: Final = (
    _SELECTS
    | _PICKERS
    | _CHOICES
    | {
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
        "rich_text_input",
        "file_input",
    }
)
