"""The Dockerfile: hadolint-clean, and the invariants an admin relies on (two stages, a
non-root user, the database on a volume, a HEALTHCHECK that really probes ``/healthz``).

No Docker engine runs here; ``.ci/run`` repeats the build stage's install in a fresh
virtual environment and runs ``coupon-bot check`` from it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.sandbox.slack import running_slack_emulator
from bot.server import running_bot
from bot.settings import BotSettings, CapillarySettings, Settings, SlackSettings

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DEMO_POLICY = ROOT / "bot" / "sandbox" / "demo-policy.toml"


def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n(\s*#.*\n)*", " ", text)
    pairs = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, arguments = line.strip().partition(" ")
            pairs.append((keyword.upper(), " ".join(arguments.split())))
    return pairs


STEPS = instructions(DOCKERFILE.read_text(encoding="utf-8"))


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, in order."""
    found: list[list[tuple[str, str]]] = []
    for keyword, arguments in STEPS:
        if keyword == "FROM":
            found.append([])
        found[-1].append((keyword, arguments))
    return found


def final(keyword: str) -> list[str]:
    return [arguments for k, arguments in stages()[-1] if k == keyword]


def hadolint() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


def test_hadolint_finds_nothing() -> None:
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install -e '.[dev]' brings it)")
    result = subprocess.run(
        [binary, "--no-color", "--failure-threshold", "style", "--disable-ignore-pragma", "-"],
        input=DOCKERFILE.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_dockerfile() -> None:
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed")
    bad = "FROM python:latest\nRUN apt-get install curl\nUSER root\n"
    result = subprocess.run(
        [binary, "--no-color", "-"], input=bad, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3002"):
        assert rule in result.stdout


def test_parsing_joins_continuations_and_skips_comments() -> None:
    text = '# c\nFROM a AS b\nRUN x \\\n    # inner\n    && y\nCMD ["z"]\n'
    assert instructions(text) == [("FROM", "a AS b"), ("RUN", "x && y"), ("CMD", '["z"]')]


def test_two_stages_from_a_pinned_slim_python() -> None:
    bases = [arguments.split()[0] for keyword, arguments in STEPS if keyword == "FROM"]
    assert len(bases) == 2
    for base in bases:
        image, _, tag = base.partition(":")
        assert image == "python" and tag.startswith("3.11") and "slim" in tag, base
    assert any(k == "COPY" and a.startswith("--from=build ") for k, a in stages()[-1])


def test_the_runtime_installs_nothing_and_runs_as_a_non_root_user() -> None:
    assert not any("apt-get" in a or "apk " in a for _, a in STEPS)
    users = final("USER")
    assert users, "the runtime stage needs a USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert "--uid " + user in " ".join(final("RUN"))


def test_the_database_lives_on_the_volume_and_the_policy_in_config() -> None:
    env = " ".join(final("ENV"))
    assert "COUPON_BOT_DATABASE=/data/" in env
    assert "COUPON_BOT_POLICY=/config/policy.toml" in env
    assert final("VOLUME") == ['["/data"]']
    assert "chown coupon-bot:coupon-bot /data" in " ".join(final("RUN"))


def test_every_coupon_bot_variable_set_is_a_real_setting() -> None:
    env = " ".join(final("ENV"))
    names = set(re.findall(r"\bCOUPON_BOT_([A-Z_]+)=", env))
    assert names and names <= {name.upper() for name in BotSettings.model_fields}


def test_entrypoint_port_and_default_command() -> None:
    assert final("ENTRYPOINT") == ['["coupon-bot"]']
    assert final("CMD") == ['["serve"]']
    assert final("EXPOSE") == ["3000"]
    assert "COUPON_BOT_PORT=3000" in " ".join(final("ENV"))


def healthcheck_command() -> list[str]:
    (healthcheck,) = final("HEALTHCHECK")
    _, _, exec_form = healthcheck.partition(" CMD ")
    command = json.loads(exec_form)
    assert isinstance(command, list) and command[0] == "python"
    return [sys.executable, *command[1:]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_healthcheck(port: int) -> int:
    """The HEALTHCHECK's own command, with ``COUPON_BOT_PORT`` set as in the image."""
    process = await asyncio.create_subprocess_exec(
        *healthcheck_command(),
        env={**os.environ, "COUPON_BOT_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), timeout=30)


async def test_the_healthcheck_passes_on_a_serving_bot_and_fails_without_one(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with running_slack_emulator() as emulator:
        settings = Settings(
            capillary=CapillarySettings(_env_file=None, base_url="sandbox"),
            slack=SlackSettings(
                _env_file=None,
                bot_token=SecretStr("xoxb-test"),
                signing_secret=SecretStr("healthcheck"),
                api_url=emulator.api_url,
            ),
            bot=BotSettings(
                _env_file=None, port=port, policy=DEMO_POLICY, database=tmp_path / "b.sqlite3"
            ),
        )
        async with running_bot(settings):
            assert await run_healthcheck(port) == 0
    assert await run_healthcheck(port) != 0


def test_dockerignore_lets_in_what_the_build_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    ignore = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*", "an allow-list: exclude everything, then let in what is built"
    copied = [
        source
        for keyword, arguments in stages()[0]
        if keyword == "COPY"
        for source in arguments.split()[:-1]
    ]
    assert copied
    for source in copied:
        assert f"!{source}" in ignore or f"!{source}/" in ignore, source
        assert (ROOT / source).exists(), source


def test_ci_repeats_the_build_stage_install() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    (build,) = [a for k, a in stages()[0] if k == "RUN"]
    assert "pip wheel --no-cache-dir --no-deps" in build and "python -m venv" in build
    assert "pip wheel -q --no-deps" in ci and 'coupon-bot" check' in ci
