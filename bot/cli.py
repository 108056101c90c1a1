"""The ``coupon-bot`` command (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

__all__ = ["main"]


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
    sandbox.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    return parser


def _run_sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.capillary import serve_forever

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(args.port, host=args.host))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    handlers = {"sandbox": _run_sandbox}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
