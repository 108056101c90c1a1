"""Fault-injection settings, switchable at runtime through ``/__sandbox/faults``.

``GET /__sandbox/faults`` shows them; ``POST /__sandbox/faults`` with a JSON object changes
only the keys given (unknown keys or bad values: HTTP 400, nothing changed). Faults apply to
``/v1.1/...`` API calls only, never to ``/__sandbox/*`` or the OAuth endpoint.

- ``latency_ms``: delay added to every API call.
- ``http_500_next``: the next N calls answer HTTP 500, envelope code 500, no item.
- ``malformed_next``: the next N calls answer HTTP 200 with an HTML (non-JSON) body.
- ``timeout_next`` / ``timeout_seconds`` (default 60): the next N calls hang that long.
  With ``timeout_processes`` (default true) the call takes effect first and only the answer
  is late (the client's outcome is "unknown"); with false it is not carried out and the late
  answer is HTTP 504.
- ``transient_next`` / ``transient_code`` (default 791): the next N calls fail with that item
  code in the endpoint's normal envelope (issue/redeem request status 500).
- ``only_path`` (default ``""``): when set, e.g. ``"coupon/redeem"``, the one-shot faults
  above (``*_next``) hit only calls to that endpoint and wait for one; other calls pass.
- ``rate_limit_per_minute`` (int or null): beyond it, HTTP 429, envelope code 429,
  ``Retry-After`` header.
- ``expire_tokens``: true invalidates every OAuth token issued so far (reads back false).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TypeGuard

from bot.sandbox.capillary import codes


class FaultError(ValueError):
    """A bad ``/__sandbox/faults`` update (unknown key, wrong type, out of range)."""


@dataclass
class Faults:
    """Current fault settings plus the rate limiter's sliding window."""

    latency_ms: int = 0
    http_500_next: int = 0
    malformed_next: int = 0
    timeout_next: int = 0
    timeout_seconds: float = 60.0
    timeout_processes: bool = True
    transient_code: int = codes.TRY_AGAIN_LATER
    transient_next: int = 0
    only_path: str = ""
    rate_limit_per_minute: int | None = None
    expire_tokens: bool = False
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    _window: deque[float] = field(default_factory=deque, repr=False, compare=False)

    @staticmethod
    def keys() -> list[str]:
        """The settable keys."""
        return [f.name for f in fields(Faults) if f.name not in ("clock", "_window")]

    def as_dict(self) -> dict[str, object]:
        """The settings as JSON-ready data."""
        return {key: getattr(self, key) for key in self.keys()}

    def reset(self) -> None:
        """Back to no faults at all (in place)."""
        fresh = Faults()
        for key in self.keys():
            setattr(self, key, getattr(fresh, key))
        self._window.clear()

    def update(self, payload: Mapping[str, object]) -> None:
        """Apply a partial update; raises FaultError and changes nothing if any key is bad."""
        unknown = sorted(set(payload) - set(self.keys()))
        if unknown:
            known = ", ".join(self.keys())
            raise FaultError(f"unknown fault key(s): {', '.join(unknown)}; known keys: {known}")
        checked = {key: _check(key, value) for key, value in payload.items()}
        for key, value in checked.items():
            setattr(self, key, value)
        if "rate_limit_per_minute" in checked:
            self._window.clear()

    def take(self, counter: str) -> bool:
        """Consume one unit of a ``*_next`` counter; True if the fault fires for this call."""
        remaining: int = getattr(self, counter)
        if remaining <= 0:
            return False
        setattr(self, counter, remaining - 1)
        return True

    def rate_limited(self) -> int | None:
        """Count this call; None if allowed, else the Retry-After seconds."""
        limit = self.rate_limit_per_minute
        if limit is None:
            return None
        now = self.clock()
        while self._window and now - self._window[0] >= 60.0:
            self._window.popleft()
        if len(self._window) >= limit:
            return max(1, math.ceil(60.0 - (now - self._window[0])))
        self._window.append(now)
        return None


def _check(key: str, value: object) -> object:
    if key in ("timeout_processes", "expire_tokens"):
        return _require(isinstance(value, bool), key, "must be true or false", value)
    if key == "only_path":
        return _require(isinstance(value, str) and len(value) <= 100, key, "must be a path", value)
    if key == "timeout_seconds":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        return _require(ok, key, "must be a number > 0", value)
    if key == "rate_limit_per_minute":
        ok = value is None or (_is_int(value) and value >= 1)
        return _require(ok, key, "must be an integer >= 1 or null", value)
    if key == "transient_code":
        ok = _is_int(value) and 600 <= value <= 799
        return _require(ok, key, "must be an item code between 600 and 799", value)
    ok = _is_int(value) and value >= 0
    return _require(ok, key, "must be an integer >= 0", value)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(ok: bool, key: str, rule: str, value: object) -> object:
    if not ok:
        raise FaultError(f"{key} {rule} (got {value!r})")
    return value
