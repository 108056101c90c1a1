"""manifest.yml is the source of truth for the Slack app; it must match the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.ids import SLASH_COMMAND, SUBSCRIBED_EVENTS
from bot.server import EVENTS_PATH

ROOT = Path(__file__).resolve().parents[1]
MANIFEST: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())

# Which bot scope each Web API method the code calls needs (slack-platform.md §1.6).
SCOPE_OF_METHOD = {
    "auth_test": None,
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_getPermalink": None,
    "views_open": None,
    "views_update": None,
    "views_push": None,
    "views_publish": None,
    "usergroups_list": "usergroups:read",
    "usergroups_users_list": "usergroups:read",
    "users_info": "users:read",
    "files_upload_v2": "files:write",
}


def methods_called() -> set[str]:
    sources = [*ROOT.glob("bot/*.py"), *ROOT.glob("bot/blocks/*.py"), *ROOT.glob("handlers/*.py")]
    found: set[str] = set()
    for source in sources:
        found |= set(re.findall(r"client\.([a-z]+_[A-Za-z_]+)\(", source.read_text()))
    return found


def test_the_command() -> None:
    (command,) = MANIFEST["features"]["slash_commands"]
    assert command["command"] == SLASH_COMMAND
    assert len(command["command"]) <= 32
    # Escaped, a typed @asha arrives as <@U03AGENT|asha>, which /coupon log <@user> needs;
    # unescaped it would arrive as the bare name, which names no one.
    assert command["should_escape"] is True
    assert command["url"].endswith(EVENTS_PATH)


def test_scopes_cover_every_method_the_code_calls() -> None:
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    called = methods_called()
    assert called, "the scan found no Web API calls: the pattern is broken"
    unknown = called - set(SCOPE_OF_METHOD)
    assert not unknown, f"add these methods to SCOPE_OF_METHOD: {unknown}"
    needed = {SCOPE_OF_METHOD[m] for m in called} - {None}
    assert needed <= scopes
    assert scopes == {"commands", "chat:write", "usergroups:read", "users:read", "files:write"}


def test_events_and_interactivity() -> None:
    settings = MANIFEST["settings"]
    assert tuple(settings["event_subscriptions"]["bot_events"]) == SUBSCRIBED_EVENTS
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith(EVENTS_PATH)
    assert settings["event_subscriptions"]["request_url"].endswith(EVENTS_PATH)
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_slack_field_limits() -> None:
    info = MANIFEST["display_information"]
    assert len(info["name"]) <= 35
    assert len(info["description"]) <= 140
    assert re.fullmatch(r"[a-z0-9._-]{1,80}", MANIFEST["features"]["bot_user"]["display_name"])
    assert len(MANIFEST["features"]["slash_commands"][0]["usage_hint"]) <= 1000
