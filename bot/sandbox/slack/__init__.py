"""A strict local Slack: Web API emulator (with Socket Mode), drivers that play Slack's side
towards a bot (signed HTTP requests, or envelopes over its Socket Mode connection), rendering.

The emulator refuses what real Slack refuses (trigger expiry and reuse, Block Kit limits,
thread rules, response_url limits, 429 on demand) so tests catch what a permissive mock hides.
It never imports the bot: a bug shared by both would pass every test.
"""

from bot.sandbox.slack.driver import Ack, SlackDriver, SocketModeDriver
from bot.sandbox.slack.emulator import (
    RunningEmulator,
    build_emulator_app,
    running_slack_emulator,
    serve_forever,
)
from bot.sandbox.slack.errors import DriverError, InvalidAck, SlackError
from bot.sandbox.slack.limits import LIMITS, Limits
from bot.sandbox.slack.models import Call, Message, ResponsePost, Revision, View
from bot.sandbox.slack.render import Button, buttons, render_message, render_view
from bot.sandbox.slack.seed import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    Workspace,
    seed_workspace,
)
from bot.sandbox.slack.sockets import Connection, Envelope, SocketHub
from bot.sandbox.slack.state import EmulatorState

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "LIMITS",
    "TEAM_ID",
    "Ack",
    "Button",
    "Call",
    "Connection",
    "DriverError",
    "EmulatorState",
    "Envelope",
    "InvalidAck",
    "Limits",
    "Message",
    "ResponsePost",
    "Revision",
    "RunningEmulator",
    "SlackDriver",
    "SlackError",
    "SocketHub",
    "SocketModeDriver",
    "View",
    "Workspace",
    "build_emulator_app",
    "buttons",
    "render_message",
    "render_view",
    "running_slack_emulator",
    "seed_workspace",
    "serve_forever",
]
