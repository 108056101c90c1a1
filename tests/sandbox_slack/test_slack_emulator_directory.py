"""auth.test, users.info and user groups through the real SDK, against the seeded workspace."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import seed_workspace


async def test_auth_test_names_the_bot(client: AsyncWebClient) -> None:
    answer = await client.auth_test()
    assert answer["team_id"] == "T0SANDBOX"
    assert answer["team"] == "Sandbox Retail"
    assert (answer["user_id"], answer["bot_id"]) == ("U0BOT", "B0BOT")
    assert answer["url"] == "https://sandbox-retail.slack.com/"
    assert "chat:write" in answer.headers["x-oauth-scopes"]


async def test_users_info(client: AsyncWebClient) -> None:
    user = (await client.users_info(user="U02LEAD"))["user"]
    assert (user["id"], user["name"], user["real_name"]) == ("U02LEAD", "ravi", "Ravi Kumar")
    assert user["profile"] == {"display_name": "ravi", "real_name": "Ravi Kumar"}
    assert user["is_bot"] is False
    assert user["tz"]
    with pytest.raises(SlackApiError) as caught:
        await client.users_info(user="U404")
    assert caught.value.response["error"] == "user_not_found"


async def test_usergroups_list(client: AsyncWebClient) -> None:
    plain = (await client.usergroups_list())["usergroups"]
    assert [(g["id"], g["handle"]) for g in plain] == [
        ("S01LEADS", "support-leads"),
        ("S02AGENTS", "support-agents"),
    ]
    assert all("users" not in g for g in plain)
    full = (await client.usergroups_list(include_users=True))["usergroups"]
    assert full[0]["users"] == ["U02LEAD", "U06LEAD2"]


async def test_usergroups_users_list(client: AsyncWebClient) -> None:
    assert (await client.usergroups_users_list(usergroup="S02AGENTS"))["users"] == ["U03AGENT"]
    with pytest.raises(SlackApiError) as caught:
        await client.usergroups_users_list(usergroup="S404")
    assert caught.value.response["error"] == "no_such_subteam"


def test_seeded_workspace_ids() -> None:
    workspace = seed_workspace()
    assert workspace.user_names() == {
        "U01ADMIN": "meera",
        "U02LEAD": "ravi",
        "U03AGENT": "asha",
        "U04VIEWER": "vik",
        "U05GUEST": "sam",
        "U06LEAD2": "lena",
        "U0BOT": "coupon-bot",
    }
    channels = workspace.channels
    assert {c.id: c.name for c in channels.values()} == {
        "C01SUPPORT": "support-coupons",
        "C02ESCALATIONS": "escalations",
        "C03RANDOM": "random",
    }
    assert "U0BOT" in channels["C01SUPPORT"].members
    assert "U0BOT" in channels["C02ESCALATIONS"].members
    assert "U0BOT" not in channels["C03RANDOM"].members
    assert "U05GUEST" in channels["C03RANDOM"].members
