"""Views: modals (``views.open``/``views.push``/``views.update`` and the ``view_submission``
ack) and Home tabs (``views.publish``).

Trigger rules (single use, ``trigger_ttl_seconds``) live in :meth:`EmulatorState.take_trigger`;
view shape rules in :mod:`validation`; the stack holds at most ``LIMITS.view_stack`` views.
A Home tab needs no trigger: it is one view per user, replaced by each publish (same id, new
hash), and never part of a modal stack.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from bot.sandbox.slack.content import fill_ids, json_arg, string_arg
from bot.sandbox.slack.errors import InvalidAck, SlackError
from bot.sandbox.slack.limits import LIMITS
from bot.sandbox.slack.models import Json, View
from bot.sandbox.slack.state import EmulatorState
from bot.sandbox.slack.validation import check_view

__all__ = [
    "apply_submission_ack",
    "input_block_ids",
    "open_view",
    "publish_view",
    "push_view",
    "update_view",
]

Args = Mapping[str, Any]


def open_view(state: EmulatorState, args: Args) -> Json:
    """Open a new modal for the trigger's user (closing any modal they had open)."""
    payload = _view_arg(state, args.get("view"))
    trigger = state.take_trigger(args.get("trigger_id"))
    for view in state.views(trigger.user, open_only=True):
        view.is_open = False
    return {"view": _new_view(state, trigger.user, payload, previous=None).as_json()}


def push_view(state: EmulatorState, args: Args) -> Json:
    """Push a modal onto the stack the trigger came from (``not_found`` outside a modal)."""
    payload = _view_arg(state, args.get("view"))
    trigger = state.take_trigger(args.get("trigger_id"))
    source = next((v for v in state.views(open_only=True) if v.id == trigger.view_id), None)
    if source is None:
        raise SlackError("not_found")
    top = _stack(state, source.root_view_id)[-1]
    return {"view": _push(state, top, payload).as_json()}


def update_view(state: EmulatorState, args: Args) -> Json:
    """Replace an open view found by ``view_id`` or ``external_id``; ``hash`` guards races."""
    view = _target(state, string_arg(args, "view_id"), string_arg(args, "external_id"))
    payload = _view_arg(state, args.get("view"), replacing=view)
    expected = string_arg(args, "hash")
    if expected is not None and expected != view.hash:
        raise SlackError("hash_conflict")
    _replace(state, view, payload)
    return {"view": view.as_json()}


def publish_view(state: EmulatorState, args: Args) -> Json:
    """Publish a user's Home tab (replacing the last one); ``hash`` guards races."""
    user = string_arg(args, "user_id")
    if user is None:
        raise SlackError("invalid_arguments", ["[ERROR] missing required field: user_id"])
    known = state.workspace.users.get(user)
    if known is None or known.is_bot:
        raise SlackError("invalid_arguments", ["invalid `user_id`"])
    current = state.home(user)
    payload = _view_arg(state, args.get("view"), replacing=current, surface="home")
    expected = string_arg(args, "hash")
    if expected is not None and current is not None and expected != current.hash:
        raise SlackError("hash_conflict")
    if current is None:
        view_id = state.new_id("V")
        current = state.add_home(View(view_id, user, payload, _hash(state), view_id))
    else:
        _replace(state, current, payload)
    return {"view": current.as_json()}


def input_block_ids(view: View) -> list[str]:
    """block_ids of the view's input blocks, in order."""
    return [str(b["block_id"]) for b in view.blocks if b.get("type") == "input"]


def apply_submission_ack(state: EmulatorState, view: View, status: int, body: str) -> str:
    """Do what Slack does with the bot's answer to a view_submission; returns what happened.

    ``closed`` (empty 200 or no response_action), ``errors``, ``updated``, ``pushed``,
    ``cleared``, or ``failed`` (non-200: the modal stays open with a connection error).
    Raises InvalidAck for answers Slack would reject.
    """
    if status != 200:
        return "failed"
    data = _ack_json(body)
    action = data.get("response_action")
    view.errors = {}
    outcome = _ACK_ACTIONS.get(action) if isinstance(action, str) or action is None else None
    if outcome is None:
        raise InvalidAck(f"unknown response_action {action!r}")
    result = outcome(state, view, data)
    state.notify()
    return result


def _ack_json(body: str) -> Json:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidAck(f"view_submission ack is not JSON: {body[:200]!r}") from None
    if not isinstance(data, dict):
        raise InvalidAck("view_submission ack must be a JSON object")
    return data


def _ack_close(state: EmulatorState, view: View, data: Json) -> str:
    view.is_open = False
    return "closed"


def _ack_errors(state: EmulatorState, view: View, data: Json) -> str:
    errors = data.get("errors")
    if not isinstance(errors, dict) or not errors:
        raise InvalidAck("response_action 'errors' needs a non-empty 'errors' object")
    inputs = input_block_ids(view)
    unknown = sorted(key for key in errors if key not in inputs)
    if unknown:
        raise InvalidAck(f"errors keyed by {unknown}, which are not input block_ids {inputs}")
    if not all(isinstance(text, str) and text for text in errors.values()):
        raise InvalidAck("every error message must be a non-empty string")
    view.errors = dict(errors)
    return "errors"


def _ack_update(state: EmulatorState, view: View, data: Json) -> str:
    _replace(state, view, _ack_view(state, data, replacing=view))
    return "updated"


def _ack_push(state: EmulatorState, view: View, data: Json) -> str:
    try:
        _push(state, view, _ack_view(state, data))
    except SlackError as exc:
        raise InvalidAck(f"response_action 'push' refused: {exc}") from None
    return "pushed"


def _ack_clear(state: EmulatorState, view: View, data: Json) -> str:
    for member in _stack(state, view.root_view_id):
        member.is_open = False
    return "cleared"


_ACK_ACTIONS = {
    None: _ack_close,
    "errors": _ack_errors,
    "update": _ack_update,
    "push": _ack_push,
    "clear": _ack_clear,
}


def _ack_view(state: EmulatorState, data: Json, replacing: View | None = None) -> Json:
    try:
        return _view_arg(state, data.get("view"), replacing=replacing)
    except SlackError as exc:
        raise InvalidAck(f"response_action {data.get('response_action')!r}: {exc}") from None


def _view_arg(
    state: EmulatorState, raw: object, replacing: View | None = None, surface: str = "modal"
) -> Json:
    """The validated view object, with generated ids filled in."""
    if raw is None:
        raise SlackError("invalid_arguments", ["[ERROR] missing required field: view"])
    view = json_arg(raw, "invalid_arguments")
    problems = check_view(view, surface=surface)
    if problems or not isinstance(view, dict):
        raise SlackError("invalid_arguments", problems)
    if len(json.dumps(view).encode()) > LIMITS.view_bytes:
        raise SlackError("view_too_large")
    _require_unique_external_id(state, view.get("external_id"), replacing)
    return {**view, "blocks": fill_ids(view["blocks"])}


def _require_unique_external_id(
    state: EmulatorState, external_id: object, replacing: View | None
) -> None:
    if not external_id:
        return
    for view in [*state.views(), *state.homes()]:
        if view.external_id == external_id and view is not replacing:
            raise SlackError("duplicate_external_id")


def _target(state: EmulatorState, view_id: str | None, external_id: str | None) -> View:
    if view_id is None and external_id is None:
        raise SlackError("invalid_arguments", ["[ERROR] view_id or external_id is required"])
    for view in state.views(open_only=True):
        if view.id == view_id or (external_id is not None and view.external_id == external_id):
            return view
    raise SlackError("not_found")


def _stack(state: EmulatorState, root_view_id: str) -> list[View]:
    return [v for v in state.views(open_only=True) if v.root_view_id == root_view_id]


def _push(state: EmulatorState, top: View, payload: Json) -> View:
    if len(_stack(state, top.root_view_id)) >= LIMITS.view_stack:
        raise SlackError("push_limit_reached")
    return _new_view(state, top.user, payload, previous=top)


def _new_view(state: EmulatorState, user: str, payload: Json, previous: View | None) -> View:
    view_id = state.new_id("V")
    root = previous.root_view_id if previous is not None else view_id
    parent = previous.id if previous is not None else None
    return state.add_view(View(view_id, user, payload, _hash(state), root, parent))


def _replace(state: EmulatorState, view: View, payload: Json) -> None:
    """New content and hash; typed values survive where the input block_id still exists."""
    view.history.append(view.payload)
    view.payload, view.hash, view.errors = payload, _hash(state), {}
    kept = set(input_block_ids(view))
    view.values = {key: value for key, value in view.values.items() if key in kept}


def _hash(state: EmulatorState) -> str:
    return f"{int(state.clock())}.{secrets.token_hex(6)}"
