"""Garbage collection for a server whose acks have a deadline.

Now and then CPython's cycle collector walks every object in the process: after start-up
some 70,000 (Bolt, slack_sdk, pydantic, httpx), at 40–60 ms a walk on our machines. The
cycles Capillary calls leave behind (httpx's request and response objects) set one off
every burst or two, and Slack's 3 s clock runs for every request waiting behind it.

Once the bot is up, :func:`settle_after_startup` freezes what start-up built
(:func:`gc.freeze`): it lives as long as the process, so the collector stops walking it,
and a full collection only walks what was allocated since. Garbage is still collected
exactly as before.

Only ``coupon-bot serve`` does this; a process that embeds the bot (the tests, the shell)
keeps Python's defaults.
"""

from __future__ import annotations

import gc

__all__ = ["settle_after_startup"]


def settle_after_startup() -> None:
    """Collect what start-up left behind, then take the rest out of the collector's walks."""
    gc.collect()
    gc.freeze()
