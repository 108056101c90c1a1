"""The README's commands work as printed."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from pathlib import Path

import httpx

from bot.sandbox.capillary import running_sandbox

README = Path(__file__).resolve().parents[1] / "README.md"


def bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)


def test_first_screen_has_the_run_and_test_commands() -> None:
    run, test = bash_blocks()[:2]
    assert "coupon-bot" in run
    assert "pytest" in test
    ci = (README.parent / ".ci" / "run").read_text()
    assert test.strip() in ci, ".ci/run must run exactly the README's test command"


async def test_curl_issue_then_redeem() -> None:
    (block,) = [b for b in bash_blocks() if "coupon/redeem" in b]
    async with running_sandbox() as sandbox:
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-euo",
            "pipefail",
            "-c",
            block,
            env={**os.environ, "SANDBOX": sandbox.base_url},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    text = out.decode()
    assert process.returncode == 0, err.decode()
    code = re.search(r"issued ([A-Z0-9]{8})", text)
    assert code is not None, text
    assert '"code": 700' in text or '"code":700' in text, text
    redeemed = [c for c in sandbox.state.coupons.values() if c.code == code.group(1)]
    assert redeemed and redeemed[0].redemptions, "the sandbox should record the redemption"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_coupon_bot_sandbox_serves() -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "sandbox", "--port", str(port), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stdout.readuntil(b"Press Ctrl-C"), timeout=20)
        assert f"http://127.0.0.1:{port}".encode() in banner
        assert b"GOOD100" in banner
        async with httpx.AsyncClient() as http:
            response = await http.get(
                f"http://127.0.0.1:{port}/v1.1/coupon/series", params={"format": "json"}
            )
        assert response.status_code == 401  # it speaks Capillary: no credentials, no answer
        assert response.headers["X-Cap-Requestid"]
    finally:
        process.terminate()
        await process.wait()
