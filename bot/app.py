"""``build_app(settings, deps)``: the Bolt AsyncApp with every surface registered.

No module-level app: tests, ``serve`` and ``shell`` each build their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import Access, GroupLookup
from bot.approval_flow import ApprovalFlow
from bot.background import Background
from bot.conversation import AuditReader, Conversation
from bot.directory import SlackGroupDirectory
from bot.errors import error_exit
from bot.health import Health
from bot.metrics import Metrics
from bot.policy import Policy
from bot.recording import Recorder
from bot.runtime import Runtime
from bot.service import CouponApi, CouponService
from bot.settings import Settings, SlackSettings
from bot.storage.approvals import ApprovalStore
from handlers import actions, commands, events, guard, views

__all__ = ["CountedRateLimitHandler", "Deps", "build_app", "build_runtime", "web_client"]


@dataclass(frozen=True, slots=True)
class Deps:
    """What the app is built from.

    ``client`` defaults to a Web API client from settings; ``groups`` to Slack's user
    groups through it (cached). ``serve`` builds both first so it can warm the cache.
    """

    capillary: CouponApi
    policy: Policy
    #: Every issue and redeem, from request to result (its own database connection).
    approvals: ApprovalStore
    client: AsyncWebClient | None = None
    groups: GroupLookup | None = None
    currency: str = "₹"
    #: The audit trail (commands, refusals, Capillary calls, outcomes); None: not recorded.
    recorder: Recorder | None = None
    #: Where ``/coupon log`` reads the trail from.
    audit: AuditReader | None = None
    #: Where work after the ack runs (tracked, so shutdown can wait for it).
    background: Background = field(default_factory=Background)
    #: What ``GET /metrics`` shows; None: no metrics endpoint.
    metrics: Metrics | None = None
    #: What ``GET /healthz`` checks; None: it answers ``ok`` with no details.
    health: Health | None = None


class CountedRateLimitHandler(AsyncRateLimitErrorRetryHandler):
    """Waits out Slack's 429s like its parent, and tells ``on_429`` the method of each one
    (including the last, which is not retried)."""

    def __init__(self, on_429: Callable[[str], None], max_retry_count: int = 5):
        super().__init__(max_retry_count=max_retry_count)
        self._on_429 = on_429

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self._on_429(request.url.rstrip("/").rsplit("/", 1)[-1])
        return await super().can_retry_async(
            state=state, request=request, response=response, error=error
        )


def web_client(
    slack: SlackSettings,
    session: aiohttp.ClientSession | None = None,
    *,
    on_rate_limited: Callable[[str], None] | None = None,
) -> AsyncWebClient:
    """The Web API client: 429s are waited out (Retry-After), connection errors retried once.

    Pass one ``session`` for the process: without it slack_sdk opens a new one per call.
    ``on_rate_limited`` hears the API method of every 429 (metrics).
    """
    token = slack.bot_token.get_secret_value() if slack.bot_token else None
    rate_limits: AsyncRateLimitErrorRetryHandler = (
        AsyncRateLimitErrorRetryHandler(max_retry_count=5)
        if on_rate_limited is None
        else CountedRateLimitHandler(on_rate_limited, max_retry_count=5)
    )
    return AsyncWebClient(
        token=token,
        base_url=slack.api_url,
        session=session,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1), rate_limits],
    )


def build_runtime(settings: Settings, deps: Deps) -> Runtime:
    """What the handlers are handed. ``serve`` also uses it for approval recovery and expiry."""
    client = deps.client or web_client(settings.slack)
    service = CouponService(deps.capillary)
    access = Access(deps.policy, deps.groups or SlackGroupDirectory(client))
    conversation = Conversation(
        client, service, currency=deps.currency, recorder=deps.recorder, audit=deps.audit
    )
    approvals = ApprovalFlow(
        client,
        deps.approvals,
        access,
        service,
        conversation,
        recorder=deps.recorder,
        currency=deps.currency,
    )
    return Runtime(
        access=access,
        conversation=conversation,
        approvals=approvals,
        client=client,
        recorder=deps.recorder,
        background=deps.background,
    )


def build_app(
    settings: Settings, deps: Deps, *, socket_mode: bool = False, runtime: Runtime | None = None
) -> AsyncApp:
    """The whole bot as a Bolt app: middleware, listeners, the error exit.

    HTTP mode always verifies Slack's signatures, so it needs the signing secret; Socket
    Mode has no signatures to verify.
    """
    secret = settings.slack.signing_secret
    if not socket_mode and secret is None:
        raise ValueError("SLACK_SIGNING_SECRET is required in HTTP mode.")
    runtime = runtime or build_runtime(settings, deps)
    app = AsyncApp(
        client=runtime.client,
        signing_secret=secret.get_secret_value() if secret else None,
        request_verification_enabled=not socket_mode,
        # The listener's return is the ack; slow work goes to Runtime.after_ack.
        process_before_response=True,
        # Built-ins for features this app doesn't use (message events from itself, workflow
        # functions, assistant threads): each would run on every request.
        ignoring_self_events_enabled=False,
        attaching_function_token_enabled=False,
        attaching_conversation_kwargs_enabled=False,
    )
    app.error(error_exit)
    for surface in (guard, commands, actions, views, events):
        surface.register(app, runtime)
    return app
