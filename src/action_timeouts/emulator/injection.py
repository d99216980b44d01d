"""Fault injection: the part of the in-process control plane that queues faults.

`FaultInjection` is mixed into `EmulatorState`, whose lock guards the fault plan;
each method is mirrored by a fault kind of the HTTP control plane.
"""

from __future__ import annotations

import copy
import logging
import random
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from action_timeouts.emulator.faults import (
    API_PREFIX,
    ConcurrentEdit,
    Drop,
    FaultPlan,
    RawResponse,
    RetryAfter,
    Throttle,
    raw_headers,
    retry_after_text,
)

logger = logging.getLogger(__name__)


class FaultInjection:
    """Queue and switch faults; the methods behind the control plane's fault kinds."""

    _lock: threading.RLock
    _faults: FaultPlan

    def inject_429(
        self,
        count: int,
        retry_after: RetryAfter = "1",
        *,
        path_prefix: str = API_PREFIX,
    ) -> None:
        """Answer the next `count` requests under the prefix with 429."""
        text = retry_after_text(retry_after)
        with self._lock:
            for _ in range(count):
                self._faults.throttles.append(Throttle(text, path_prefix))

    def set_error_rate(
        self,
        rate: float,
        status: int = 503,
        *,
        seed: int = 0,
        path_prefix: str = API_PREFIX,
    ) -> None:
        """Answer that share of requests with `status`, using a seeded generator."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            self._faults.error_rate = rate
            self._faults.error_status = status
            self._faults.error_prefix = path_prefix
            self._faults.error_random = random.Random(seed)

    def set_extra_latency(self, ms: int) -> None:
        """Delay every emulated request by `ms` milliseconds of real time."""
        with self._lock:
            self._faults.extra_latency_ms = max(0, int(ms))

    def inject_drops(
        self,
        count: int,
        methods: Iterable[str] | None = None,
        *,
        path_prefix: str = API_PREFIX,
    ) -> None:
        """Close the connection of the next `count` matching requests unanswered."""
        chosen = None if methods is None else frozenset(m.upper() for m in methods)
        with self._lock:
            self._faults.drops.append(Drop(count, chosen, path_prefix))

    def inject_raw_response(
        self,
        count: int,
        status: int,
        body: str | bytes = b"",
        *,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        methods: Iterable[str] | None = None,
        path_prefix: str = API_PREFIX,
    ) -> None:
        """Answer the next `count` matching requests with exactly these bytes.

        The request is not processed: the answer stands in for the emulated API's,
        with only the given headers, `Content-Type` (none when None) and a computed
        `Content-Length`; it carries no correlation id and no rate-limit headers.
        """
        if type(count) is not int or count < 1:
            raise ValueError("count must be a positive integer")
        if type(status) is not int or not 200 <= status <= 599:
            raise ValueError("status must be an HTTP status from 200 to 599")
        if not isinstance(body, str | bytes) or isinstance(methods, str):
            raise ValueError("body must be text or bytes, methods a list of methods")
        raw = body.encode("utf-8") if isinstance(body, str) else body
        if raw and status in (204, 304):
            raise ValueError(f"a {status} answer cannot have a body")
        header_list = raw_headers(raw, content_type, headers or {})
        chosen = None if methods is None else frozenset(m.upper() for m in methods)
        queued = RawResponse(count, status, raw, header_list, chosen, path_prefix)
        with self._lock:
            self._faults.raw_responses.append(queued)

    def inject_commit_without_answer(self, count: int) -> None:
        """Commit the next `count` writes, then drop their answers.

        Writes are PATCH of an action, PATCH of a draft, and publish; a write that
        is refused is answered normally and does not use up the count.
        """
        with self._lock:
            self._faults.commit_drops += count

    def concurrent_edit(
        self,
        action_id: str,
        times: int = 1,
        change: Mapping[str, Any] | None = None,
    ) -> None:
        """Let another editor change the action before each of its next PATCHes.

        The edit bumps the stored version, so the PATCH that follows is stale, and
        applies `change` as a JSON merge patch (a null value deletes a key).
        """
        with self._lock:
            edit_change = None if change is None else copy.deepcopy(dict(change))
            self._faults.concurrent_edits[action_id] = ConcurrentEdit(
                times, edit_change
            )

    def clear_faults(self) -> None:
        """Remove every queued or switched-on fault."""
        with self._lock:
            self._faults = FaultPlan()

    def take_drop(self, method: str, path: str) -> bool:
        """Tell whether to drop this request's connection before answering."""
        with self._lock:
            return self._faults.take_drop(method, path)

    def take_raw_response(self, method: str, path: str) -> RawResponse | None:
        """Return the raw answer queued for this request, consuming one, or None."""
        with self._lock:
            return self._faults.take_raw_response(method, path)

    def take_commit_drop(self) -> bool:
        """Tell whether to drop the answer of a write that has just committed."""
        with self._lock:
            return self._faults.take_commit_drop()
