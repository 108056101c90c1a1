"""What the bot writes to the audit log, and when: commands, refusals, Capillary calls, outcomes.

Recording never waits (the sink queues; one writer task commits), so it is safe on the
ack path. Capillary calls are recorded by the client's observer; the command they belong
to (actor, channel, thread) travels with them in a context variable set for the duration
of the conversation.

An optional :class:`CommandMeter` (the metrics) hears how each command ended, alongside
the audit row: refused, ok, failed or unknown. Each end and each Capillary call is also a
log line (INFO and DEBUG), which names the actor and channel but never the customer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from bot.audit import AuditEvent, AuditEventKind, AuditOutcome
from bot.capillary.client import CallRecord
from bot.commands import Check, Command, Get, Issue, Redeem, Resend, SeriesInfo
from bot.service import (
    Checked,
    Failed,
    Issued,
    Looked,
    Outcome,
    Redeemed,
    Resent,
    SeriesFound,
    Unknown,
)

__all__ = ["AuditSink", "CommandMeter", "Recorder", "Scene", "scene_of"]


class AuditSink(Protocol):
    """Where events go (:class:`bot.storage.AuditLog`): ``record`` must not block."""

    def record(self, event: AuditEvent) -> None: ...


class CommandMeter(Protocol):
    """Hears how each command ended (:class:`bot.metrics.Metrics`); must not block."""

    def command_ended(self, verb: str, outcome: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Scene:
    """Who did what, where: the columns every event of one command shares."""

    actor: str
    channel: str
    verb: str
    team: str | None = None
    code: str | None = None
    series_id: str | None = None
    customer_kind: str | None = None
    customer: str | None = None
    thread_ts: str | None = None
    approval_id: str | None = None


def scene_of(command: Command, actor: str, channel: str, team: str | None = None) -> Scene:
    """The audit columns for a command."""
    scene = Scene(actor=actor, channel=channel, verb=command.verb.value, team=team)
    match command:
        case Get(codes=codes, customer=customer):
            scene = replace(scene, code=",".join(codes))
            who = customer
        case SeriesInfo(series_id=series_id):
            return replace(scene, series_id=series_id)
        case Issue(series_id=series_id, customer=customer):
            scene, who = replace(scene, series_id=series_id), customer
        case Check() | Resend() | Redeem():
            scene, who = replace(scene, code=command.code), command.customer
        case _:
            return scene
    if who is None:
        return scene
    return replace(scene, customer_kind=who.kind.value, customer=who.value)


log = logging.getLogger(__name__)
_current: ContextVar[Scene | None] = ContextVar("coupon_bot_scene", default=None)
_APPROVAL_EVENTS = frozenset(
    {
        AuditEventKind.APPROVAL_REQUESTED,
        AuditEventKind.APPROVED,
        AuditEventKind.REJECTED,
        AuditEventKind.EXPIRED,
    }
)
_CALL_OUTCOMES = {
    "ok": AuditOutcome.OK,
    "error": AuditOutcome.FAILED,
    "unknown": AuditOutcome.UNKNOWN,
}


class Recorder:
    """Turns what happens into :class:`AuditEvent` rows."""

    def __init__(
        self,
        sink: AuditSink,
        *,
        clock: Callable[[], datetime] | None = None,
        meter: CommandMeter | None = None,
    ):
        self._sink = sink
        self._clock = clock or (lambda: datetime.now(UTC))
        self._meter = meter

    def received(self, scene: Scene, refused_because: str | None = None) -> None:
        """A command as it arrived: accepted (``command``) or refused, with the reason."""
        if refused_because is None:
            self._emit(scene, AuditEventKind.COMMAND)
        else:
            detail = refused_because
            self._emit(scene, AuditEventKind.REFUSED, outcome=AuditOutcome.REFUSED, detail=detail)
            self._ended(scene, AuditOutcome.REFUSED)

    def outcome(self, scene: Scene, outcome: Outcome) -> None:
        """The end of a command: its status, and Capillary's verdict when there was one.

        An issue's outcome also names the coupon it made (its series stays in ``series_id``),
        so the code the customer holds finds who issued it and the approval it came from.
        """
        code, message, request_id = _verdict(outcome)
        ended = AuditOutcome(outcome.status.value)
        self._emit(
            replace(scene, code=_made(outcome) or scene.code),
            AuditEventKind.OUTCOME,
            outcome=ended,
            capillary_code=code,
            capillary_message=message,
            capillary_request_id=request_id,
        )
        self._ended(scene, ended)

    def failed(self, scene: Scene) -> None:
        """An unexpected failure mid-command: Capillary may have acted, so ``unknown``."""
        self._emit(scene, AuditEventKind.OUTCOME, outcome=AuditOutcome.UNKNOWN)
        self._ended(scene, AuditOutcome.UNKNOWN)

    def approval(self, scene: Scene, kind: AuditEventKind, detail: str | None = None) -> None:
        """A step of an approval request: requested, approved, rejected or expired."""
        if kind not in _APPROVAL_EVENTS:
            raise ValueError(f"{kind} is not an approval event")
        self._emit(scene, kind, detail=detail)

    def decision_refused(self, scene: Scene, why: str) -> None:
        """An Approve or Reject by ``scene.actor`` that doesn't count (their own request, not
        an approver, too late): audited as ``refused``; the request's command goes on."""
        self._emit(scene, AuditEventKind.REFUSED, outcome=AuditOutcome.REFUSED, detail=why)
        log.info("decision on %s by %s refused: %s", scene.approval_id, scene.actor, why)

    def not_run(self, scene: Scene, why: str) -> None:
        """The command stopped before anything was sent to Capillary."""
        self._emit(scene, AuditEventKind.OUTCOME, outcome=AuditOutcome.FAILED, detail=why)
        self._ended(scene, AuditOutcome.FAILED)

    @contextmanager
    def scene(self, scene: Scene) -> Iterator[None]:
        """Capillary calls made inside belong to ``scene``."""
        token = _current.set(scene)
        try:
            yield
        finally:
            _current.reset(token)

    def capillary_call(self, call: CallRecord) -> None:
        """The Capillary client's observer: one row per HTTP attempt."""
        scene = _current.get() or Scene(actor="", channel="", verb="")
        log.debug(
            "Capillary %s %s attempt %d: HTTP %s, code %s, %.0f ms, request id %s",
            call.method,
            call.endpoint,
            call.attempt,
            call.http_status,
            call.code,
            call.latency_ms,
            call.request_id,
        )
        self._emit(
            scene,
            AuditEventKind.CAPILLARY_CALL,
            outcome=_CALL_OUTCOMES[call.outcome],
            capillary_endpoint=call.endpoint,
            capillary_request_id=call.request_id,
            http_status=call.http_status,
            capillary_code=call.code,
            latency_ms=round(call.latency_ms, 1),
        )

    def _ended(self, scene: Scene, outcome: AuditOutcome) -> None:
        log.info("%s by %s in %s: %s", scene.verb, scene.actor, scene.channel, outcome.value)
        if self._meter is not None:
            self._meter.command_ended(scene.verb, outcome.value)

    def _emit(
        self,
        scene: Scene,
        kind: AuditEventKind,
        *,
        outcome: AuditOutcome | None = None,
        detail: str | None = None,
        capillary_endpoint: str | None = None,
        capillary_request_id: str | None = None,
        http_status: int | None = None,
        capillary_code: str | None = None,
        capillary_message: str | None = None,
        latency_ms: float | None = None,
    ) -> None:
        event = AuditEvent(
            event=kind,
            at=self._clock(),
            actor=scene.actor or None,
            verb=scene.verb or None,
            code=scene.code,
            series_id=scene.series_id,
            customer_kind=scene.customer_kind,
            customer=scene.customer,
            team=scene.team,
            channel=scene.channel or None,
            thread_ts=scene.thread_ts,
            approval_id=scene.approval_id,
            outcome=outcome,
            detail=detail,
            capillary_endpoint=capillary_endpoint,
            capillary_request_id=capillary_request_id,
            http_status=http_status,
            capillary_code=capillary_code,
            capillary_message=capillary_message,
            latency_ms=latency_ms,
        )
        self._sink.record(event)


def _made(outcome: Outcome) -> str | None:
    """The code of the coupon an outcome brought into being, upper-case as codes are looked up
    (``/coupon log h6bfkx37`` asks for ``H6BFKX37``); None for any other outcome."""
    match outcome:
        case Issued(coupon=coupon):
            return coupon.code.upper()
    return None


def _verdict(outcome: Outcome) -> tuple[str | None, str | None, str | None]:
    """Capillary's code, message and request id for an outcome, where it gave them."""
    match outcome:
        case Failed(explanation=explained, request_id=request_id):
            return explained.code, explained.capillary_message, request_id
        case Unknown(unknown=unknown):
            return None, unknown.reason, unknown.request_id
        case Checked(result=result) if result.reason is not None:
            return result.reason.code, result.reason.capillary_message, result.request_id
        case Checked(result=result) | Resent(result=result):
            return "700", None, result.request_id
        case Looked(coupons=(), missing=(first, *_), request_id=request_id):
            return first.explanation.code, first.explanation.capillary_message, request_id
        case Looked(coupons=(), request_id=request_id):  # an answer with no items at all
            return None, None, request_id
        case Looked(request_id=request_id):
            return "700", None, request_id
        case SeriesFound(series=series):
            return "700", None, series.request_id
        case Issued(coupon=coupon):
            return "700", None, coupon.request_id
        case Redeemed(redemption=redemption):
            return "700", None, redemption.request_id
    return None, None, None
