"""When and how long to wait before trying a Capillary GET again.

Only reads are retried: on transport errors, HTTP 5xx, request codes 461/521 (busy,
concurrent actions on the same customer) and the "try again later" item codes (786 …).
Writes (issue, redeem) are never retried automatically — see :mod:`bot.capillary.client`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bot.capillary.errors import (
    CapillaryError,
    CapillaryItemError,
    CapillaryProtocolError,
    CapillaryRequestError,
    CapillaryTransportError,
)

__all__ = ["RetryPolicy", "is_retryable"]


def is_retryable(error: CapillaryError) -> bool:
    """Whether asking again later may give a different answer to a read."""
    if isinstance(error, CapillaryTransportError | CapillaryProtocolError):
        return True
    if isinstance(error, CapillaryRequestError):
        # A server error (5xx, with no envelope or an envelope that says 5xx too) may pass;
        # a 5xx whose envelope carries a definite 4xx code will not.
        server_error = (error.http_status or 0) >= 500 and (
            not error.from_envelope or error.status_code >= 500
        )
        return error.retry_later_helps or server_error
    if isinstance(error, CapillaryItemError):
        return error.retry_later_helps
    return False


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries in all, with exponential backoff and jitter between them.

    A ``Retry-After`` longer than ``max_retry_after`` is not waited for: the error is
    returned at once, since a chat user will not wait that long.
    """

    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 2.0
    max_retry_after: float = 5.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait after failed try number ``attempt`` (1-based); None: don't retry."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        backoff = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        return max(backoff, retry_after or 0.0)
