"""A faithful Capillary Coupon V1.1 sandbox served over real HTTP by aiohttp.

It never imports the client (``bot.capillary``): it builds Capillary's JSON by hand, so a
parsing bug cannot hide by being shared between client and sandbox.
"""

from bot.sandbox.capillary.auth import (
    SANDBOX_OAUTH_KEY,
    SANDBOX_OAUTH_SECRET,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
)
from bot.sandbox.capillary.context import RecordedCall
from bot.sandbox.capillary.describe import describe
from bot.sandbox.capillary.faults import FaultError, Faults
from bot.sandbox.capillary.runner import RunningSandbox, running_sandbox, serve_forever
from bot.sandbox.capillary.server import build_sandbox_app
from bot.sandbox.capillary.state import SandboxState, seed_state

__all__ = [
    "SANDBOX_OAUTH_KEY",
    "SANDBOX_OAUTH_SECRET",
    "SANDBOX_PASSWORD",
    "SANDBOX_USERNAME",
    "FaultError",
    "Faults",
    "RecordedCall",
    "RunningSandbox",
    "SandboxState",
    "build_sandbox_app",
    "describe",
    "running_sandbox",
    "seed_state",
    "serve_forever",
]
