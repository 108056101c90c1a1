"""Settings from the environment (or ``.env``): one class per concern, composed in ``Settings``.

Credentials are ``SecretStr`` and are unwrapped only where clients are built. Nothing is read
at import time: call :func:`load_settings` at startup; tests build settings explicitly with
``_env_file=None``.

Any setting can also come from a file named like its variable in a secrets directory
(``/run/secrets/SLACK_BOT_TOKEN``, as Docker and Kubernetes mount secrets); the directory is
``COUPON_BOT_SECRETS_DIR`` (default ``/run/secrets``, skipped when absent). The environment
and ``.env`` win over those files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "SANDBOX",
    "BotSettings",
    "CapillarySettings",
    "Settings",
    "SlackSettings",
    "is_placeholder",
    "load_settings",
    "missing_credentials",
    "secrets_dir",
]

SANDBOX = "sandbox"
SECRETS_DIR_VARIABLE = "COUPON_BOT_SECRETS_DIR"
DEFAULT_SECRETS_DIR = Path("/run/secrets")
_PLACEHOLDER_MARKS = ("changeme", "your-")


def is_placeholder(value: SecretStr | str | None) -> bool:
    """True for a missing credential or one still holding a template value."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if text is None or not text.strip():
        return True
    lowered = text.lower()
    return any(mark in lowered for mark in _PLACEHOLDER_MARKS)


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


class CapillarySettings(BaseSettings):
    """How to reach Capillary (``CAPILLARY_*``)."""

    model_config = _config("CAPILLARY_")

    base_url: str | None = Field(
        default=None,
        description="Cluster host, e.g. https://eu.api.capillarytech.com, or 'sandbox' for the "
        "built-in sandbox. Required for serve.",
    )
    username: SecretStr | None = Field(
        default=None, description="Till username for Basic auth (a credential: never shown)."
    )
    password: SecretStr | None = Field(
        default=None, description="Till password; the bot sends its MD5, as Capillary expects."
    )
    oauth_key: SecretStr | None = Field(
        default=None, description="OAuth client key; used instead of Basic auth when set."
    )
    oauth_secret: SecretStr | None = Field(default=None, description="OAuth client secret.")
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Per-request timeout in seconds."
    )

    @field_validator("base_url")
    @classmethod
    def _url_or_sandbox(cls, value: str | None) -> str | None:
        """A host without a scheme would start and then fail every call: refused here."""
        if value is None or value == SANDBOX or is_placeholder(value):
            return value  # unset or a template: the credentials check names it
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("expected https://<cluster host> (or sandbox)")
        return value


class SlackSettings(BaseSettings):
    """How to reach Slack (``SLACK_*``)."""

    model_config = _config("SLACK_")

    bot_token: SecretStr | None = Field(
        default=None, description="Bot token xoxb-…; required for serve."
    )
    signing_secret: SecretStr | None = Field(
        default=None, description="Request signing secret; required for HTTP mode."
    )
    app_token: SecretStr | None = Field(
        default=None, description="App-level token xapp-…; required for Socket Mode."
    )
    api_url: str = Field(
        default="https://slack.com/api/", description="Web API base URL (tests, emulators)."
    )


class BotSettings(BaseSettings):
    """The bot itself (``COUPON_BOT_*``)."""

    model_config = _config("COUPON_BOT_")

    database: Path = Field(default=Path("coupon-bot.sqlite3"), description="SQLite file.")
    policy: Path = Field(default=Path("policy.toml"), description="Policy file (roles, channels).")
    port: int = Field(default=3000, ge=0, le=65535, description="HTTP port for serve.")
    log_format: Literal["text", "json"] = Field(default="text", description="text or json.")
    currency: str = Field(
        default="₹", max_length=8, description="Symbol shown before amounts (Capillary sends none)."
    )


class Settings(BaseModel):
    """All settings."""

    capillary: CapillarySettings
    slack: SlackSettings
    bot: BotSettings


def secrets_dir() -> Path | None:
    """The secrets directory in use: ``COUPON_BOT_SECRETS_DIR`` or /run/secrets; None if absent."""
    path = Path(os.environ.get(SECRETS_DIR_VARIABLE) or DEFAULT_SECRETS_DIR)
    # pydantic-settings warns about a missing directory; most deployments have none.
    return path if path.is_dir() else None


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    """Read every settings class. First found wins: the environment, then ``env_file``
    (None: none), then the files in :func:`secrets_dir`."""
    secrets = secrets_dir()
    return Settings(
        capillary=CapillarySettings(_env_file=env_file, _secrets_dir=secrets),
        slack=SlackSettings(_env_file=env_file, _secrets_dir=secrets),
        bot=BotSettings(_env_file=env_file, _secrets_dir=secrets),
    )


def missing_credentials(settings: Settings, *, socket_mode: bool) -> list[str]:
    """One line per credential ``serve`` needs that is missing or still a placeholder."""
    slack, capillary = settings.slack, settings.capillary
    needed: list[tuple[str, SecretStr | str | None]] = [("SLACK_BOT_TOKEN", slack.bot_token)]
    needed.append(
        ("SLACK_APP_TOKEN", slack.app_token)
        if socket_mode
        else ("SLACK_SIGNING_SECRET", slack.signing_secret)
    )
    needed.append(("CAPILLARY_BASE_URL", capillary.base_url))
    if capillary.base_url != SANDBOX:
        if capillary.oauth_key is not None or capillary.oauth_secret is not None:
            needed += [
                ("CAPILLARY_OAUTH_KEY", capillary.oauth_key),
                ("CAPILLARY_OAUTH_SECRET", capillary.oauth_secret),
            ]
        else:
            needed += [
                ("CAPILLARY_USERNAME", capillary.username),
                ("CAPILLARY_PASSWORD", capillary.password),
            ]
    return [
        f"{name} is {'not set' if not _text(value) else 'still a placeholder'}: set it in the "
        "environment, .env or a secrets file (see README, Configuration)."
        for name, value in needed
        if is_placeholder(value)
    ]


def _text(value: SecretStr | str | None) -> str:
    return (value.get_secret_value() if isinstance(value, SecretStr) else value or "").strip()
