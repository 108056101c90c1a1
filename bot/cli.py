"""The ``coupon-bot`` command (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["main"]


def _port(text: str) -> int:
    """A TCP port for argparse: 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0-65535)")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coupon-bot",
        description="Slack chat-ops for Capillary coupons. See README.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sandbox = commands.add_parser(
        "sandbox",
        help="run the built-in Capillary sandbox server",
        description="Run the Capillary V1.1 coupon sandbox: the six endpoints, Basic and OAuth "
        "auth, seeded data and runtime fault injection.",
    )
    sandbox.add_argument(
        "--port", type=_port, default=8765, help="port to listen on (default 8765)"
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve = commands.add_parser(
        "serve",
        help="run the bot (HTTP on /slack/events, or Socket Mode)",
        description="Run the bot. HTTP mode serves POST /slack/events and GET /healthz on "
        "COUPON_BOT_PORT; --socket-mode connects out to Slack with SLACK_APP_TOKEN instead "
        "(GET /healthz and /metrics are still served on COUPON_BOT_PORT).",
    )
    serve.add_argument("--socket-mode", action="store_true", help="use Socket Mode")
    serve.add_argument(
        "--port", type=_port, default=None, help="HTTP port (default COUPON_BOT_PORT)"
    )
    serve.add_argument("--host", default="0.0.0.0", help="address to bind (default 0.0.0.0)")
    shell = commands.add_parser(
        "shell",
        help="local chat: built-in Slack emulator + Capillary sandbox",
        description="Try the bot with no Slack and no Capillary account: type /coupon commands, "
        "click buttons by number and fill forms line by line. Capillary is the built-in sandbox "
        "unless CAPILLARY_BASE_URL names a real one.",
    )
    shell.add_argument(
        "--as",
        dest="role",
        default="agent",
        metavar="ROLE",
        help="start as admin, approver, agent, viewer or guest, or a user name (default agent)",
    )
    shell.add_argument(
        "--channel", default="C01SUPPORT", help="starting channel, id or name (default C01SUPPORT)"
    )
    audit = commands.add_parser(
        "audit",
        help="query or export the audit log, or verify its hash chain",
        description="Filters as in /coupon log: a coupon code, a customer (+91…, email, "
        "ext:/id:/card:) or a user as '<@U…>' (a bare U0…/W0… id works too), then "
        "action=<verb> status=<ok|failed|unknown|"
        "refused> since=<7d|24h|YYYY-MM-DD> limit=<n> (default: every row). Customers are masked.",
    )
    audit.add_argument("filters", nargs="*", help="e.g. GOOD100 action=redeem since=7d")
    audit.add_argument("--format", choices=("table", "csv", "json"), default="table")
    audit.add_argument(
        "--verify", action="store_true", help="walk the hash chain; exit 1 if broken"
    )
    audit.add_argument("--database", type=Path, default=None, help="default COUPON_BOT_DATABASE")
    check = commands.add_parser(
        "check",
        help="validate settings and policy; with credentials, ping Slack and Capillary",
        description="Check what serve needs, one line each (✓/✗): credentials, the policy "
        "file, the database (created and migrated if need be), Slack's auth.test and "
        "Capillary's GET /v1.1/coupon/series (which changes nothing). Exit 1 on a problem.",
    )
    check.add_argument(
        "--socket-mode", action="store_true", help="check for Socket Mode (SLACK_APP_TOKEN)"
    )
    return parser


def _run_sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.capillary import serve_forever

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(args.port, host=args.host))
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    from bot.logs import configure_logging
    from bot.policy import PolicyError, load_policy
    from bot.server import CannotListen, serve_http, serve_socket_mode
    from bot.settings import missing_credentials

    settings = _settings()
    if settings is None:
        return 2
    if args.port is not None:
        settings.bot.port = args.port
    problems = missing_credentials(settings, socket_mode=args.socket_mode)
    try:
        load_policy(settings.bot.policy)
    except PolicyError as error:
        problems.append(str(error))
    for problem in problems:
        print(f"coupon-bot: {problem}", file=sys.stderr)
    if problems:
        return 2
    configure_logging(settings.bot.log_format)
    run = (
        serve_socket_mode(settings, args.host)
        if args.socket_mode
        else serve_http(settings, args.host)
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run)
    except CannotListen as error:
        print(f"coupon-bot: {error} (COUPON_BOT_PORT or --port)", file=sys.stderr)
        return 2
    return 0


def _run_shell(args: argparse.Namespace) -> int:
    from bot.sandbox.shell import run_shell

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run_shell(args.role, args.channel))
    return 130


def _run_audit(args: argparse.Namespace) -> int:
    from bot.audit_cli import run_audit
    from bot.commands import UsageError

    if args.database is not None:
        database = args.database
    elif (settings := _settings()) is not None:
        database = settings.bot.database
    else:
        return 2
    if not database.exists():
        print(f"coupon-bot: no audit database at {database} (COUPON_BOT_DATABASE)", file=sys.stderr)
        return 2
    try:
        code, text = asyncio.run(run_audit(database, args.filters, args.format, args.verify))
    except UsageError as error:
        code, text = 2, f"coupon-bot audit: {error}"
    print(text, file=sys.stdout if code == 0 else sys.stderr)
    return code


def _settings() -> Settings | None:
    """The settings, or None once each invalid one is named on stderr (value not shown)."""
    from pydantic import ValidationError

    from bot.check import invalid_settings
    from bot.settings import load_settings

    try:
        return load_settings()
    except ValidationError as error:
        for finding in invalid_settings(error):
            print(f"coupon-bot: {finding.detail}", file=sys.stderr)
        return None


def _run_check(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from bot.check import invalid_settings, run_checks
    from bot.settings import load_settings

    try:
        settings = load_settings()
    except ValidationError as error:
        findings = invalid_settings(error)
    else:
        findings = asyncio.run(run_checks(settings, socket_mode=args.socket_mode))
    for finding in findings:
        print(finding.line)
    return 0 if all(finding.ok for finding in findings) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    handlers = {
        "sandbox": _run_sandbox,
        "serve": _run_serve,
        "audit": _run_audit,
        "shell": _run_shell,
        "check": _run_check,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
