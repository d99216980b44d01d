"""The HTTP control plane under /__emulator__/ mirrors the state's methods."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import ACTIONS, get_token, http_action

CONTROL = "/__emulator__"
ONE = f"{ACTIONS}/lookup-order"


def control(http: httpx.Client, method: str, path: str, body: Any = None) -> Any:
    """Call the control plane and return its JSON answer, which must be a 200."""
    response = http.request(method, CONTROL + path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_reset_empties_the_org(emu: RunningEmulator, http: httpx.Client) -> None:
    """POST reset forgets every action."""
    control(http, "POST", "/reset")

    assert emu.state.stored_actions() == []


@pytest.mark.parametrize(
    "wrap",
    [pytest.param(False, id="list"), pytest.param(True, id="object")],
)
def test_load_actions(emu: RunningEmulator, http: httpx.Client, wrap: bool) -> None:
    """POST actions stores documents, from a list or {"actions": [...]}."""
    docs = [http_action("loaded-1", "Loaded One"), {"name": "No Id"}]
    body = {"actions": docs} if wrap else docs

    answer = control(http, "POST", "/actions", body)

    assert answer["ids"][0] == "loaded-1"
    assert emu.state.stored_action(answer["ids"][1])["name"] == "No Id"


def test_load_actions_needs_a_list(http: httpx.Client) -> None:
    """Loading something other than a list of documents gives 400."""
    response = http.post(f"{CONTROL}/actions", json={"name": "alone"})

    assert response.status_code == 400


def test_stored_actions(emu: RunningEmulator, http: httpx.Client) -> None:
    """GET actions returns the stored truth with templates inline."""
    assert control(http, "GET", "/actions") == emu.state.stored_actions()


def test_stored_action(emu: RunningEmulator, http: httpx.Client) -> None:
    """GET actions/{id} returns one stored action."""
    stored = control(http, "GET", "/actions/lookup-order")

    assert stored == emu.state.stored_action("lookup-order")
    assert "requestTemplate" in stored["config"]["request"]


def test_stored_action_unknown(http: httpx.Client) -> None:
    """GET actions/{id} of an unknown id gives 404."""
    response = http.get(f"{CONTROL}/actions/nothing")

    assert response.status_code == 404


def test_stored_draft(http: httpx.Client, auth: dict[str, str]) -> None:
    """GET drafts/{id} returns the stored draft, 404 when there is none."""
    assert http.get(f"{CONTROL}/drafts/lookup-order").status_code == 404
    http.post(f"{ONE}/draft", headers=auth)

    assert control(http, "GET", "/drafts/lookup-order")["version"] == 1


def test_add_client(http: httpx.Client) -> None:
    """POST clients registers a client that can then log in and call."""
    body = {
        "client_id": "viewer",
        "client_secret": "s3cret",
        "permissions": ["integrations:action:view"],
    }
    control(http, "POST", "/clients", body)
    headers = {"Authorization": f"Bearer {get_token(http, 'viewer', 's3cret')}"}

    assert http.get(ONE, headers=headers).status_code == 200
    assert http.delete(ONE, headers=headers).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"client_id": "x"}, id="no-secret"),
        pytest.param(
            {"client_id": "x", "client_secret": "y", "permissions": "view"},
            id="permissions-text",
        ),
    ],
)
def test_invalid_clients_are_refused(http: httpx.Client, body: dict[str, Any]) -> None:
    """A client without a secret or without a permission list gives 400."""
    response = http.post(f"{CONTROL}/clients", json=body)

    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"latency_ms": -1}, id="negative-latency"),
        pytest.param({"failure_rate": 1.5}, id="rate-over-one"),
        pytest.param({"speed": 3}, id="unknown"),
    ],
)
def test_invalid_behaviours_are_refused(
    http: httpx.Client, body: dict[str, Any]
) -> None:
    """Behaviour values outside their range give 400."""
    response = http.post(f"{CONTROL}/actions/lookup-order/behaviour", json=body)

    assert response.status_code == 400


def test_get_options(http: httpx.Client) -> None:
    """GET options returns every option in force."""
    options = control(http, "GET", "/options")

    assert options["patch_mode"] == "replace"
    assert options["conflict_status"] == 409
    assert options["max_page_size"] == 100


def test_set_options(emu: RunningEmulator, http: httpx.Client) -> None:
    """POST options switches fields at run time."""
    answer = control(http, "POST", "/options", {"patch_mode": "merge"})

    assert answer["patch_mode"] == "merge"
    assert emu.state.options.patch_mode == "merge"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"patch_mode": "append"}, id="bad-value"),
        pytest.param({"conflict_status": 418}, id="bad-status"),
        pytest.param({"max_page_size": 0}, id="zero-page"),
        pytest.param({"no_such_option": 1}, id="unknown"),
    ],
)
def test_invalid_options_are_refused(
    emu: RunningEmulator, http: httpx.Client, body: dict[str, Any]
) -> None:
    """Unknown options or values outside their choices give 400 and change nothing."""
    response = http.post(f"{CONTROL}/options", json=body)

    assert response.status_code == 400
    assert emu.state.options.patch_mode == "replace"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"token_error_status": 400.0}, id="float-status"),
        pytest.param({"conflict_status": 409.0}, id="float-conflict"),
        pytest.param({"include_total": 0}, id="number-for-boolean"),
        pytest.param({"model_fields_only": 1}, id="one-for-true"),
        pytest.param({"max_page_size": True}, id="boolean-for-number"),
        pytest.param({"execution_timeout_status": 504.0}, id="float-timeout-status"),
    ],
)
def test_options_of_the_wrong_type_are_refused(
    emu: RunningEmulator, http: httpx.Client, body: dict[str, Any]
) -> None:
    """An option value of the wrong JSON type gives 400 naming the option."""
    before = emu.state.options

    response = http.post(f"{CONTROL}/options", json=body)

    assert response.status_code == 400
    assert next(iter(body)) in response.json()["message"]
    assert emu.state.options == before


def test_set_behaviour(http: httpx.Client, auth: dict[str, str]) -> None:
    """POST actions/{id}/behaviour sets the simulated endpoint latency."""
    control(http, "POST", "/actions/lookup-order/behaviour", {"latency_ms": 30_000})

    assert http.post(f"{ONE}/execute", json={}, headers=auth).status_code == 504


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        pytest.param({"kind": "429", "count": 1, "retry_after": "5"}, 429, id="429"),
        pytest.param(
            {"kind": "error_rate", "rate": 1.0, "status": 502}, 502, id="errors"
        ),
        pytest.param({"kind": "latency", "ms": 1}, 200, id="latency"),
        pytest.param({"kind": "expire_tokens"}, 401, id="expire-tokens"),
    ],
)
def test_faults_that_change_the_next_answer(
    http: httpx.Client, auth: dict[str, str], fault: dict[str, Any], expected: int
) -> None:
    """POST faults queues a fault that shapes the next API answer."""
    control(http, "POST", "/faults", fault)

    assert http.get(ONE, headers=auth).status_code == expected


def test_drop_fault(http: httpx.Client, auth: dict[str, str]) -> None:
    """A "drop" fault closes the next matching connection unanswered."""
    control(http, "POST", "/faults", {"kind": "drop", "count": 1, "methods": ["GET"]})

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.get(ONE, headers=auth)


def test_commit_without_answer_fault(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A "commit_without_answer" fault commits the next PATCH and drops its answer."""
    control(http, "POST", "/faults", {"kind": "commit_without_answer", "count": 1})

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.patch(ONE, json={"version": 1}, headers=auth)

    assert emu.state.stored_action("lookup-order")["version"] == 2


def test_concurrent_edit_fault(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A "concurrent_edit" fault changes the action before the next PATCH."""
    fault = {
        "kind": "concurrent_edit",
        "action_id": "lookup-order",
        "change": {"config": {"timeoutSeconds": 44}},
    }
    control(http, "POST", "/faults", fault)

    response = http.patch(ONE, json={"version": 1}, headers=auth)

    assert response.status_code == 409
    assert emu.state.stored_action("lookup-order")["config"]["timeoutSeconds"] == 44


def test_clear_fault(http: httpx.Client, auth: dict[str, str]) -> None:
    """A "clear" fault removes queued faults."""
    control(http, "POST", "/faults", {"kind": "429", "count": 5})

    control(http, "POST", "/faults", {"kind": "clear"})

    assert http.get(ONE, headers=auth).status_code == 200


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"kind": "meteor"}, id="unknown-kind"),
        pytest.param({}, id="no-kind"),
        pytest.param({"kind": "429", "bogus": 1}, id="unknown-parameter"),
        pytest.param({"kind": "error_rate", "rate": 2}, id="rate-over-one"),
    ],
)
def test_invalid_faults_are_refused(http: httpx.Client, fault: dict[str, Any]) -> None:
    """Unknown kinds or parameters give 400."""
    response = http.post(f"{CONTROL}/faults", json=fault)

    assert response.status_code == 400


def test_request_log(http: httpx.Client, auth: dict[str, str]) -> None:
    """GET requests returns the log of emulated calls, without control calls."""
    http.get(ONE, headers=auth)

    log = control(http, "GET", "/requests")

    assert [entry["path"] for entry in log] == ["/oauth/token", ONE]


def test_request_count(http: httpx.Client, auth: dict[str, str]) -> None:
    """GET requests/count counts by method and path prefix."""
    http.get(ONE, headers=auth)
    http.get(ONE, headers=auth)

    answer = control(http, "GET", "/requests/count?method=GET&path_prefix=/api/v2")

    assert answer == {"count": 2}


def test_control_plane_needs_no_token_and_has_no_rate_limit(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    """Control calls need no token and are not counted against any budget."""
    emu.state.set_options(rate_limit_per_minute=1)

    statuses = {http.get(f"{CONTROL}/options").status_code for _ in range(3)}

    assert statuses == {200}


def test_control_answers_carry_a_correlation_id(http: httpx.Client) -> None:
    """Control-plane answers also have `ININ-Correlation-Id`."""
    response = http.get(f"{CONTROL}/options")

    assert response.headers["ININ-Correlation-Id"]
