"""``coupon-bot check``: one ✓/✗ line per check, against the real Slack emulator and the
Capillary sandbox; exit 1 on any problem; no credential is ever printed."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.check import (
    Finding,
    database_finding,
    invalid_settings,
    policy_finding,
    run_checks,
    settings_findings,
)
from bot.sandbox.capillary import RunningSandbox, running_sandbox
from bot.sandbox.slack import RunningEmulator, running_slack_emulator
from bot.settings import BotSettings, CapillarySettings, Settings, SlackSettings
from bot.storage import MIGRATIONS

DEMO_POLICY = Path(__file__).resolve().parents[1] / "bot" / "sandbox" / "demo-policy.toml"
BOT_TOKEN = "xoxb-check-token-1b2c3d"
SIGNING_SECRET = "check-signing-secret-4e5f"
SUBJECTS = ["settings", "policy", "database", "Slack", "Capillary"]


def make_settings(
    tmp_path: Path,
    *,
    capillary_url: str | None = "sandbox",
    password: str | None = "sandbox",
    api_url: str = "https://slack.com/api/",
    bot_token: str | None = BOT_TOKEN,
    policy: Path = DEMO_POLICY,
) -> Settings:
    return Settings(
        capillary=CapillarySettings(
            _env_file=None,
            base_url=capillary_url,
            username="sandbox",
            password=SecretStr(password) if password else None,
            timeout_seconds=5,
        ),
        slack=SlackSettings(
            _env_file=None,
            bot_token=SecretStr(bot_token) if bot_token else None,
            signing_secret=SecretStr(SIGNING_SECRET),
            api_url=api_url,
        ),
        bot=BotSettings(_env_file=None, policy=policy, database=tmp_path / "bot.sqlite3"),
    )


def by_subject(findings: list[Finding]) -> dict[str, Finding]:
    subjects = [finding.subject for finding in findings]
    assert len(set(subjects)) == len(subjects), subjects
    return {finding.subject: finding for finding in findings}


# --- the checks one by one -----------------------------------------------------------------


def test_a_finding_is_one_line_with_its_mark() -> None:
    assert Finding("policy", True, "p.toml: fine").line == "✓ policy: p.toml: fine"
    assert Finding("Slack", False, "refused").line == "✗ Slack: refused"


def test_invalid_settings_name_the_variable_and_not_the_value() -> None:
    with pytest.raises(ValidationError) as raised:
        CapillarySettings(_env_file=None, timeout_seconds="hunter2-secret")  # type: ignore[arg-type]
    (finding,) = invalid_settings(raised.value)
    assert not finding.ok
    assert finding.detail.startswith("CAPILLARY_TIMEOUT_SECONDS: ")
    assert "hunter2" not in finding.line


def test_each_missing_credential_is_its_own_problem(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, bot_token=None, capillary_url=None)
    lines = [finding.line for finding in settings_findings(settings)]
    assert len(lines) == 2, lines
    assert lines[0].startswith("✗ settings: SLACK_BOT_TOKEN is not set")
    assert lines[1].startswith("✗ settings: CAPILLARY_BASE_URL is not set")


def test_socket_mode_asks_for_the_app_token(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert [f.ok for f in settings_findings(settings)] == [True]
    (finding,) = settings_findings(settings, socket_mode=True)
    assert not finding.ok and "SLACK_APP_TOKEN" in finding.detail


def test_the_demo_policy_passes() -> None:
    finding = policy_finding(DEMO_POLICY)
    assert finding.ok, finding.line
    assert "4 roles" in finding.detail and "2 allowed channels" in finding.detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "not found (COUPON_BOT_POLICY)"),
        ("[roles]\n", "gives nobody a role"),
        ("[roles]\nadmin = 'U01ADMIN'\n", "[roles].admin must be a list"),
        ("[role]\nadmin = ['U1']\n", "policy.toml"),
    ],
)
def test_policy_problems(tmp_path: Path, text: str | None, expected: str) -> None:
    path = tmp_path / "policy.toml"
    if text is not None:
        path.write_text(text)
    finding = policy_finding(path)
    assert not finding.ok
    assert expected in finding.detail
    assert "\n" not in finding.line


async def test_a_new_database_is_created_and_migrated(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    finding = await database_finding(path)
    assert finding.ok, finding.line
    assert f"schema version {MIGRATIONS[-1].number}" in finding.detail
    assert path.exists()


async def test_a_database_under_a_file_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "occupied").write_text("")
    finding = await database_finding(tmp_path / "occupied" / "bot.sqlite3")
    assert not finding.ok
    assert "COUPON_BOT_DATABASE" in finding.detail


async def test_a_file_that_is_not_a_database_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"this is not SQLite" * 100)
    finding = await database_finding(path)
    assert not finding.ok
    assert "not a database" in finding.detail


async def test_without_credentials_neither_slack_nor_capillary_is_called(tmp_path: Path) -> None:
    async with running_slack_emulator() as emulator:
        settings = make_settings(
            tmp_path, api_url=emulator.api_url, bot_token=None, capillary_url=None
        )
        findings = await run_checks(settings)
        assert emulator.state.calls() == []
    assert [f.subject for f in findings] == ["settings", "settings", "policy", "database"]


# --- against the real emulator and sandbox ---------------------------------------------------


@dataclass
class Remotes:
    emulator: RunningEmulator
    sandbox: RunningSandbox


@pytest.fixture
async def remotes() -> AsyncIterator[Remotes]:
    async with running_slack_emulator() as emulator, running_sandbox() as sandbox:
        yield Remotes(emulator, sandbox)


async def test_good_settings_pass_every_check(tmp_path: Path, remotes: Remotes) -> None:
    settings = make_settings(
        tmp_path, capillary_url=remotes.sandbox.base_url, api_url=remotes.emulator.api_url
    )
    findings = by_subject(await run_checks(settings))
    assert list(findings) == SUBJECTS
    assert all(f.ok for f in findings.values()), [f.line for f in findings.values()]
    assert [c.method for c in remotes.emulator.state.calls()] == ["auth.test"]
    (call,) = [c for c in remotes.sandbox.calls if c.path.startswith("/v1.1/")]
    assert (call.method, call.path, "id" in call.query) == ("GET", "/v1.1/coupon/series", False)
    assert "7 series" in findings["Capillary"].detail


async def test_a_wrong_capillary_password_is_one_clear_line(
    tmp_path: Path, remotes: Remotes
) -> None:
    settings = make_settings(
        tmp_path,
        capillary_url=remotes.sandbox.base_url,
        api_url=remotes.emulator.api_url,
        password="wrong-password-7g8h",
    )
    findings = by_subject(await run_checks(settings))
    capillary = findings["Capillary"]
    assert not capillary.ok
    assert "[401]" in capillary.detail and "login" in capillary.detail
    assert capillary.detail.endswith(
        "Check CAPILLARY_USERNAME and CAPILLARY_PASSWORD, or the CAPILLARY_OAUTH_* pair."
    )
    assert findings["Slack"].ok
    assert not any("wrong-password" in f.line for f in findings.values())


async def test_a_token_slack_refuses_is_one_clear_line(tmp_path: Path, remotes: Remotes) -> None:
    settings = make_settings(
        tmp_path,
        capillary_url=remotes.sandbox.base_url,
        api_url=remotes.emulator.api_url,
        bot_token="xoxp-not-a-bot-token",
    )
    slack = by_subject(await run_checks(settings))["Slack"]
    assert not slack.ok
    assert slack.detail.endswith("refused SLACK_BOT_TOKEN: invalid_auth.")
    assert "xoxp-not" not in slack.line


async def test_unreachable_services_are_named(tmp_path: Path) -> None:
    async with running_sandbox() as closed, running_slack_emulator() as gone:
        capillary_url, api_url = closed.base_url, gone.api_url
    settings = make_settings(
        tmp_path, capillary_url=f"http://user:pw@{capillary_url[7:]}/?k=v", api_url=api_url
    )
    findings = by_subject(await run_checks(settings))
    assert not findings["Slack"].ok and "can't be reached" in findings["Slack"].detail
    capillary = findings["Capillary"]
    assert not capillary.ok and "[connection_refused]" in capillary.detail
    assert f"at {capillary_url}/ failed:" in capillary.detail  # shown without user info or query
    assert "pw" not in capillary.line and "k=v" not in capillary.line


# --- the command ------------------------------------------------------------------------------


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    prefixes = ("SLACK_", "CAPILLARY_", "COUPON_BOT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {
        **env,
        "COUPON_BOT_DATABASE": str(tmp_path / "bot.sqlite3"),
        "COUPON_BOT_SECRETS_DIR": str(tmp_path / "no-secrets"),
        **extra,
    }


async def coupon_bot_check(tmp_path: Path, **env: str) -> tuple[int, str, str]:
    """``python -m bot check`` in a subprocess, while this loop serves the emulator/sandbox."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        env=clean_env(tmp_path, **env),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def good_env(remotes: Remotes) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": remotes.emulator.api_url,
        "CAPILLARY_BASE_URL": remotes.sandbox.base_url,
        "CAPILLARY_USERNAME": "sandbox",
        "CAPILLARY_PASSWORD": "sandbox",
        "COUPON_BOT_POLICY": str(DEMO_POLICY),
    }


async def test_the_command_exits_0_with_a_line_per_check(tmp_path: Path, remotes: Remotes) -> None:
    code, out, err = await coupon_bot_check(tmp_path, **good_env(remotes))
    assert (code, err) == (0, ""), out
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"✓ {subject}" for subject in SUBJECTS]
    for secret in (BOT_TOKEN, SIGNING_SECRET):
        assert secret not in out


async def test_the_command_reads_secrets_files(tmp_path: Path, remotes: Remotes) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    env = good_env(remotes)
    for name in ("SLACK_BOT_TOKEN", "CAPILLARY_PASSWORD"):
        (secrets / name).write_text(env.pop(name) + "\n")
    code, out, _ = await coupon_bot_check(tmp_path, COUPON_BOT_SECRETS_DIR=str(secrets), **env)
    assert code == 0, out
    assert f"secrets files from {secrets}" in out


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"CAPILLARY_PASSWORD": "wrong-password-7g8h"}, "✗ Capillary: GET /v1.1/coupon/series"),
        ({"SLACK_BOT_TOKEN": ""}, "✗ settings: SLACK_BOT_TOKEN is not set"),
        ({"COUPON_BOT_POLICY": "policy.toml"}, "✗ policy: policy.toml not found"),
        ({"COUPON_BOT_PORT": "three thousand"}, "✗ settings: COUPON_BOT_PORT: "),
    ],
)
async def test_the_command_exits_1_naming_the_problem(
    tmp_path: Path, remotes: Remotes, change: dict[str, str], expected: str
) -> None:
    code, out, err = await coupon_bot_check(tmp_path, **{**good_env(remotes), **change})
    assert code == 1
    problems = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(problems) == 1, out
    assert problems[0].startswith(expected), problems
    assert "Traceback" not in err
    assert "wrong-password" not in out + err
