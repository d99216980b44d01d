"""Simulated execution of actions: latency, failures and timeouts, without real waits.

An execution never sleeps for its whole simulated latency: the latency is compared
with the action's timeout, and the HTTP layer waits at most `MAX_REAL_WAIT_SECONDS`.
"""

from __future__ import annotations

import logging
import random
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from action_timeouts.emulator import documents
from action_timeouts.emulator.errors import EmulatedApiError, bad_request

logger = logging.getLogger(__name__)

MAX_REAL_WAIT_SECONDS = 0.02
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 15
Outcome = Literal["success", "timeout", "failure"]


@dataclass(frozen=True)
class ActionBehaviour:
    """How the simulated endpoint behind an action answers."""

    latency_ms: int
    failure_rate: float


@dataclass(frozen=True)
class Execution:
    """The result of one simulated execution."""

    outcome: Outcome
    latency_ms: int
    timeout_seconds: int
    result: Any
    # Why a failure failed, when the action itself is at fault.
    problem: str | None = None

    @property
    def real_wait_seconds(self) -> float:
        """Return how long the HTTP layer really waits before answering."""
        return min(self.latency_ms / 1000, MAX_REAL_WAIT_SECONDS)


def default_behaviour(action_id: str) -> ActionBehaviour:
    """Return the deterministic default behaviour: 100-499 ms, never failing."""
    latency = 100 + zlib.crc32(action_id.encode("utf-8")) % 400
    return ActionBehaviour(latency_ms=latency, failure_rate=0.0)


def effective_timeout(doc: Mapping[str, Any], function_timeout: int | None) -> int:
    """Return the seconds an execution may take; a function's own limit also applies.

    `function_timeout` is None for an action that is not a function action.
    """
    seconds = documents.configured_timeout(doc)
    if function_timeout is not None:
        return min(seconds, function_timeout)
    return seconds


def simulate(
    doc: Mapping[str, Any],
    behaviour: ActionBehaviour,
    function_timeout: int | None,
    rng: random.Random,
) -> Execution:
    """Run an action in simulation: it succeeds, fails or times out.

    `function_timeout` is the function's own limit, None for an HTTP action. An HTTP
    action without a request URL template or a request type fails at once.
    """
    timeout = effective_timeout(doc, function_timeout)
    missing = (
        [] if function_timeout is not None else documents.missing_request_fields(doc)
    )
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        problem = (
            f"{' and '.join(missing)} {verb} missing; an HTTP action needs a request "
            "URL template and a request type"
        )
        return Execution("failure", 0, timeout, None, problem)
    if behaviour.latency_ms > timeout * 1000:
        return Execution("timeout", behaviour.latency_ms, timeout, None)

    if behaviour.failure_rate > 0 and rng.random() < behaviour.failure_rate:
        return Execution("failure", behaviour.latency_ms, timeout, None)

    result = documents.sample_from_schema(documents.success_schema(doc))
    return Execution("success", behaviour.latency_ms, timeout, result)


def execution_problem(execution: Execution, timeout_status: int) -> EmulatedApiError:
    """Return the error answer of a failed or timed-out execution."""
    if execution.outcome == "timeout":
        message = (
            f"The action did not complete within its timeout of "
            f"{execution.timeout_seconds} seconds"
        )
        return EmulatedApiError(timeout_status, "request.timeout", message)
    if execution.problem is not None:
        message = f"REST call for action execute failed. Message: {execution.problem}"
        return bad_request(message)
    message = (
        "REST call for action execute failed. Message: Request to backend service "
        "failed. Response from web service: simulated endpoint failure"
    )
    return bad_request(message)


def build_test_result(
    execution: Execution,
    input_object: Any,
    timeout_status: int,
    correlation_id: str,
) -> dict[str, Any]:
    """Return the TestExecutionResult of a simulated test run."""
    operations: list[dict[str, Any]] = [
        {"step": 1, "name": "Validate input", "success": True, "result": input_object}
    ]
    if execution.outcome != "success":
        error = execution_problem(execution, timeout_status).body(correlation_id)
        operations.append(
            {"step": 2, "name": "Execute request", "success": False, "error": error}
        )
        return {"operations": operations, "success": False, "error": error}

    operations.append(
        {
            "step": 2,
            "name": "Execute request",
            "success": True,
            "result": {"latencyMs": execution.latency_ms},
        }
    )
    operations.append(
        {
            "step": 3,
            "name": "Apply output template",
            "success": True,
            "result": execution.result,
        }
    )
    return {"operations": operations, "success": True, "finalResult": execution.result}
