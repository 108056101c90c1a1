"""The seeded Slack workspace: team, bot, users, user groups and channels.

Other code (policy files, end-to-end tests, the shell) relies on these exact ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_NAME",
    "BOT_USER_ID",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "Channel",
    "User",
    "UserGroup",
    "Workspace",
    "seed_workspace",
]

TEAM_ID = "T0SANDBOX"
TEAM_NAME = "Sandbox Retail"
TEAM_DOMAIN = "sandbox-retail"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
BOT_NAME = "coupon-bot"
APP_ID = "A0COUPON"


@dataclass(frozen=True)
class User:
    """A workspace member (or the bot user)."""

    id: str
    name: str
    real_name: str
    tz: str = "Asia/Kolkata"
    is_bot: bool = False

    def as_json(self) -> dict[str, Any]:
        """The ``users.info`` shape (trimmed to the fields a bot reads)."""
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": self.real_name,
            "tz": self.tz,
            "is_bot": self.is_bot,
            "deleted": False,
            "profile": {"display_name": self.name, "real_name": self.real_name},
        }


@dataclass(frozen=True)
class UserGroup:
    """A user group (``S…``), mentioned as ``@handle``."""

    id: str
    handle: str
    name: str
    users: tuple[str, ...]

    def as_json(self, *, include_users: bool) -> dict[str, Any]:
        """The ``usergroups.list`` shape; members only when asked for."""
        found: dict[str, Any] = {
            "id": self.id,
            "team_id": TEAM_ID,
            "is_usergroup": True,
            "handle": self.handle,
            "name": self.name,
            "user_count": len(self.users),
        }
        if include_users:
            found["users"] = list(self.users)
        return found


@dataclass
class Channel:
    """A conversation: public channel (``C…``) or the bot's DM with a user (``D…``).

    An archived channel keeps its members but takes no new messages and no edits."""

    id: str
    name: str
    members: set[str] = field(default_factory=set)
    is_im: bool = False
    is_archived: bool = False


@dataclass
class Workspace:
    """Everything about the team that the Web API reads but never changes (except DMs);
    tests change channels through :meth:`EmulatorState.remove_member` and ``archive``."""

    users: dict[str, User]
    groups: dict[str, UserGroup]
    channels: dict[str, Channel]

    def user_names(self) -> dict[str, str]:
        """User id → short name, for rendering ``<@U…>`` mentions."""
        return {user.id: user.name for user in self.users.values()}

    def dm_with(self, user_id: str) -> Channel:
        """The bot's DM with a user, created on first use (what posting to a ``U…`` id does)."""
        channel_id = "D" + user_id[1:]
        if channel_id not in self.channels:
            members = {BOT_USER_ID, user_id}
            self.channels[channel_id] = Channel(channel_id, user_id, members, is_im=True)
        return self.channels[channel_id]


_PEOPLE = (
    User("U01ADMIN", "meera", "Meera Iyer"),
    User("U02LEAD", "ravi", "Ravi Kumar"),
    User("U03AGENT", "asha", "Asha Nair"),
    User("U04VIEWER", "vik", "Vikram Shah"),
    User("U05GUEST", "sam", "Sam Lee", tz="Europe/London"),
    User("U06LEAD2", "lena", "Lena Das"),
)
_BOT = User(BOT_USER_ID, BOT_NAME, "Coupon Bot", is_bot=True)
_GROUPS = (
    UserGroup("S01LEADS", "support-leads", "Support leads", ("U02LEAD", "U06LEAD2")),
    UserGroup("S02AGENTS", "support-agents", "Support agents", ("U03AGENT",)),
)


def seed_workspace() -> Workspace:
    """A fresh copy of the seeded workspace."""
    people = {user.id for user in _PEOPLE}
    channels = [
        Channel("C01SUPPORT", "support-coupons", people | {BOT_USER_ID}),
        Channel("C02ESCALATIONS", "escalations", people | {BOT_USER_ID}),
        Channel("C03RANDOM", "random", set(people)),
    ]
    return Workspace(
        users={user.id: user for user in (*_PEOPLE, _BOT)},
        groups={group.id: group for group in _GROUPS},
        channels={channel.id: channel for channel in channels},
    )
