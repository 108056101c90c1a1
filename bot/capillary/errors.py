"""The Capillary client's errors. Every failure the client reports is one of these.

::

    CapillaryError                   base: endpoint, X-Cap-Requestid, a catalogue Explanation
    ├── CapillaryTransportError      no answer: timeout, connection refused, rate limited
    ├── CapillaryProtocolError       an answer that is not an envelope we understand
    ├── CapillaryRequestError        request-level failure (status.code 400, 401, 500 …)
    └── CapillaryItemError           the coupon-level answer was a 7xx error (713 expired …)

A POST whose outcome cannot be known is *not* an error: it is an
:class:`~bot.capillary.models.OutcomeUnknown` result, so that nobody can mistake it for a
failure (and retry) or for a success.
"""

from __future__ import annotations

from bot.capillary.catalogue import (
    Explanation,
    TransportFailure,
    explain_item,
    explain_request,
    explain_transport,
)

__all__ = [
    "CapillaryError",
    "CapillaryItemError",
    "CapillaryProtocolError",
    "CapillaryRequestError",
    "CapillaryTransportError",
]


class CapillaryError(Exception):
    """Base class. ``explanation`` is what an agent is told; ``request_id`` is for escalation."""

    explanation: Explanation
    #: Seconds Capillary (or a gateway) asked us to wait, from ``Retry-After``.
    retry_after: float | None = None
    #: False when the request certainly never reached Capillary (refused connection, no
    #: token): such a failed write is a plain failure, not an unknown outcome.
    sent: bool = True

    def __init__(
        self, explanation: Explanation, *, endpoint: str = "", request_id: str | None = None
    ):
        super().__init__(f"{endpoint or 'capillary'}: [{explanation.code}] {explanation.sentence}")
        self.explanation = explanation
        self.endpoint = endpoint
        self.request_id = request_id

    @property
    def code(self) -> str:
        """The raw code as text: ``"713"``, ``"401"``, ``"timeout"``."""
        return self.explanation.code

    @property
    def retry_later_helps(self) -> bool:
        return self.explanation.retry_later_helps


class CapillaryTransportError(CapillaryError):
    """Capillary could not be reached or did not answer in time."""

    def __init__(
        self,
        failure: TransportFailure,
        detail: str | None = None,
        *,
        sent: bool,
        endpoint: str = "",
        request_id: str | None = None,
    ):
        super().__init__(
            explain_transport(failure, detail), endpoint=endpoint, request_id=request_id
        )
        self.failure = failure
        self.sent = sent


class CapillaryProtocolError(CapillaryError):
    """The response body is not a Capillary envelope (HTML from a proxy, truncated JSON …)."""

    def __init__(self, detail: str, *, endpoint: str = "", request_id: str | None = None):
        explanation = explain_transport(TransportFailure.MALFORMED_BODY, detail)
        super().__init__(explanation, endpoint=endpoint, request_id=request_id)
        self.detail = detail


class CapillaryRequestError(CapillaryError):
    """Capillary refused the whole request (``response.status.code``)."""

    def __init__(
        self,
        status_code: int,
        message: str | None,
        *,
        http_status: int | None = None,
        from_envelope: bool = True,
        endpoint: str = "",
        request_id: str | None = None,
    ):
        super().__init__(
            explain_request(status_code, message), endpoint=endpoint, request_id=request_id
        )
        self.status_code = status_code
        self.http_status = http_status
        #: False when only the HTTP status spoke (a gateway page, not Capillary's envelope).
        self.from_envelope = from_envelope


class CapillaryItemError(CapillaryError):
    """Capillary answered, and the coupon-level answer is an error (``item_status.code``)."""

    def __init__(
        self,
        item_code: int,
        message: str | None,
        *,
        endpoint: str = "",
        request_id: str | None = None,
    ):
        super().__init__(explain_item(item_code, message), endpoint=endpoint, request_id=request_id)
        self.item_code = item_code
