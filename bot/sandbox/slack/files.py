"""``files.getUploadURLExternal``, the upload URL, and ``files.completeUploadExternal``.

What ``AsyncWebClient.files_upload_v2`` does, in three steps: get an upload URL for a
name and length, POST the bytes there, then complete the upload, sharing the file in a
channel (or thread). Each step refuses what Slack refuses; a completed file is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.slack.content import json_arg, string_arg
from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.models import File, Json
from bot.sandbox.slack.seed import BOT_USER_ID
from bot.sandbox.slack.state import EmulatorState

__all__ = ["UPLOAD_PATH", "complete_upload_external", "get_upload_url_external", "receive_upload"]

Args = Mapping[str, Any]

#: Where the emulator serves upload URLs: ``<base_url>/upload/<file_id>``.
UPLOAD_PATH = "/upload/"


def get_upload_url_external(state: EmulatorState, args: Args) -> Json:
    """A file id and the URL to POST its ``length`` bytes to."""
    filename = string_arg(args, "filename")
    if filename is None:
        raise SlackError("invalid_arguments", ["[ERROR] missing required field: filename"])
    length = _length(args.get("length"))
    file = state.add_file(File(state.new_id("F"), filename, length))
    return {"upload_url": f"{state.base_url}{UPLOAD_PATH}{file.id}", "file_id": file.id}


def receive_upload(state: EmulatorState, file_id: str, data: bytes) -> tuple[int, str]:
    """(HTTP status, text) for a POST of ``data`` to a file's upload URL."""
    file = state.file(file_id)
    if file is None:
        return 404, "Not Found"
    if file.completed:
        return 400, "upload already completed"
    file.content = data
    return 200, "OK"


def complete_upload_external(state: EmulatorState, args: Args) -> Json:
    """Finish uploads and share them in ``channel_id`` (in ``thread_ts`` when given).

    Everything is checked before anything changes: a refused call completes no file.
    """
    files = _pending_files(state, args.get("files"))
    channel_id, thread_ts = _destination(state, args)
    for file, title in files:
        file.title = title or file.name
        file.completed = True
        file.channel, file.thread_ts = channel_id, thread_ts
        file.initial_comment = string_arg(args, "initial_comment")
    state.notify()
    return {"files": [file.as_json() for file, _ in files]}


def _length(raw: object) -> int:
    try:
        length = int(str(raw))
    except ValueError:
        raise SlackError("invalid_arguments", ["[ERROR] missing required field: length"]) from None
    if length < 1:
        raise SlackError("invalid_arguments", ["[ERROR] length must be at least 1"])
    return length


def _pending_files(state: EmulatorState, raw: object) -> list[tuple[File, str | None]]:
    items = json_arg(raw, "invalid_arguments")
    if not isinstance(items, list) or not items:
        raise SlackError("invalid_arguments", ["[ERROR] files must be a non-empty array"])
    found: list[tuple[File, str | None]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise SlackError("invalid_arguments", ["[ERROR] each file needs an id"])
        file = state.file(item["id"])
        if file is None or file.completed or any(f is file for f, _ in found):
            raise SlackError("file_not_found")
        if not file.uploaded:
            raise SlackError("file_upload_not_found")  # the bytes were never POSTed
        title = item.get("title")
        found.append((file, title if isinstance(title, str) else None))
    return found


def _destination(state: EmulatorState, args: Args) -> tuple[str | None, str | None]:
    if string_arg(args, "channels") is not None:
        raise SlackError("invalid_arguments", ["[ERROR] the emulator takes channel_id only"])
    channel_arg = string_arg(args, "channel_id")
    if channel_arg is None:
        if string_arg(args, "thread_ts") is not None:
            raise SlackError("invalid_arguments", ["[ERROR] thread_ts needs channel_id"])
        return None, None  # uploaded but shared nowhere: private to the bot
    channel = state.require_channel(channel_arg)
    if BOT_USER_ID not in channel.members:
        raise SlackError("not_in_channel")
    return channel.id, state.thread_parent(channel.id, args.get("thread_ts"))
