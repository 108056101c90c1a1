"""``coupon-bot serve`` refuses to start without credentials, and serves when it has them."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from bot.sandbox.slack import SlackDriver, running_slack_emulator
from bot.settings import (
    BotSettings,
    CapillarySettings,
    Settings,
    SlackSettings,
    missing_credentials,
)

DEMO_POLICY = Path(__file__).resolve().parents[1] / "bot" / "sandbox" / "demo-policy.toml"
CREDENTIALS = ("SLACK_", "CAPILLARY_", "COUPON_BOT_")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CREDENTIALS)}
    return {**env, "COUPON_BOT_DATABASE": str(tmp_path / "db.sqlite3"), **extra}


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", *args],
        env=clean_env(tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_without_credentials_names_each_variable(tmp_path: Path) -> None:
    result = serve(tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert any("SLACK_BOT_TOKEN is not set" in line for line in lines)
    assert any("SLACK_SIGNING_SECRET" in line for line in lines)
    assert any("CAPILLARY_BASE_URL" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_placeholder_is_refused(tmp_path: Path) -> None:
    result = serve(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-your-token",
        SLACK_SIGNING_SECRET="changeme",
        CAPILLARY_BASE_URL="sandbox",
    )
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is still a placeholder" in result.stderr
    assert "SLACK_SIGNING_SECRET is still a placeholder" in result.stderr
    assert "xoxb-your-token" not in result.stderr  # never echo a credential


def test_socket_mode_needs_the_app_token(tmp_path: Path) -> None:
    result = serve(
        tmp_path, "--socket-mode", SLACK_BOT_TOKEN="xoxb-test", CAPILLARY_BASE_URL="sandbox"
    )
    assert result.returncode == 2
    assert "SLACK_APP_TOKEN" in result.stderr and "SLACK_SIGNING_SECRET" not in result.stderr


def test_bad_policy_is_one_clear_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[role]\nadmin = ['U1']\n")
    result = serve(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s3cret",
        CAPILLARY_BASE_URL="sandbox",
        COUPON_BOT_POLICY=str(policy),
    )
    assert result.returncode == 2
    assert "policy.toml" in result.stderr and "Traceback" not in result.stderr


def test_an_invalid_setting_is_one_clear_line(tmp_path: Path) -> None:
    result = serve(tmp_path, COUPON_BOT_LOG_FORMAT="xml-secret-ish")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "coupon-bot: COUPON_BOT_LOG_FORMAT: Input should be 'text' or 'json'."
    ]


@pytest.mark.parametrize(
    ("capillary", "missing"),
    [
        (
            CapillarySettings(_env_file=None, base_url="https://eu.api.capillarytech.com"),
            "CAPILLARY_USERNAME",
        ),
        (
            CapillarySettings(
                _env_file=None, base_url="https://eu.api.capillarytech.com", oauth_key="k"
            ),
            "CAPILLARY_OAUTH_SECRET",
        ),
        (CapillarySettings(_env_file=None, base_url="sandbox"), None),
    ],
)
def test_missing_capillary_credentials(capillary: CapillarySettings, missing: str | None) -> None:
    settings = Settings(
        capillary=capillary,
        slack=SlackSettings(_env_file=None, bot_token="xoxb-test", signing_secret="s"),
        bot=BotSettings(_env_file=None),
    )
    problems = missing_credentials(settings, socket_mode=False)
    if missing is None:
        assert problems == []
    else:
        assert any(missing in problem for problem in problems), problems


def sandbox_env(tmp_path: Path, slack_api_url: str) -> dict[str, str]:
    """What ``serve`` needs to run on the built-in sandbox against the Slack emulator."""
    return clean_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="serve-secret",
        SLACK_API_URL=slack_api_url,
        CAPILLARY_BASE_URL="sandbox",
        COUPON_BOT_POLICY=str(DEMO_POLICY),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_runs_the_bot_with_the_built_in_sandbox(tmp_path: Path) -> None:
    port = free_port()
    async with running_slack_emulator() as emulator:
        env = sandbox_env(tmp_path, emulator.api_url)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            env=env,
            cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with httpx.AsyncClient() as http:
                for _ in range(200):
                    try:
                        health = await http.get(f"http://127.0.0.1:{port}/healthz")
                        break
                    except httpx.ConnectError:
                        await asyncio.sleep(0.05)
                assert health.status_code == 200
                slack = SlackDriver(
                    f"http://127.0.0.1:{port}/slack/events", "serve-secret", emulator, http
                )
                await slack.command("get GOOD100")
                parent = await emulator.state.wait_for(
                    lambda: next(
                        (m for m in emulator.state.messages("C01SUPPORT") if "✅" in m.text), None
                    ),
                    timeout=15,
                )
            (reply,) = emulator.state.replies("C01SUPPORT", parent.ts)
            assert "GOOD100" in reply.text
        finally:
            process.terminate()
            await process.wait()


def test_a_capillary_host_without_its_scheme_is_one_clear_line(tmp_path: Path) -> None:
    result = serve(tmp_path, CAPILLARY_BASE_URL="eu.api.capillarytech.com")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "coupon-bot: CAPILLARY_BASE_URL: Value error, expected https://<cluster host> (or sandbox)."
    ]


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_port_out_of_range_is_refused_before_anything_starts(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", port])
    assert exited.value.code == 2
    assert f"argument --port: '{port}' is not a port (0-65535)" in capsys.readouterr().err


def test_audit_names_an_invalid_setting_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "audit"],
        env=clean_env(tmp_path, COUPON_BOT_PORT="abc"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "coupon-bot: COUPON_BOT_PORT: Input should be a valid integer, unable to parse string "
        "as an integer."
    ]


async def test_a_port_in_use_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    async with running_slack_emulator() as emulator:
        env = sandbox_env(tmp_path, emulator.api_url)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = str(taken.getsockname()[1])
            process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", port),
                env=env,
                cwd=tmp_path,
                stderr=asyncio.subprocess.PIPE,
            )
            _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    stderr = err.decode()
    assert process.returncode == 2
    assert "Traceback" not in stderr
    assert f"coupon-bot: can't listen on 127.0.0.1:{port}: " in stderr
    assert "(COUPON_BOT_PORT or --port)" in stderr
