"""Execute and test: simulated latency against the timeout, failures, result shapes."""

from __future__ import annotations

import time

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import ACTIONS

ONE = f"{ACTIONS}/lookup-order"


def run(
    http: httpx.Client, auth: dict[str, str], path: str, body: object = None
) -> httpx.Response:
    """POST an input object to an execute or test endpoint."""
    return http.post(path, json={} if body is None else body, headers=auth)


def test_execute_returns_an_object_of_the_success_schema(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """A successful execution answers 200 with an object of the success schema."""
    response = run(http, auth, f"{ONE}/execute", {"orderId": "42"})

    assert response.status_code == 200
    assert response.json() == {"status": "sample"}


@pytest.mark.parametrize(
    ("latency_ms", "outcome"),
    [
        pytest.param(14_999, 200, id="just-in-time"),
        pytest.param(15_001, 504, id="just-too-late"),
    ],
)
def test_execution_stops_at_the_timeout(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    latency_ms: int,
    outcome: int,
) -> None:
    """An endpoint slower than `timeoutSeconds` (15 s here) makes execution time out."""
    emu.state.set_action_behaviour("lookup-order", latency_ms=latency_ms)

    response = run(http, auth, f"{ONE}/execute")

    assert response.status_code == outcome


def test_timeout_answer_is_request_timeout(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A timed-out execution gives 504 `request.timeout` naming the timeout."""
    emu.state.set_action_behaviour("lookup-order", latency_ms=20_000)

    response = run(http, auth, f"{ONE}/execute")

    error = response.json()
    assert (response.status_code, error["code"]) == (504, "request.timeout")
    assert "15 seconds" in error["message"]


def test_timeout_status_is_an_option(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`execution_timeout_status` changes the status of a timed-out execution."""
    emu.state.set_options(execution_timeout_status=408)
    emu.state.set_action_behaviour("lookup-order", latency_ms=20_000)

    response = run(http, auth, f"{ONE}/execute")

    assert response.status_code == 408


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(("no-timeout", 59_000, 200), id="absent-59s"),
        pytest.param(("no-timeout", 61_000, 504), id="absent-61s"),
        pytest.param(("null-timeout", 61_000, 504), id="null-61s"),
    ],
)
def test_unset_timeout_means_60_seconds(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    case: tuple[str, int, int],
) -> None:
    """Without a timeout an execution may take up to the 60 s platform default."""
    action_id, latency_ms, outcome = case
    emu.state.set_action_behaviour(action_id, latency_ms=latency_ms)

    response = run(http, auth, f"{ACTIONS}/{action_id}/execute")

    assert response.status_code == outcome


def test_function_timeout_also_limits_function_actions(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A function action stops at its function timeout when that is shorter."""
    emu.state.set_function_timeout("function-1", 5)
    emu.state.set_action_behaviour("function-1", latency_ms=6_000)

    response = run(http, auth, f"{ACTIONS}/function-1/execute")

    assert response.status_code == 504


def test_slow_executions_do_not_wait_for_real(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A simulated 59 s endpoint answers in well under a second."""
    emu.state.set_action_behaviour("no-timeout", latency_ms=59_000)
    started = time.monotonic()

    run(http, auth, f"{ACTIONS}/no-timeout/execute")

    assert time.monotonic() - started < 0.5


def test_failing_endpoint_gives_an_error_body(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """An endpoint that fails makes the execution answer with an error body."""
    emu.state.set_action_behaviour("lookup-order", failure_rate=1.0)

    response = run(http, auth, f"{ONE}/execute")

    error = response.json()
    assert response.status_code == 400
    assert {"message", "code", "status", "contextId"} <= set(error)


def test_default_behaviour_is_fast_and_reliable(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """By default every action answers within its timeout and never fails."""
    statuses = {
        run(http, auth, f"{ACTIONS}/{action_id}/execute").status_code
        for action_id in (
            "lookup-order",
            "no-timeout",
            "function-1",
            "static_builtin-1",
        )
    }

    assert statuses == {200}


def test_execute_needs_an_object(http: httpx.Client, auth: dict[str, str]) -> None:
    """The input of an execution must be a JSON object."""
    response = run(http, auth, f"{ONE}/execute", [1, 2])

    assert response.status_code == 400


def test_test_endpoint_reports_success_steps(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """A successful test is a TestExecutionResult with its steps and final result."""
    response = run(http, auth, f"{ONE}/test", {"orderId": "42"})

    result = response.json()
    assert response.status_code == 200
    assert result["success"] is True
    assert result["finalResult"] == {"status": "sample"}
    assert [op["step"] for op in result["operations"]] == [1, 2, 3]
    assert all(op["success"] for op in result["operations"])


def test_test_endpoint_reports_a_timeout_with_200(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A timed-out test still answers 200, with `success: false` and the error."""
    emu.state.set_action_behaviour("lookup-order", latency_ms=20_000)

    response = run(http, auth, f"{ONE}/test")

    result = response.json()
    assert response.status_code == 200
    assert result["success"] is False
    assert result["error"]["code"] == "request.timeout"
    assert result["operations"][-1]["success"] is False


def test_draft_test_uses_the_draft_timeout(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Testing a draft applies the draft's timeout, not the published one."""
    http.post(f"{ONE}/draft", headers=auth)
    config = {**emu.state.stored_action("lookup-order")["config"], "timeoutSeconds": 5}
    http.patch(f"{ONE}/draft", json={"version": 1, "config": config}, headers=auth)
    emu.state.set_action_behaviour("lookup-order", latency_ms=10_000)

    draft = run(http, auth, f"{ONE}/draft/test").json()
    published = run(http, auth, f"{ONE}/test").json()

    assert (draft["success"], published["success"]) == (False, True)
    assert draft["error"]["code"] == "request.timeout"


def break_request(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], key: str
) -> None:
    """PATCH the sample action with its config minus one key of its request."""
    config = emu.state.stored_action("lookup-order")["config"]
    del config["request"][key]
    response = http.patch(ONE, json={"version": 1, "config": config}, headers=auth)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("key", ["requestUrlTemplate", "requestType"])
def test_execute_of_an_http_action_missing_its_request_fails(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], key: str
) -> None:
    """Executing an HTTP action without a URL template or method is a 400 naming it."""
    break_request(emu, http, auth, key)

    response = run(http, auth, f"{ONE}/execute")

    assert (response.status_code, response.json()["code"]) == (400, "bad.request")
    assert f"config.request.{key} is missing" in response.json()["message"]


@pytest.mark.parametrize("key", ["requestUrlTemplate", "requestType"])
def test_test_of_an_http_action_missing_its_request_fails(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], key: str
) -> None:
    """Testing an HTTP action without a URL template or method fails, naming it."""
    break_request(emu, http, auth, key)

    response = run(http, auth, f"{ONE}/test")

    result = response.json()
    step = result["operations"][-1]
    assert (response.status_code, result["success"]) == (200, False)
    assert step["success"] is False
    assert f"config.request.{key} is missing" in step["error"]["message"]
