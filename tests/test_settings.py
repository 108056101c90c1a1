"""Settings come from the environment with documented defaults; placeholders are recognised."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.settings import (
    BotSettings,
    CapillarySettings,
    SlackSettings,
    is_placeholder,
    load_settings,
)


def test_defaults_from_an_empty_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [
        "CAPILLARY_BASE_URL",
        "COUPON_BOT_PORT",
        "SLACK_API_URL",
        "CAPILLARY_TIMEOUT_SECONDS",
    ]:
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(env_file=None)
    assert settings.capillary.base_url is None
    assert settings.capillary.timeout_seconds == 10
    assert settings.slack.api_url == "https://slack.com/api/"
    assert settings.bot.port == 3000
    assert settings.bot.database == Path("coupon-bot.sqlite3")
    assert settings.bot.log_format == "text"


def test_environment_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPILLARY_BASE_URL", "sandbox")
    monkeypatch.setenv("CAPILLARY_PASSWORD", "hunter2")
    monkeypatch.setenv("CAPILLARY_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("COUPON_BOT_LOG_FORMAT", "json")
    settings = load_settings(env_file=None)
    assert settings.capillary.base_url == "sandbox"
    assert settings.capillary.timeout_seconds == 2.5
    assert settings.bot.log_format == "json"
    assert "hunter2" not in repr(settings)
    assert settings.capillary.password is not None
    assert settings.capillary.password.get_secret_value() == "hunter2"


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COUPON_BOT_PORT", raising=False)
    env = tmp_path / ".env"
    env.write_text("COUPON_BOT_PORT=4123\nCAPILLARY_OAUTH_KEY=k\nCAPILLARY_OAUTH_SECRET=s\n")
    settings = load_settings(env_file=env)
    assert settings.bot.port == 4123
    assert settings.capillary.oauth_key is not None


@pytest.mark.parametrize(
    ("name", "value"), [("COUPON_BOT_LOG_FORMAT", "xml"), ("CAPILLARY_TIMEOUT_SECONDS", "0")]
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        load_settings(env_file=None)


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        (None, True),
        ("", True),
        ("  ", True),
        ("changeme", True),
        (SecretStr("xoxb-your-token"), True),
        ("xoxb-test", False),
        (SecretStr("s3cret"), False),
    ],
)
def test_is_placeholder(value: str | SecretStr | None, placeholder: bool) -> None:
    assert is_placeholder(value) is placeholder


def test_every_field_is_described() -> None:
    for model in (CapillarySettings, SlackSettings, BotSettings):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} needs a description"
