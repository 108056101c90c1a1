"""What Slack sends to a bot: slash command forms, interaction payloads and Events API
callbacks (pure builders).

Shapes follow Slack's payload reference and bolt-python's scenario tests; every payload
names the seeded team and app, so Bolt's single-team authorization accepts it. The same
payloads travel as HTTP bodies or, in Socket Mode, inside envelopes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from typing import Any, Final

from bot.sandbox.slack.errors import DriverError
from bot.sandbox.slack.models import Json, Message, View
from bot.sandbox.slack.render import Button, buttons
from bot.sandbox.slack.seed import APP_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, Channel, User

__all__ = [
    "VERIFICATION_TOKEN",
    "app_home_opened",
    "block_actions",
    "command_form",
    "escape_mentions",
    "event_callback",
    "find_button",
    "state_values",
    "view_submission",
]

VERIFICATION_TOKEN: Final = "sandbox-verification-token"  # Slack's legacy per-app token
_TEXT_INPUTS: Final = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
)
_CHOICE_INPUTS: Final = frozenset({"static_select", "radio_buttons"})


_TYPED_MENTION = re.compile(r"(?<![\w<@.])@([a-z0-9._-]*[a-z0-9_-])")  # "@asha." ends a sentence


def escape_mentions(text: str, users: Iterable[User]) -> str:
    """``@asha`` as Slack sends it for a command with ``should_escape`` (our manifest):
    ``<@U03AGENT|asha>``. A name no one has stays as typed; an email is no mention."""
    by_name = {user.name: user for user in users}

    def escaped(typed: re.Match[str]) -> str:
        user = by_name.get(typed[1])
        return f"<@{user.id}|{user.name}>" if user else typed[0]

    return _TYPED_MENTION.sub(escaped, text)


def command_form(
    *,
    text: str,
    user: User,
    channel: Channel,
    command: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command request, in Slack's order."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel.id,
        "channel_name": "directmessage" if channel.is_im else channel.name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,  # as Slack sends it: see escape_mentions
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def find_button(blocks: list[Json], action_id: str, value: str | None) -> Button:
    """The button with that action_id (and value); DriverError listing what is there."""
    found = [b for b in buttons(blocks) if b.action_id == action_id]
    if value is not None:
        found = [b for b in found if b.value == value]
    if not found:
        present = [f"{b.action_id}={b.value!r}" for b in buttons(blocks)] or ["no buttons"]
        wanted = action_id if value is None else f"{action_id}={value!r}"
        raise DriverError(f"no button {wanted}; present: {', '.join(present)}")
    return found[0]


def block_actions(
    *,
    user: User,
    button: Button,
    trigger_id: str,
    message: Message | None = None,
    channel: Channel | None = None,
    response_url: str | None = None,
    view: View | None = None,
) -> Json:
    """A ``block_actions`` payload for a click in a message (with channel) or a view."""
    payload: Json = {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [_action(button)],
    }
    if view is not None:
        payload.update(container={"type": "view", "view_id": view.id}, view=view.as_json())
    elif message is not None and channel is not None:
        payload.update(_message_parts(message, channel, response_url))
    return payload


def _message_parts(message: Message, channel: Channel, response_url: str | None) -> Json:
    container: Json = {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": channel.id,
        "is_ephemeral": message.ephemeral_for is not None,
    }
    if message.thread_ts is not None:
        container["thread_ts"] = message.thread_ts
    parts: Json = {
        "container": container,
        "channel": {"id": channel.id, "name": channel.name},
        "state": {"values": {}},
        "response_url": response_url,
    }
    if message.ephemeral_for is None:  # Slack sends no message body for ephemeral ones
        parts["message"] = message.as_json()
    return parts


def _action(button: Button) -> Json:
    action: Json = {
        "type": "button",
        "action_id": button.action_id,
        "block_id": button.block_id,
        "text": {"type": "plain_text", "text": button.text, "emoji": True},
        "action_ts": f"{time.time():.6f}",
    }
    if button.value is not None:
        action["value"] = button.value
    if button.style is not None:
        action["style"] = button.style
    return action


def event_callback(event: Json, *, event_id: str, event_time: int) -> Json:
    """An Events API delivery wrapping ``event`` (the bot is the authorized installation)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event.get('type')}-{TEAM_ID}-{event.get('channel', '')}",
    }


def app_home_opened(*, user: User, channel: Channel, event_ts: str, view: View | None) -> Json:
    """The ``app_home_opened`` event for the Home tab; it carries the view once one exists."""
    event: Json = {
        "type": "app_home_opened",
        "user": user.id,
        "channel": channel.id,
        "tab": "home",
        "event_ts": event_ts,
    }
    if view is not None:
        event["view"] = view.as_json()
    return event


def view_submission(*, user: User, view: View, trigger_id: str) -> Json:
    """A ``view_submission`` payload (the view carries its ``state.values``)."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": _user(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": view.as_json(),
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def _user(user: User) -> Json:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID}


def state_values(view: View, values: Mapping[str, str], *, check_required: bool = True) -> Json:
    """``view.state.values`` for a submission: given values, else the initial ones."""
    inputs = {str(b["block_id"]): b for b in view.blocks if b.get("type") == "input"}
    unknown = sorted(set(values) - set(inputs))
    if unknown:
        raise DriverError(f"{unknown} are not input blocks of view {view.id}: {sorted(inputs)}")
    state: Json = {}
    for block_id, block in inputs.items():
        element = block.get("element", {})
        entry = _element_state(element, values.get(block_id), block_id)
        if check_required and not block.get("optional") and _is_empty(entry):
            raise DriverError(f"input {block_id!r} is required: Slack would not submit the view")
        state[block_id] = {str(element.get("action_id")): entry}
    return state


def _element_state(element: Json, given: str | None, block_id: str) -> Json:
    kind = str(element.get("type"))
    if kind in _TEXT_INPUTS:
        value = given if given is not None else element.get("initial_value")
        _check_length(element, value, block_id)
        return {"type": kind, "value": value}
    if kind in _CHOICE_INPUTS:
        option = _option(element, given, block_id) if given is not None else None
        return {"type": kind, "selected_option": option or element.get("initial_option")}
    if given is not None:
        raise DriverError(f"the driver cannot fill a {kind} input ({block_id!r})")
    return {"type": kind}


def _is_empty(entry: Json) -> bool:
    return not entry.get("value") and not entry.get("selected_option")


def _check_length(element: Json, value: Any, block_id: str) -> None:
    length = len(value) if isinstance(value, str) else 0
    low, high = element.get("min_length"), element.get("max_length")
    if value and isinstance(low, int) and length < low:
        raise DriverError(f"{block_id!r}: Slack requires at least {low} characters")
    if isinstance(high, int) and length > high:
        raise DriverError(f"{block_id!r}: Slack allows at most {high} characters")


def _option(element: Json, value: str, block_id: str) -> Json:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options", [])
    for option in options:
        if option.get("value") == value:
            return dict(option)
    present = [option.get("value") for option in options]
    raise DriverError(f"{block_id!r} has no option {value!r}; options: {present}")
