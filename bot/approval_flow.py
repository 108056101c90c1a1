"""Issue and redeem, from request to result: the approval card, decisions, execution,
expiry and recovery after a restart. Slack-facing glue over the approvals store.

Every issue and redeem goes through here. One that needs a second person gets a card with
Approve / Reject in its thread; one that doesn't is stored as approved and run at once. In
both cases the Capillary call happens only after a compare-and-set ``approved → executing``
succeeded, so it is made at most once, and a request found ``executing`` at startup (the
process died mid-call) is reported as unknown and checked, never sent again.

Slack can change under a request: the bot removed from its channel, the channel archived.
An approval is carried out only where the bot can still post its result (else it is failed,
never sent, and the approver is told by direct message); once Capillary has answered, the
outcome is stored first and each Slack step after it (reply, card, parent) is tried on its
own, and a result the thread didn't take goes to the approver by direct message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import Access
from bot.approvals import (
    Blocked,
    Request,
    State,
    echoed_keys,
    may_decide,
    new_request_id,
    why_approval,
)
from bot.audit import AuditEventKind
from bot.blocks import approvals as cards
from bot.blocks.format import plain
from bot.blocks.messages import ParentStatus
from bot.blocks.results import SlackMessage, result_message, status_key
from bot.capillary.envelope import Endpoint
from bot.capillary.identifiers import scrub
from bot.capillary.models import OutcomeUnknown
from bot.commands import Issue, Redeem, Verb
from bot.conversation import SLACK_FAILURES, Conversation, slack_failure
from bot.policy import MINIMUM_ROLE
from bot.recording import Recorder, Scene, scene_of
from bot.service import CouponService, Outcome, Status, echoed_customer
from bot.storage.approvals import ApprovalStore, Duplicate, OverLimit

__all__ = ["CANNOT_POST", "ApprovalFlow", "Refused", "cannot_post"]

log = logging.getLogger(__name__)

_FINAL_STATE = {Status.OK: State.DONE, Status.FAILED: State.FAILED, Status.UNKNOWN: State.UNKNOWN}
_ENDPOINTS = {Verb.ISSUE: Endpoint.ISSUE, Verb.REDEEM: Endpoint.REDEEM}
STOPPED_MID_CALL = "the bot stopped before Capillary answered"
#: Refusals that hold whoever decides, not only the one who came second.
_NOT_THIS_USER = frozenset(
    {Blocked.OWN_REQUEST, Blocked.NOT_APPROVER, Blocked.REQUESTER_NOT_ALLOWED}
)
#: views.open's answers to a click's trigger that is spent or was never Slack's.
_STALE_TRIGGER = frozenset({"expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"})
#: What Slack answers where the bot can't post (any more): removed from the channel, the
#: channel archived or gone, a workspace rule. chat.postMessage / chat.postEphemeral's
#: documented errors, and chat.update's ``is_inactive`` (archived). Not in here, so never a
#: reason to drop an approval: timeouts, 5xx, rate limits, ``user_not_in_channel``.
CANNOT_POST = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "is_inactive",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_locked",
        "restricted_action_non_threadable_channel",
    }
)


@dataclass(slots=True)
class _Turn:
    """One subject's lock, and how many requests hold or wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


@dataclass(frozen=True, slots=True)
class Refused:
    """A request that was not stored, and the sentence that says why (mrkdwn)."""

    text: str


class ApprovalFlow:
    """One per app. Handlers call it; it calls the store, the service and Slack."""

    def __init__(
        self,
        client: AsyncWebClient,
        store: ApprovalStore,
        access: Access,
        service: CouponService,
        conversation: Conversation,
        *,
        recorder: Recorder | None = None,
        currency: str = "₹",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._client = client
        self._store = store
        self._access = access
        self._service = service
        self._conversation = conversation
        self._recorder = recorder
        self._currency = currency
        self._now = clock
        self._running: dict[str, _Turn] = {}  # verb:subject → its lock, while in use

    @property
    def store(self) -> ApprovalStore:
        return self._store

    # --- asking ----------------------------------------------------------------------------

    async def open(
        self, actor: str, channel: str, command: Issue | Redeem, team: str | None = None
    ) -> Request | Refused:
        """On the ack path: store the request, or refuse a duplicate or one over the limit."""
        policy = self._access.policy
        role = await self._access.role_of(actor)
        now = self._now()
        why = why_approval(policy, command.verb, role)
        request = Request(
            id=new_request_id(),
            command=command,
            requester=actor,
            channel=channel,
            team=team,
            state=State.PENDING if why else State.APPROVED,
            created_at=now,
            expires_at=now + policy.approval.expires_after,
            why=why,
        )
        opened = await self._store.open(request, limit=policy.limits.per_day(command.verb))
        match opened:
            case Duplicate(first=first):
                self._refused(request, f"duplicate of request {first.id}")
                return Refused(cards.duplicate_text(first))
            case OverLimit(used=used, limit=limit):
                self._refused(request, f"daily limit reached ({used} of {limit})")
                text = cards.over_limit_text(command.verb, used, limit, policy.admins())
                return Refused(text)
        return request

    async def start(self, request: Request) -> None:
        """After the ack: the parent line, then the card with its pre-check, or (when no
        approval is needed) the action itself. Resumable: steps already done are skipped.

        A request whose parent line or card can't be posted is failed, never started (nothing
        would show its result or let anyone approve it, and it would block the requester's
        retry as a duplicate); the error goes on to the error exit, which tells them."""
        if request.thread_ts is None:
            status = ParentStatus.AWAITING if request.needs_approval else ParentStatus.PENDING
            try:
                request = await self._post_thread(request, status)
            except Exception:
                await self._not_run(request, cards.NO_THREAD, "its thread could not be posted")
                raise
        if not request.needs_approval:
            await self._execute(request)
            return
        if request.card_ts is None:
            scene = self._scene(request)
            outcome = await self._conversation.audited(
                scene, self._service.precheck(request.command), final=False
            )
            today = self._now().date()
            request = await self._store.set_precheck(
                request.id, cards.precheck_of(outcome, today, self._currency)
            )
            try:
                card = await self._client.chat_postMessage(
                    channel=request.channel,
                    thread_ts=request.thread_ts,
                    **self._card(request).as_kwargs(),
                )
            except Exception:  # no card, no way to approve it: it would only wait to expire
                if await self._not_run(request, cards.NO_CARD, "its card could not be posted"):
                    await self._set_parent(request, ParentStatus.FAILED)
                raise
            await self._store.attach(request.id, card_ts=str(card["ts"]))
            if self._recorder is not None:
                self._recorder.approval(scene, AuditEventKind.APPROVAL_REQUESTED, request.why)

    # --- deciding --------------------------------------------------------------------------

    async def offer(
        self, request_id: str, user: str, channel: str, *, approve: bool, trigger_id: str
    ) -> None:
        """After a button's ack: the approve or reject modal, or why this user can't decide."""
        request = await self._store.get(request_id)
        if request is None:
            await self._client.chat_postEphemeral(channel=channel, user=user, text=cards.GONE)
            return
        role = await self._access.role_of(user)
        allowed = await self._requester_allowed(request) if approve else True
        blocked = may_decide(
            request, user, role, self._now(), approve=approve, requester_allowed=allowed
        )
        if blocked is not None:
            self._decision_refused(request, user, blocked, approve=approve)
            text = cards.blocked_text(blocked, request, self._access.policy.approvers())
            await self._client.chat_postEphemeral(channel=request.channel, user=user, text=text)
            return
        view: View = (
            cards.approve_modal(request, self._currency)
            if approve
            else cards.reject_modal(request, self._currency)
        )
        try:
            await self._client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as error:
            if error.response.get("error") not in _STALE_TRIGGER:
                raise
            # Slack gives a click 3 s to open its modal: under load, or for a click that
            # reached us late, the trigger is spent. Nothing was decided; click again.
            log.info("approval request %s: the modal's trigger was refused", request.id)
            await self._client.chat_postEphemeral(
                channel=request.channel, user=user, text=cards.CLICK_AGAIN
            )

    async def decide(
        self, request_id: str, user: str, user_name: str | None, *, approve: bool, note: str | None
    ) -> Request | str:
        """On the modal's ack path: the compare-and-set. The decided request, or (plain text,
        for the modal) why this user's decision doesn't count: someone decided first, say."""
        request = await self._store.get(request_id)
        if request is None:
            return cards.GONE
        now = self._now()
        role = await self._access.role_of(user)
        allowed = await self._requester_allowed(request) if approve else True
        blocked = may_decide(request, user, role, now, approve=approve, requester_allowed=allowed)
        if blocked is not None and blocked in _NOT_THIS_USER:
            self._decision_refused(request, user, blocked, approve=approve)
            return plain(cards.blocked_text(blocked, request, self._access.policy.approvers()))
        to = State.APPROVED if approve else State.REJECTED
        # One line, any customer number or email in it masked: it is shown and audited.
        kept = scrub(" ".join(note.split()))[: cards.MAX_NOTE] if note else None
        decided = None
        if blocked is None:
            decided = await self._store.decide(
                request_id, to, by=user, by_name=user_name, at=now, note=kept
            )
        if decided is None:  # someone else was first, or it expired
            latest = await self._store.get(request_id) or request
            late = may_decide(latest, user, role, now, approve=approve) or Blocked.DECIDED
            self._decision_refused(latest, user, late, approve=approve)
            return cards.lost_race_text(latest, plain=True)
        if self._recorder is not None:
            kind = AuditEventKind.APPROVED if approve else AuditEventKind.REJECTED
            scene = replace(self._scene(decided), actor=user)
            self._recorder.approval(scene, kind, kept)
        return decided

    async def _requester_allowed(self, request: Request) -> bool:
        """Does the policy still let the requester ask for this, in its channel? A role or a
        channel taken away while the request waited stops its approval."""
        decision = await self._access.check(request.requester, request.channel, request.verb)
        return decision.allowed

    async def follow_up(self, decided: Request) -> None:
        """After the modal closed: show the decision, then carry out an approved request.

        Before anything is sent to Capillary the approver is told, privately in the thread,
        that it is being carried out. If Slack refuses that because the bot can't post there
        any more (:data:`CANNOT_POST`: removed from the channel, the channel archived), the
        request is failed and never sent: its result could be shown nowhere, and the click
        came from a card left behind. The approver is told by direct message. Any other
        failure of that word (a timeout, a 5xx, a rate limit outlasting the client's
        retries) doesn't drop the approval: it is carried out, and :meth:`_finish` tells the
        approver directly if the thread doesn't take the result either. (The card update
        before it is no such test, and stays cosmetic: chat.update documents no
        ``not_in_channel``, so a bot removed from a public channel may still edit there.)"""
        await self._show(decided)
        if decided.state is State.REJECTED:
            try:
                await self._reply(decided, cards.rejected_notice(decided))
            finally:  # the parent shows 🚫 whether or not the thread took the notice
                await self._set_parent(decided, ParentStatus.REJECTED)
            return
        if await self._done_for_the_same_customer(decided):
            return  # said in its thread; the approver reads it there
        refused = await self._say_carrying_out(decided)
        if refused is not None:
            await self._not_carried_out(decided, refused)
            return
        await self._set_parent(decided, ParentStatus.APPROVED)
        await self._execute(decided)

    async def _say_carrying_out(self, request: Request) -> str | None:
        """Tell the approver, in the request's thread, that it is being carried out. Slack's
        error code when the bot can't post there any more; None when it said so, or failed
        for a passing reason (logged)."""
        try:
            await self._client.chat_postEphemeral(
                channel=request.channel,
                user=_told(request),
                thread_ts=request.thread_ts,
                text=cards.carrying_out_text(request),
            )
        except SLACK_FAILURES as error:
            code = cannot_post(error)
            if code is None:
                log.warning(
                    "approval request %s: its approver not told it is carried out (%s); "
                    "carrying it out all the same",
                    request.id,
                    slack_failure(error),
                )
            return code
        return None

    async def _not_carried_out(self, request: Request, reason: str) -> None:
        """An approval the bot can't report anywhere in its channel: failed before anything
        was sent, the card and parent brought up to date where Slack still allows it, and
        the approver told by direct message."""
        log.warning(
            "approval request %s not carried out: the bot can't post in %s (%s)",
            request.id,
            request.channel,
            reason,
        )
        why = f"the bot can no longer post in the channel ({reason})"
        stopped = await self._not_run(request, cards.NO_CHANNEL, why)
        if stopped is None:
            return  # it moved on meanwhile: whoever moved it reports it
        await self._show(stopped)
        await self._set_parent(stopped, ParentStatus.FAILED)
        await self._tell_directly(
            stopped, cards.not_carried_out_text(stopped, reason, self._currency)
        )

    # --- executing -------------------------------------------------------------------------

    async def _execute(self, request: Request) -> None:
        # One request per subject at a time (in this process): a request for the same
        # customer typed another way is matched by the keys the first one's answer leaves,
        # so it must not run until the first has finished.
        async with self._one_at_a_time(request):
            if await self._done_for_the_same_customer(request):
                return
            await self._start_and_finish(request)

    async def _done_for_the_same_customer(self, request: Request) -> bool:
        """Another request just did the same for this customer, typed another way (found
        only now, through the identifiers Capillary's answer to it named): this one is
        failed, never sent, and its thread says why."""
        earlier = await self._store.done_for(request, self._now())
        if earlier is None:
            return False
        why = f"duplicate of request {earlier.id} (the same customer)"
        stopped = await self._not_run(request, cards.SAME_CUSTOMER, why)
        if stopped is not None:
            notice = cards.same_customer_notice(stopped, earlier)
            try:
                await self._tell_not_run(stopped, notice)
            except SLACK_FAILURES as error:  # the channel is gone, say: tell them directly
                log.warning(
                    "approval request %s: not run notice not posted (%s)",
                    stopped.id,
                    slack_failure(error),
                )
                await self._tell_directly(stopped, notice)
        return True

    @asynccontextmanager
    async def _one_at_a_time(self, request: Request) -> AsyncIterator[None]:
        subject = f"{request.verb.value}:{request.subject}"
        turn = self._running.setdefault(subject, _Turn())
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if turn.users == 0:  # nobody holds or waits for it
                del self._running[subject]

    async def _start_and_finish(self, request: Request) -> None:
        started = await self._store.start(request.id)
        if started is None:
            return  # another click, process or recovery got here first
        scene = self._scene(started)
        try:
            outcome = await self._conversation.audited(
                scene, self._service.execute(started.command)
            )
        except Exception:
            # Unexpected, maybe after Capillary acted: unknown, and never run again. (A
            # cancelled task, at shutdown, stays "executing": the next start reconciles it.)
            stopped = await self._store.finish(
                started.id,
                State.UNKNOWN,
                at=self._now(),
                result="❓ Stopped unexpectedly: check the coupon before trying again.",
                expected=State.EXECUTING,
            )
            await self._show(stopped or started)
            await self._set_parent(started, ParentStatus.UNKNOWN)
            raise
        await self._finish(started, outcome, expected=State.EXECUTING)

    async def _finish(self, request: Request, outcome: Outcome, *, expected: State) -> None:
        finished = await self._store.finish(
            request.id,
            _FINAL_STATE[outcome.status],
            at=self._now(),
            result=cards.result_line(outcome),
            expected=expected,
            also_known_as=echoed_keys(request.command, echoed_customer(outcome)),
        )
        if finished is None:
            return
        # Stored first; then each Slack step on its own, so one refused doesn't leave the
        # others stale (a bot removed from the channel may still edit its card and parent).
        result = result_message(outcome, self._currency)
        undelivered = await self._reply_result(finished, result)
        await self._show(finished)
        await self._set_parent(finished, status_key(outcome))
        if undelivered is not None:
            told = _told(finished)
            message = cards.undelivered_result(
                finished, result, undelivered, to=told, currency=self._currency
            )
            await self._tell_directly(finished, message)

    async def _reply_result(self, request: Request, result: SlackMessage) -> str | None:
        """The result in the request's thread; why not (for the direct message) if Slack
        didn't take it, whatever the reason: the result is never dropped."""
        try:
            await self._reply(request, result)
        except SLACK_FAILURES as error:
            reason = slack_failure(error)
            log.warning(
                "result of approval request %s (%s) not posted in its thread (%s); "
                "telling %s directly",
                request.id,
                request.state.value,
                reason,
                _told(request),
            )
            return reason
        return None

    # --- after a restart, and as time passes -----------------------------------------------

    async def left_behind(self) -> list[Request]:
        """At startup, before any request is taken: what a previous run left mid-way."""
        states = (State.EXECUTING, State.APPROVED, State.PENDING)
        found = await self._store.in_state(*states)
        return [r for r in found if r.state is not State.PENDING or r.card_ts is None]

    async def recover(self, left: list[Request]) -> None:
        """Pick up :meth:`left_behind` requests. ``executing``: the process died mid-call, so
        the answer is unknown: say so and check with Capillary (never send again).
        ``approved``: the call was never sent, so send it now (its thread first, if it has
        none), unless the request's time ran out meanwhile: then it is failed, not sent.
        ``pending`` without a card: post the card, unless its time ran out (the expiry
        round says so). One request failing (Slack down, say) doesn't stop the others."""
        for request in left:
            await _each(request, "recovering", self._recover_one(request))

    async def _recover_one(self, request: Request) -> None:
        now = self._now()
        if request.state is State.EXECUTING:
            unknown = OutcomeUnknown(_ENDPOINTS[request.verb].value, STOPPED_MID_CALL)
            outcome = await self._conversation.audited(
                self._scene(request), self._service.reconcile(request.command, unknown)
            )
            await self._finish(request, outcome, expected=State.EXECUTING)
        elif request.state is State.PENDING and request.timed_out(now):
            return  # the expiry round closes it and says so
        elif request.state is State.APPROVED and now >= request.expires_at:
            # Approved, then the bot stopped before the call, for longer than the request
            # was to live: an approval that old is not carried out.
            stopped = await self._not_run(request, cards.TOO_LATE, "the bot was down too long")
            if stopped is not None:
                await self._tell_not_run(stopped, cards.too_late_notice(stopped))
        elif request.state is State.APPROVED and request.thread_ts is not None:
            await self._execute(request)
        else:  # no thread yet (stopped right after the ack), or pending without its card
            await self.start(request)

    async def expire_due(self) -> int:
        """Expire every request past its time: card, parent, a word to the requester."""
        expired = await self._store.expire_due(self._now())
        for request in expired:
            if self._recorder is not None:
                self._recorder.approval(self._scene(request), AuditEventKind.EXPIRED)
            await _each(request, "showing the expiry of", self._show_expired(request))
        return len(expired)

    async def _show_expired(self, request: Request) -> None:
        await self._show(request)
        try:
            await self._reply(request, cards.expired_notice(request))
        finally:  # the card and parent are updated whether or not the thread took the notice
            await self._set_parent(request, ParentStatus.EXPIRED)

    async def expire_periodically(self, every_seconds: float) -> None:
        """Runs for as long as the bot does; a failed round is logged and the next one runs."""
        while True:
            try:
                await self.expire_due()
            except Exception:  # Slack or SQLite hiccup: the next round retries the rest
                log.exception("expiring approval requests failed; retrying next round")
            await asyncio.sleep(every_seconds)

    # --- lists -----------------------------------------------------------------------------

    async def pending_message(self, channel: str) -> SlackMessage:
        requests = await self._store.pending_in(channel, self._now(), limit=1000)
        return cards.pending_message(requests, self._currency)

    async def home(self, user: str) -> View:
        policy, role = self._access.policy, await self._access.role_of(user)
        may_approve, needed = policy.may_approve(role), MINIMUM_ROLE[Verb.REDEEM]
        now = self._now()
        return cards.home_view(
            may_approve=may_approve,
            waiting=await self._store.pending_for(user, now) if may_approve else [],
            decided=await self._store.decided_by(user) if may_approve else [],
            own=await self._store.requested_by(user),
            currency=self._currency,
            may_request=role is not None and needed is not None and role >= needed,
            admins=policy.admins(),
        )

    async def usage(self, user: str) -> list[tuple[Verb, int, int]]:
        """(verb, used in the last 24 h, limit) for each verb with a daily limit."""
        limits = self._access.policy.limits
        now = self._now()
        found = []
        for verb in (Verb.ISSUE, Verb.REDEEM):
            cap = limits.per_day(verb)
            if cap is not None:
                found.append((verb, await self._store.used(user, verb, now), cap))
        return found

    # --- helpers ---------------------------------------------------------------------------

    def _scene(self, request: Request) -> Scene:
        scene = scene_of(request.command, request.requester, request.channel, request.team)
        return replace(scene, thread_ts=request.thread_ts, approval_id=request.id)

    async def _not_run(self, request: Request, result: str, why: str) -> Request | None:
        """A request that was never sent to Capillary and never will be: failed, audited.
        None if it had moved on meanwhile (decided, started, expired)."""
        stopped = await self._store.finish(
            request.id, State.FAILED, at=self._now(), result=result, expected=request.state
        )
        if stopped is not None and self._recorder is not None:
            self._recorder.not_run(self._scene(stopped), why)
        return stopped

    async def _tell_not_run(self, request: Request, notice: str) -> None:
        """Say in the request's thread that it was not run: the thread is posted first if it
        never was (the requester has seen nothing but the ack)."""
        if request.thread_ts is None:
            request = await self._post_thread(request, ParentStatus.FAILED)
        else:
            await self._set_parent(request, ParentStatus.FAILED)
        try:
            await self._reply(request, notice)
        finally:
            await self._show(request)

    async def _tell_directly(self, request: Request, message: SlackMessage | str) -> None:
        """A direct message (the app's Messages tab) to whoever acted last on ``request``.
        Best effort: when Slack refuses that too, a log line is what is left (the stored
        request and the audit log have the outcome)."""
        user = _told(request)
        body = message.as_kwargs() if isinstance(message, SlackMessage) else {"text": message}
        try:
            await self._client.chat_postMessage(channel=user, **body)
        except SLACK_FAILURES as error:
            log.error(
                "approval request %s (%s): %s could not be told by direct message either (%s)",
                request.id,
                request.state.value,
                user,
                slack_failure(error),
            )

    def _refused(self, request: Request, why: str) -> None:
        """Refused before it was stored: audited with no approval id (no request has it)."""
        if self._recorder is not None:
            self._recorder.received(replace(self._scene(request), approval_id=None), why)

    def _decision_refused(
        self, request: Request, user: str, blocked: Blocked, *, approve: bool
    ) -> None:
        """Every refusal is audited: a click on Approve or Reject that doesn't count too."""
        if self._recorder is not None:
            decision = "approve" if approve else "reject"
            scene = replace(self._scene(request), actor=user)
            self._recorder.decision_refused(scene, f"{decision}: {blocked.value}")

    def _card(self, request: Request) -> SlackMessage:
        approvers = self._access.approver_mentions()
        return cards.approval_card(request, self._currency, approvers)

    async def _show(self, request: Request) -> None:
        """Best effort: bring the card up to date (the thread already says what happened)."""
        if request.card_ts is None:
            return
        card = self._card(request)
        try:
            await self._client.chat_update(
                channel=request.channel, ts=request.card_ts, **card.as_kwargs()
            )
        except SLACK_FAILURES as error:
            log.warning("approval card %s not updated (%s)", request.id, slack_failure(error))

    async def _reply(self, request: Request, message: SlackMessage | str) -> None:
        if request.thread_ts is None:
            return  # never posted: nobody to tell in a thread
        body = message.as_kwargs() if isinstance(message, SlackMessage) else {"text": message}
        await self._client.chat_postMessage(
            channel=request.channel, thread_ts=request.thread_ts, **body
        )

    async def _set_parent(self, request: Request, status: ParentStatus) -> None:
        if request.thread_ts is not None:
            await self._conversation.set_status(
                request.requester, request.channel, request.thread_ts, request.command, status
            )

    async def _post_thread(self, request: Request, status: ParentStatus) -> Request:
        """The request's parent line, stored as its thread (with a link when Slack gives one)."""
        ts = await self._conversation.post_parent(
            request.requester, request.channel, request.command, status
        )
        link = await self._permalink(request.channel, ts)
        return await self._store.attach(request.id, thread_ts=ts, link=link)

    async def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            answer = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
        except SLACK_FAILURES as error:  # the thread is posted: its link is a nicety
            log.warning("no permalink for a request thread (%s)", slack_failure(error))
            return None
        return str(answer["permalink"])


def cannot_post(error: BaseException) -> str | None:
    """Slack's error code when ``error`` says the bot can't post where it tried (one of
    :data:`CANNOT_POST`); None for anything else, which may work the next time."""
    if isinstance(error, SlackApiError):
        code = error.response.get("error")
        if isinstance(code, str) and code in CANNOT_POST:
            return code
    return None


def _told(request: Request) -> str:
    """Who acted last on a request, so is told privately: its approver, or (when it
    needed no approval) its requester."""
    return request.decided_by or request.requester


async def _each(request: Request, doing: str, work: Awaitable[None]) -> None:
    """``work`` for one request of several: a failure is logged and the next one goes on."""
    try:
        await work
    except Exception:  # the stored state is right; only this request's Slack side is behind
        log.exception("%s approval request %s failed", doing, request.id)
