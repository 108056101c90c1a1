"""Who is who: ``auth.test``, ``users.info``, ``usergroups.list``, ``usergroups.users.list``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.slack.content import flag, string_arg
from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.models import Json
from bot.sandbox.slack.seed import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
)
from bot.sandbox.slack.state import EmulatorState

__all__ = ["auth_test", "usergroups_list", "usergroups_users_list", "users_info"]

Args = Mapping[str, Any]


def auth_test(state: EmulatorState, args: Args) -> Json:
    """The bot's identity (Bolt calls this once, on the first request)."""
    return {
        "url": f"https://{TEAM_DOMAIN}.slack.com/",
        "team": TEAM_NAME,
        "user": BOT_NAME,
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "is_enterprise_install": False,
    }


def users_info(state: EmulatorState, args: Args) -> Json:
    """One user's profile; ``user_not_found`` for ids outside the workspace."""
    user = state.workspace.users.get(string_arg(args, "user") or "")
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user.as_json()}


def usergroups_list(state: EmulatorState, args: Args) -> Json:
    """Every user group; members only with ``include_users=true``."""
    include_users = flag(args, "include_users")
    groups = state.workspace.groups.values()
    return {"usergroups": [group.as_json(include_users=include_users) for group in groups]}


def usergroups_users_list(state: EmulatorState, args: Args) -> Json:
    """Members of one user group; ``no_such_subteam`` for unknown ids."""
    group = state.workspace.groups.get(string_arg(args, "usergroup") or "")
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group.users)}
