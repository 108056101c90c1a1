"""Who is in which Slack user group, from ``usergroups.list``, cached with a TTL.

Slack rates ``usergroups.*`` at Tier 2 (about 20 calls a minute), so membership is fetched
once per TTL for the whole workspace, served stale while a refresh runs in the background,
and never fetched on the ack path once warm.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

__all__ = ["SlackGroupDirectory"]

log = logging.getLogger(__name__)
_RETRY_SECONDS = 30.0


class SlackGroupDirectory:
    """User id → the handles of the user groups they belong to."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl_seconds: float = 300.0,
        cold_wait_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._ttl = ttl_seconds
        self._cold_wait = cold_wait_seconds
        self._clock = clock
        self._groups_by_user: Mapping[str, frozenset[str]] | None = None
        self._ids: Mapping[str, str] = {}  # handle → group id, for a <!subteam^…> mention
        self._fetched_at = 0.0
        self._refresh: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def groups_of(self, user_id: str) -> frozenset[str]:
        """The user's group handles (without ``@``).

        This runs before an ack, so it never waits long: a cold cache gets
        ``cold_wait_seconds``, after which the user counts as in no group this time.
        """
        if self._groups_by_user is None:
            try:
                await asyncio.wait_for(asyncio.shield(self._refresh_soon()), self._cold_wait)
            except TimeoutError:
                log.warning("user groups not loaded yet; roles by user id only for now")
        elif self._clock() - self._fetched_at > self._ttl:
            self._refresh_soon()
        return (self._groups_by_user or {}).get(user_id, frozenset())

    def group_id(self, handle: str) -> str | None:
        """The id of the group with this handle (without ``@``), once groups are loaded."""
        return self._ids.get(handle.lower())

    async def warm(self) -> None:
        """Load the groups before serving (bounded like a first request)."""
        await self.groups_of("")

    async def refresh(self) -> None:
        """Fetch every group with its members (one ``usergroups.list`` call).

        A failed fetch keeps what was known and is tried again after ``_RETRY_SECONDS``,
        not after a whole TTL.
        """
        async with self._lock:
            if self._groups_by_user is not None and self._clock() - self._fetched_at <= self._ttl:
                return
            fetched = await self._fetch()
            self._groups_by_user = fetched if fetched is not None else self._groups_by_user or {}
            retry_soon = self._ttl - min(_RETRY_SECONDS, self._ttl)
            self._fetched_at = self._clock() - (0.0 if fetched is not None else retry_soon)

    def _refresh_soon(self) -> asyncio.Task[None]:
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.get_running_loop().create_task(self.refresh())
        return self._refresh

    async def _fetch(self) -> Mapping[str, frozenset[str]] | None:
        try:
            response = await self._client.usergroups_list(include_users=True)
        except SlackApiError as error:
            # No user groups on this plan, or the scope is missing: roles by user id still work.
            log.warning(
                "user groups unavailable (%s); roles by user id only", error.response.get("error")
            )
            return None
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("user groups unavailable (%s); roles by user id only", type(error).__name__)
            return None
        members: dict[str, set[str]] = {}
        ids: dict[str, str] = {}
        for group in response.get("usergroups") or []:
            handle = str(group.get("handle", ""))
            if group.get("id"):
                ids[handle.lower()] = str(group["id"])
            for user in group.get("users") or []:
                members.setdefault(user, set()).add(handle)
        self._ids = ids
        return {user: frozenset(handles) for user, handles in members.items()}
