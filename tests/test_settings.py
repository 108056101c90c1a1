"""Settings come from the environment with documented defaults; placeholders are recognised."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot import settings as settings_module
from bot.settings import (
    BotSettings,
    CapillarySettings,
    SlackSettings,
    is_placeholder,
    load_settings,
    secrets_dir,
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
    monkeypatch.setenv("CAPILLARY_USERNAME", "till-mumbai-07")
    monkeypatch.setenv("CAPILLARY_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("COUPON_BOT_LOG_FORMAT", "json")
    settings = load_settings(env_file=None)
    assert settings.capillary.base_url == "sandbox"
    assert settings.capillary.timeout_seconds == 2.5
    assert settings.bot.log_format == "json"
    assert "hunter2" not in repr(settings)
    assert "till-mumbai-07" not in repr(settings)  # DESIGN: credentials typed SecretStr
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


def test_every_setting_can_come_from_a_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_BOT_TOKEN", "CAPILLARY_PASSWORD", "COUPON_BOT_PORT", "CAPILLARY_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "SLACK_BOT_TOKEN").write_text("xoxb-from-file\n")  # as `echo > file` leaves it
    (tmp_path / "CAPILLARY_PASSWORD").write_text("till-password")
    (tmp_path / "COUPON_BOT_PORT").write_text("4242")
    monkeypatch.setenv("COUPON_BOT_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("CAPILLARY_BASE_URL", "sandbox")
    settings = load_settings(env_file=None)
    assert settings.slack.bot_token == SecretStr("xoxb-from-file")
    assert settings.capillary.password == SecretStr("till-password")
    assert settings.bot.port == 4242
    assert settings.capillary.base_url == "sandbox"
    assert secrets_dir() == tmp_path


def test_environment_and_env_file_win_over_secrets_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "SLACK_BOT_TOKEN").write_text("xoxb-from-file")
    (secrets / "COUPON_BOT_PORT").write_text("4242")
    env = tmp_path / ".env"
    env.write_text("COUPON_BOT_PORT=4343\n")
    monkeypatch.setenv("COUPON_BOT_SECRETS_DIR", str(secrets))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    monkeypatch.delenv("COUPON_BOT_PORT", raising=False)
    settings = load_settings(env_file=env)
    assert settings.slack.bot_token == SecretStr("xoxb-from-env")
    assert settings.bot.port == 4343


@pytest.mark.parametrize("where", ["missing", "a-file"])
def test_an_absent_secrets_dir_is_skipped_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    path = tmp_path / where
    if where == "a-file":
        path.write_text("not a directory")
    monkeypatch.setenv("COUPON_BOT_SECRETS_DIR", str(path))
    monkeypatch.delenv("COUPON_BOT_PORT", raising=False)
    assert secrets_dir() is None
    assert load_settings(env_file=None).bot.port == 3000  # and no warning (warnings are errors)


def test_without_the_variable_the_default_dir_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Path("/run/secrets") == settings_module.DEFAULT_SECRETS_DIR  # README, Dockerfile
    monkeypatch.setattr(settings_module, "DEFAULT_SECRETS_DIR", tmp_path)
    (tmp_path / "COUPON_BOT_PORT").write_text("4444")
    monkeypatch.delenv("COUPON_BOT_PORT", raising=False)
    monkeypatch.setenv("COUPON_BOT_SECRETS_DIR", "")
    assert load_settings(env_file=None).bot.port == 4444
