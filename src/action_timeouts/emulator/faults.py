"""Faults a test can queue: throttling, errors, latency, drops, raw answers, races.

The plan itself is not thread-safe; `EmulatorState` guards it with its lock.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from action_timeouts.emulator.errors import json_form

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v2"

RetryAfter = int | str | datetime | None
# Headers of a raw answer that the emulator writes itself.
_COMPUTED_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding"})
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass
class Throttle:
    """One queued 429 answer; `retry_after` None means no `Retry-After` header."""

    retry_after: str | None
    path_prefix: str


@dataclass
class Drop:
    """A queue of requests to answer by closing the connection."""

    remaining: int
    methods: frozenset[str] | None
    path_prefix: str


@dataclass
class RawResponse:
    """A queue of requests to answer with fixed bytes instead of the emulated API."""

    remaining: int
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]]
    methods: frozenset[str] | None
    path_prefix: str


@dataclass
class ConcurrentEdit:
    """Another editor's change, applied before each of the next PATCHes of an action."""

    remaining: int
    change: dict[str, Any] | None


@dataclass
class FaultPlan:
    """Every fault currently queued or switched on."""

    throttles: deque[Throttle] = field(default_factory=deque)
    drops: list[Drop] = field(default_factory=list)
    raw_responses: list[RawResponse] = field(default_factory=list)
    error_rate: float = 0.0
    error_status: int = 503
    error_prefix: str = API_PREFIX
    error_random: random.Random = field(default_factory=lambda: random.Random(0))
    extra_latency_ms: int = 0
    commit_drops: int = 0
    concurrent_edits: dict[str, ConcurrentEdit] = field(default_factory=dict)

    def take_throttle(self, path: str) -> Throttle | None:
        """Return and consume the first queued 429 that applies to the path."""
        for throttle in self.throttles:
            if path.startswith(throttle.path_prefix):
                self.throttles.remove(throttle)
                return throttle
        return None

    def roll_error(self, path: str) -> int | None:
        """Return the status of a random server error for this request, or None."""
        if self.error_rate <= 0 or not path.startswith(self.error_prefix):
            return None
        if self.error_random.random() < self.error_rate:
            return self.error_status
        return None

    def take_drop(self, method: str, path: str) -> bool:
        """Tell whether to drop this request's connection, consuming one drop."""
        for drop in self.drops:
            if drop.remaining <= 0 or not path.startswith(drop.path_prefix):
                continue
            if drop.methods is not None and method.upper() not in drop.methods:
                continue
            drop.remaining -= 1
            return True
        return False

    def take_raw_response(self, method: str, path: str) -> RawResponse | None:
        """Return the raw answer queued for this request, consuming one, or None."""
        for raw in self.raw_responses:
            if raw.remaining <= 0 or not path.startswith(raw.path_prefix):
                continue
            if raw.methods is not None and method.upper() not in raw.methods:
                continue
            raw.remaining -= 1
            return raw
        return None

    def take_commit_drop(self) -> bool:
        """Tell whether to drop the answer of a write that just committed."""
        if self.commit_drops <= 0:
            return False
        self.commit_drops -= 1
        return True

    def take_concurrent_edit(self, action_id: str) -> ConcurrentEdit | None:
        """Return and consume one pending concurrent edit of the action."""
        edit = self.concurrent_edits.get(action_id)
        if edit is None:
            return None
        edit.remaining -= 1
        if edit.remaining <= 0:
            del self.concurrent_edits[action_id]
        return edit


def retry_after_text(value: RetryAfter) -> str | None:
    """Return the `Retry-After` header text for an int, text, HTTP date or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return email.utils.format_datetime(value, usegmt=True)
    return str(value)


def retry_after_seconds(text: str | None, wall_clock_now: float) -> float | None:
    """Return how many seconds a `Retry-After` value asks for, or None if unreadable."""
    if text is None:
        return None
    if text.strip().isdigit():
        return float(text.strip())
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - wall_clock_now)


def raw_headers(
    body: bytes, content_type: str | None, headers: Mapping[str, str]
) -> list[tuple[bytes, bytes]]:
    """Return the exact header list of a raw answer; ValueError for unusable headers."""
    given = [(str(name), str(value)) for name, value in headers.items()]
    if any(name.lower() in _COMPUTED_HEADERS for name, _ in given):
        computed = ", ".join(sorted(_COMPUTED_HEADERS))
        raise ValueError(f"leave out {computed}: the emulator writes them")
    if content_type is not None:
        given.insert(0, ("content-type", content_type))
    given.append(("content-length", str(len(body))))
    for name, value in given:
        if not _HEADER_NAME.fullmatch(name) or "\r" in value or "\n" in value:
            shown = f"header {json_form(name)}: {json_form(value)}"
            raise ValueError(f"{shown} cannot be sent as given")
    return [
        (name.lower().encode("ascii"), value.encode("latin-1")) for name, value in given
    ]
