"""429s on demand: "every Nth call" or "the next N calls" of a method (or of every method)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ANY_METHOD", "RateLimitRule", "RateLimits"]

ANY_METHOD = "*"


@dataclass
class RateLimitRule:
    """Answer 429 on every ``every``-th matching call, or on the next ``next`` calls."""

    method: str
    retry_after: int = 1
    every: int | None = None
    next: int | None = None
    seen: int = 0

    def __post_init__(self) -> None:
        if (self.every is None) == (self.next is None):
            raise ValueError("give exactly one of 'every' or 'next'")
        if (self.every is not None and self.every < 1) or (self.next is not None and self.next < 0):
            raise ValueError("'every' must be >= 1 and 'next' >= 0")
        if self.retry_after < 0:
            raise ValueError("'retry_after' must be >= 0 (whole seconds)")

    def hit(self) -> bool:
        """Count one matching call; True when it must be answered with 429."""
        self.seen += 1
        if self.every is not None:
            return self.seen % self.every == 0
        return self.seen <= (self.next or 0)


class RateLimits:
    """The active rules, keyed by method name (``*`` matches any method)."""

    def __init__(self) -> None:
        self._rules: dict[str, RateLimitRule] = {}

    def set(
        self,
        method: str = ANY_METHOD,
        *,
        every: int | None = None,
        next: int | None = None,
        retry_after: int = 1,
    ) -> RateLimitRule:
        """Install (or replace) the rule for ``method``."""
        rule = RateLimitRule(method, retry_after=retry_after, every=every, next=next)
        self._rules[method] = rule
        return rule

    def set_from_json(self, body: Mapping[str, object]) -> None:
        """Apply an admin request: ``{"clear": true}`` or a rule's fields (ValueError if bad)."""
        if body.get("clear"):
            self.clear()
            return
        retry_after = _optional_int(body, "retry_after")
        self.set(
            str(body.get("method", ANY_METHOD)),
            every=_optional_int(body, "every"),
            next=_optional_int(body, "next"),
            retry_after=1 if retry_after is None else retry_after,
        )

    def clear(self) -> None:
        """Remove every rule."""
        self._rules.clear()

    def check(self, method: str) -> int | None:
        """Seconds for ``Retry-After`` when this call must be rate limited, else None."""
        for key in (method, ANY_METHOD):
            rule = self._rules.get(key)
            if rule is not None and rule.hit():
                return rule.retry_after
        return None

    def as_json(self) -> list[dict[str, object]]:
        """The rules, for the admin endpoint."""
        return [
            {"method": r.method, "every": r.every, "next": r.next, "retry_after": r.retry_after}
            for r in self._rules.values()
        ]


def _optional_int(body: Mapping[str, object], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key!r} must be an integer")
    return value
