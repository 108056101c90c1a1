"""``coupon-bot check``: would ``serve`` start, and can it reach what it needs?

Each check gives one :class:`Finding` (✓ or ✗ and one line of detail): the settings (every
credential ``serve`` needs is there and is no placeholder), the policy file, the database
(created if need be, migrated, writable) and, when their credentials are set, Slack
(``auth.test``) and Capillary (``GET /v1.1/coupon/series`` with no id, which changes
nothing). The CLI prints the lines and exits non-zero when one is ✗.

No credential ever appears in a finding: URLs are shown without user info or query, and
errors are described by their code or type, not by the request that caused them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import httpx
from pydantic import ValidationError
from pydantic_settings import BaseSettings
from slack_sdk.errors import SlackApiError

from bot.app import web_client
from bot.capillary.client import auth_from_settings
from bot.capillary.errors import CapillaryError
from bot.logs import describe_error
from bot.policy import PolicyError, load_policy
from bot.server import capillary_client
from bot.settings import (
    SANDBOX,
    BotSettings,
    CapillarySettings,
    Settings,
    SlackSettings,
    is_placeholder,
    missing_credentials,
    secrets_dir,
)
from bot.storage import MigrationError, open_database, schema_version

__all__ = [
    "Finding",
    "capillary_finding",
    "database_finding",
    "invalid_settings",
    "policy_finding",
    "run_checks",
    "settings_findings",
    "slack_finding",
]

SERIES_PATH = "GET /v1.1/coupon/series"
#: What the admin should look at, by Capillary's code (the catalogue's next steps are for agents).
_CAPILLARY_HINTS = {
    "401": "Check CAPILLARY_USERNAME and CAPILLARY_PASSWORD, or the CAPILLARY_OAUTH_* pair.",
    "connection_refused": "Check CAPILLARY_BASE_URL and that this host can reach it.",
    "timeout": "Check CAPILLARY_BASE_URL and that this host can reach it.",
}
_SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (CapillarySettings, SlackSettings, BotSettings)


@dataclass(frozen=True, slots=True)
class Finding:
    """The result of one check: what was checked, whether it passed, and one line on it."""

    subject: str
    ok: bool
    detail: str

    @property
    def line(self) -> str:
        """``✓ policy: policy.toml: …`` / ``✗ Slack: …``."""
        return f"{'✓' if self.ok else '✗'} {self.subject}: {self.detail}"


def invalid_settings(error: ValidationError) -> list[Finding]:
    """One finding per setting pydantic refused, named as its variable; the value is not shown."""
    prefixes = {cls.__name__: cls.model_config.get("env_prefix", "") for cls in _SETTINGS_CLASSES}
    prefix = prefixes.get(error.title, "")
    return [
        Finding("settings", False, f"{prefix}{_field(item['loc']).upper()}: {item['msg']}.")
        for item in error.errors(include_url=False, include_input=False)
    ]


def _field(loc: tuple[int | str, ...]) -> str:
    return "_".join(str(part) for part in loc) or "?"


def settings_findings(settings: Settings, *, socket_mode: bool = False) -> list[Finding]:
    """A ✗ per credential ``serve`` would refuse to start without, or one ✓ naming the mode."""
    problems = missing_credentials(settings, socket_mode=socket_mode)
    if problems:
        return [Finding("settings", False, problem) for problem in problems]
    mode = "Socket Mode" if socket_mode else "HTTP mode"
    capillary = _where_capillary(settings.capillary)
    secrets = secrets_dir()
    files = f"; secrets files from {secrets}" if secrets is not None else ""
    return [
        Finding("settings", True, f"credentials for {mode} are set (Capillary: {capillary}{files})")
    ]


def policy_finding(path: Path) -> Finding:
    """Whether ``path`` is a policy that gives someone a role (else only help works)."""
    if not path.exists():
        return Finding(
            "policy",
            False,
            f"{path} not found (COUPON_BOT_POLICY): everything but /coupon help would be refused.",
        )
    try:
        policy = load_policy(path)
    except PolicyError as error:
        return Finding("policy", False, str(error))
    if not policy.configured:
        return Finding(
            "policy",
            False,
            f"{path} gives nobody a role: everything but /coupon help would be refused.",
        )
    members = sum(len(listed) for listed in policy.members.values())
    roles = sum(1 for listed in policy.members.values() if listed)
    channels = (
        f"{len(policy.allowed_channels)} allowed channels"
        if policy.allowed_channels
        else "any channel"
    )
    approval = ", ".join(sorted(policy.approval.required_for)) or "nothing"
    return Finding(
        "policy",
        True,
        f"{path}: {roles} roles, {members} members ({len(policy.groups())} user groups); "
        f"{channels}; approval for {approval}",
    )


async def database_finding(path: Path) -> Finding:
    """Open (or create) the database, apply migrations, and take and release a write lock."""
    try:
        connection = await open_database(path)
        try:
            version = await schema_version(connection)
            await connection.execute("BEGIN IMMEDIATE")  # fails on a read-only file
            await connection.rollback()
        finally:
            await connection.close()
    except (sqlite3.Error, OSError, MigrationError) as error:
        return Finding("database", False, f"{path} (COUPON_BOT_DATABASE) can't be used: {error}.")
    return Finding("database", True, f"{path}: writable, schema version {version}")


async def slack_finding(slack: SlackSettings) -> Finding:
    """Call ``auth.test`` with the bot token at ``SLACK_API_URL``."""
    where = _display_url(slack.api_url)
    try:
        answer = await web_client(slack).auth_test()
    except SlackApiError as error:
        reason = error.response.get("error") or f"HTTP {error.response.status_code}"
        return Finding("Slack", False, f"auth.test at {where} refused SLACK_BOT_TOKEN: {reason}.")
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        return Finding("Slack", False, f"{where} can't be reached: {describe_error(error)}.")
    return Finding(
        "Slack",
        True,
        f"auth.test at {where}: bot {answer.get('user')} ({answer.get('user_id')}) "
        f"in team {answer.get('team')} ({answer.get('team_id')})",
    )


async def capillary_finding(settings: Settings) -> Finding:
    """``GET /v1.1/coupon/series`` with no id: lists series, changes nothing."""
    where = _where_capillary(settings.capillary)
    try:
        async with capillary_client(settings) as capillary:
            series = await capillary.list_series()
    except CapillaryError as error:
        return Finding("Capillary", False, f"{SERIES_PATH} at {where} failed: {_explain(error)}")
    except httpx.InvalidURL as error:
        return Finding("Capillary", False, f"CAPILLARY_BASE_URL is not a usable URL: {error}.")
    return Finding("Capillary", True, f"{SERIES_PATH} at {where}: {len(series)} series")


async def run_checks(settings: Settings, *, socket_mode: bool = False) -> list[Finding]:
    """Every check, in order; Slack and Capillary only when their credentials are set."""
    findings = settings_findings(settings, socket_mode=socket_mode)
    findings.append(policy_finding(settings.bot.policy))
    findings.append(await database_finding(settings.bot.database))
    if not is_placeholder(settings.slack.bot_token):
        findings.append(await slack_finding(settings.slack))
    if _capillary_configured(settings.capillary):
        findings.append(await capillary_finding(settings))
    return findings


def _capillary_configured(capillary: CapillarySettings) -> bool:
    url = capillary.base_url
    if url is None or is_placeholder(url):
        return False
    if url == SANDBOX:
        return True
    try:
        auth_from_settings(capillary, url)
    except ValueError:
        return False  # the settings finding already names what is missing
    return True


def _where_capillary(capillary: CapillarySettings) -> str:
    url = capillary.base_url
    if url == SANDBOX:
        return "the built-in sandbox"
    return _display_url(url) if url else "not set"


def _display_url(url: str) -> str:
    """``url`` without user info, query or fragment: what may be printed."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return "(not a URL: scheme://host expected)"
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def _explain(error: CapillaryError) -> str:
    explanation = error.explanation
    text = f"[{explanation.code}] {explanation.sentence}"
    if explanation.capillary_message:
        said = "" if explanation.source == "transport" else "Capillary: "
        text += f" ({said}{explanation.capillary_message})"
    if error.request_id:
        text += f"; X-Cap-Requestid {error.request_id}"
    hint = _CAPILLARY_HINTS.get(error.code)
    return f"{text}. {hint}" if hint else text
