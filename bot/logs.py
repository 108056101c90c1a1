"""Logging setup: plain text for people, or one JSON object per line for log shippers.

Every line logged while a Slack request is handled carries that request's correlation id,
including lines from the work that continues after the ack (``asyncio`` tasks copy the
context they are created in). The id is the one the error exit shows a user for an
unexpected error, so a user quoting it finds every line of their command.

Libraries that log URLs, bodies or SQL parameters (Capillary URLs carry customer
identifiers in their query strings; the audit log's inserts carry them as parameters) are
held above the levels where they do, whatever the level asked for (:data:`LIBRARY_FLOORS`).
Slack credentials a library puts in an error line (the ticket of a Socket Mode URL, whose
failed handshake slack_sdk logs at ERROR; a token) are cut out of every line (:func:`redact`).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal, TextIO

from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

__all__ = [
    "LIBRARY_FLOORS",
    "CorrelationFilter",
    "JsonFormatter",
    "LibraryFloors",
    "RequestContext",
    "TextFormatter",
    "configure_logging",
    "correlation_id",
    "current_request",
    "describe_error",
    "new_correlation_id",
    "redact",
    "request_context",
]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"
NO_CORRELATION = "-"
# The lowest level each library may log at: below it, each logs something a customer
# identifier or a credential can be part of. httpx logs request URLs (Capillary's carry
# customers in the query string) at INFO; httpcore headers, aiosqlite every statement with
# its parameters (the audit log's inserts), slack_sdk/slack_bolt/aiohttp bodies at DEBUG;
# Bolt's signature check the whole body of a request it refuses (401) at INFO, so
# ``bot.server`` says that one itself. The most specific name listed decides.
LIBRARY_FLOORS: Mapping[str, int] = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiosqlite": logging.INFO,
    "slack_sdk": logging.INFO,
    "slack_bolt": logging.INFO,
    "slack_bolt.RequestVerification": logging.WARNING,
    "aiohttp": logging.INFO,
}
# A Socket Mode URL's single-use ticket (``wss://…/link/?ticket=…&app_id=…``), and Slack
# tokens: bot, user, app-level, refresh and configuration (``xoxb-``, ``xoxp-``, ``xapp-``, …).
_CREDENTIALS = re.compile(r"(?<=ticket=)[^&\s'\"\\<>)]+|\bx(?:ox[a-z]|app)-[\w.-]+")
REDACTED = "[redacted]"


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The request being handled: its correlation id and when it arrived."""

    correlation_id: str
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        """Seconds since the request arrived."""
        return time.perf_counter() - self.started


_request: ContextVar[RequestContext | None] = ContextVar("coupon_bot_request", default=None)


def new_correlation_id() -> str:
    """Short enough for a user to read out, random enough not to collide in a day's logs."""
    return secrets.token_hex(4)


@contextmanager
def request_context(correlation: str | None = None) -> Iterator[RequestContext]:
    """Everything inside (and every task started inside) belongs to one request."""
    context = RequestContext(correlation or new_correlation_id())
    token = _request.set(context)
    try:
        yield context
    finally:
        _request.reset(token)


def current_request() -> RequestContext | None:
    return _request.get()


def correlation_id() -> str | None:
    """The correlation id of the request being handled, if any."""
    context = _request.get()
    return context.correlation_id if context is not None else None


class CorrelationFilter(logging.Filter):
    """Adds ``correlation_id`` to every record (``-`` outside a request); drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id() or NO_CORRELATION
        return True


class LibraryFloors(logging.Filter):
    """Drops a library's records below its floor (:data:`LIBRARY_FLOORS`).

    Setting the libraries' logger levels is not enough: Bolt copies the root level onto each
    logger it creates (``slack_bolt.AsyncApp`` …), so at DEBUG it would log ack bodies.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "slack_bolt.AsyncApp" and record.msg == _TOKEN_UNUSED:
            return False  # every start: Bolt read SLACK_BOT_TOKEN too, and our client has it
        return record.levelno >= _floor(record.name)


_TOKEN_UNUSED = warning_client_prioritized_and_token_skipped()


@lru_cache(maxsize=512)
def _floor(logger_name: str) -> int:
    """The floor of the most specific :data:`LIBRARY_FLOORS` entry naming ``logger_name``."""
    found = [
        (len(library), floor)
        for library, floor in LIBRARY_FLOORS.items()
        if logger_name == library or logger_name.startswith(f"{library}.")
    ]
    return max(found)[1] if found else logging.NOTSET


def redact(text: str) -> str:
    """``text`` with any Slack credential in it replaced by ``[redacted]``."""
    return _CREDENTIALS.sub(REDACTED, text)


class TextFormatter(logging.Formatter):
    """:data:`TEXT_FORMAT` lines (traceback included), credentials cut out."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """``{"at": …, "level": …, "logger": …, "message": …, "correlation_id": …, "exc": …}``,
    credentials cut out."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        correlation = getattr(record, "correlation_id", NO_CORRELATION)
        if correlation != NO_CORRELATION:
            entry["correlation_id"] = correlation
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    log_format: Literal["text", "json"],
    level: int = logging.INFO,
    *,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Log to ``stream`` (stderr) in ``log_format``; returns the handler installed on root."""
    handler = logging.StreamHandler(stream)
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    handler.setFormatter(formatter)
    handler.addFilter(LibraryFloors())
    handler.addFilter(CorrelationFilter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(level, floor))
    return handler


def describe_error(error: BaseException) -> str:
    """An exception in one line for a diagnosis (``coupon-bot check``, ``/healthz``): its type,
    and its message when it has one."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
