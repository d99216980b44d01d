"""Correlation ids, error bodies, unknown routes, content types, the log, and faults."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import ACTIONS, basic, bearer

ONE = f"{ACTIONS}/lookup-order"
ERROR_KEYS = {
    "message",
    "code",
    "status",
    "messageWithParams",
    "messageParams",
    "contextId",
    "details",
    "errors",
}


@pytest.mark.parametrize(
    ("method", "path", "headers_kind"),
    [
        pytest.param("GET", ACTIONS, "none", id="401"),
        pytest.param("GET", f"{ACTIONS}/missing", "auth", id="404"),
        pytest.param("PATCH", ONE, "auth", id="400"),
        pytest.param(
            "GET", "/api/v2/integrations/dataactions", "auth", id="unknown-route"
        ),
    ],
)
def test_context_id_equals_the_correlation_header(
    http: httpx.Client,
    auth: dict[str, str],
    method: str,
    path: str,
    headers_kind: str,
) -> None:
    """Every error body has the full ErrorBody shape; `contextId` is the header's id."""
    headers = auth if headers_kind == "auth" else {}

    response = http.request(method, path, json={}, headers=headers)

    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]


def test_successful_answers_have_a_correlation_id(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """Successful answers carry a fresh `ININ-Correlation-Id` each time."""
    first = http.get(ONE, headers=auth).headers["ININ-Correlation-Id"]
    second = http.get(ONE, headers=auth).headers["ININ-Correlation-Id"]

    assert first != second


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("PUT", ONE, id="put-action"),
        pytest.param("GET", "/api/v2/integrations/dataactions", id="dataactions"),
        pytest.param("POST", "/api/v2/flows/dataactions", id="flows"),
        pytest.param("GET", "/api/v2/process/actions", id="process"),
        pytest.param("POST", f"{ACTIONS}/categories", id="post-categories"),
        pytest.param("GET", f"{ONE}/certificates", id="certificates"),
        pytest.param("GET", f"{ACTIONS}/", id="trailing-slash"),
        pytest.param("GET", "/oauth/token", id="get-token"),
    ],
)
def test_unknown_routes_say_they_are_not_implemented(
    http: httpx.Client, auth: dict[str, str], method: str, path: str
) -> None:
    """A route the emulator does not serve gives 404 `not.found` saying so."""
    response = http.request(method, path, headers=auth)

    body = response.json()
    assert response.status_code == 404
    assert body["code"] == "not.found"
    assert f"does not implement {method} {path}" in body["message"]


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        pytest.param("text/plain", 415, id="text"),
        pytest.param("application/x-www-form-urlencoded", 415, id="form"),
        pytest.param(None, 415, id="none"),
        pytest.param("application/json; charset=utf-8", 200, id="json-charset"),
    ],
)
def test_json_endpoints_check_the_content_type(
    http: httpx.Client, auth: dict[str, str], content_type: str | None, status: int
) -> None:
    """PATCH bodies must be sent as JSON; other media types give 415."""
    headers = dict(auth)
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = http.patch(ONE, content=b'{"version": 1}', headers=headers)

    assert response.status_code == status
    if status == 415:
        assert response.json()["code"] == "unsupported.media.type"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"{", id="truncated"),
        pytest.param(b"{'version': 1}", id="single-quotes"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"", id="empty"),
    ],
)
def test_malformed_json_is_a_bad_request(
    http: httpx.Client, auth: dict[str, str], raw: bytes
) -> None:
    """A body that is not valid JSON gives 400 `bad.request`."""
    headers = {**auth, "Content-Type": "application/json"}

    response = http.patch(ONE, content=raw, headers=headers)

    assert response.status_code == 400
    assert response.json()["code"] == "bad.request"


def test_request_log_records_each_call(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Each emulated call is logged with method, path, query, status, client, id."""
    response = http.get(ACTIONS, params={"pageSize": 5}, headers=auth)

    entry = emu.state.request_log()[-1]
    assert entry["method"] == "GET"
    assert entry["path"] == ACTIONS
    assert entry["query"] == "pageSize=5"
    assert entry["status"] == 200
    assert entry["client_id"] == emu.client_id
    assert entry["correlation_id"] == response.headers["ININ-Correlation-Id"]
    assert isinstance(entry["time"], float)


def test_request_count_filters_by_method_and_path(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`request_count` counts logged calls by method and path prefix."""
    http.get(ONE, headers=auth)
    http.get(ACTIONS, headers=auth)
    http.patch(ONE, json={"version": 1}, headers=auth)

    assert emu.state.request_count() == 4
    assert emu.state.request_count("GET") == 2
    assert emu.state.request_count("patch", ONE) == 1
    assert emu.state.request_count(path_prefix="/oauth") == 1


def test_drop_closes_the_connection_without_an_answer(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A dropped request ends in a transport error, never in an HTTP answer."""
    emu.state.inject_drops(1)

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.get(ONE, headers=auth)

    assert http.get(ONE, headers=auth).status_code == 200
    assert [entry["status"] for entry in emu.state.request_log()[-2:]] == [None, 200]


def test_drop_can_target_methods(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`inject_drops(methods=...)` drops only those methods."""
    emu.state.inject_drops(1, methods=["PATCH"])
    assert http.get(ONE, headers=auth).status_code == 200

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.patch(ONE, json={"version": 1}, headers=auth)

    assert emu.state.stored_action("lookup-order")["version"] == 1


def test_drop_can_target_the_login_endpoint(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    """With the login path as prefix the token request is dropped."""
    emu.state.inject_drops(1, path_prefix="/oauth")

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.post(
            "/oauth/token",
            auth=(emu.client_id, emu.client_secret),
            data={"grant_type": "client_credentials"},
        )


def test_commit_without_answer_commits_the_patch(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """The PATCH is applied, then the connection is dropped with no answer."""
    emu.state.inject_commit_without_answer(1)

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.patch(ONE, json={"version": 1, "name": "Committed"}, headers=auth)

    stored = emu.state.stored_action("lookup-order")
    assert (stored["version"], stored["name"]) == (2, "Committed")


def test_commit_without_answer_commits_a_publish(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A publish is applied, then its answer is dropped."""
    http.post(f"{ONE}/draft", headers=auth)
    emu.state.inject_commit_without_answer(1)

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.post(f"{ONE}/draft/publish", json={"version": 1}, headers=auth)

    assert emu.state.stored_action("lookup-order")["version"] == 2


def test_commit_without_answer_skips_refused_writes(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A refused write is answered normally and does not use up the fault."""
    emu.state.inject_commit_without_answer(1)

    refused = http.patch(ONE, json={"version": 9}, headers=auth)

    assert refused.status_code == 409
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.patch(ONE, json={"version": 1}, headers=auth)


def test_extra_latency_delays_answers(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`set_extra_latency` really delays each answer."""
    emu.state.set_extra_latency(150)
    started = time.monotonic()

    http.get(ONE, headers=auth)

    assert time.monotonic() - started >= 0.15


def statuses_under_error_rate(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], seed: int
) -> list[int]:
    """Return the statuses of 20 calls under a 50 % error rate."""
    emu.state.set_error_rate(0.5, status=503, seed=seed)
    return [http.get(ONE, headers=auth).status_code for _ in range(20)]


def test_error_rate_is_deterministic(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """The same seed gives the same sequence of errors."""
    first = statuses_under_error_rate(emu, http, auth, seed=3)
    second = statuses_under_error_rate(emu, http, auth, seed=3)

    assert first == second
    assert set(first) == {200, 503}


@pytest.mark.parametrize(
    ("status", "code"),
    [
        pytest.param(500, "internal.server.error", id="500"),
        pytest.param(502, "bad.gateway", id="502"),
        pytest.param(503, "service.unavailable", id="503"),
        pytest.param(504, "request.timeout", id="504"),
    ],
)
def test_error_rate_uses_the_status_code(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    status: int,
    code: str,
) -> None:
    """Injected errors carry the platform code of their status."""
    emu.state.set_error_rate(1.0, status=status)

    response = http.get(ONE, headers=auth)

    assert (response.status_code, response.json()["code"]) == (status, code)


def test_clear_faults_removes_everything(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """After `clear_faults` no fault fires any more."""
    emu.state.inject_429(3)
    emu.state.set_error_rate(1.0)
    emu.state.inject_drops(3)

    emu.state.clear_faults()

    assert http.get(ONE, headers=auth).status_code == 200


def test_reset_keeps_clients_and_their_tokens(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`reset` empties the org but the client and its token keep working."""
    emu.state.reset()

    response = http.get(ACTIONS, headers=auth)

    assert response.status_code == 200
    assert response.json()["entities"] == []


def test_unexpected_bearer_is_logged_without_a_client(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    """A refused token is logged with its status and no client id."""
    http.get(ACTIONS, headers=bearer("made-up"))

    entry: dict[str, Any] = emu.state.request_log()[-1]
    assert (entry["status"], entry["client_id"]) == (401, None)


def send_half_a_request(base_url: str, method: str, path: str, auth: str) -> None:
    """Send a request's headers and part of its body, then hang up."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n"
        "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    )
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(head.encode() + b'{"version": 1, "na')
        time.sleep(0.1)


def wait_for_log(caplog: pytest.LogCaptureFixture, text: str) -> None:
    """Wait up to five seconds for the server thread to log `text`."""
    deadline = time.monotonic() + 5
    while text not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", ONE), ("POST", "/oauth/token"), ("POST", "/__emulator__/actions")],
    ids=["patch", "login", "control"],
)
def test_a_client_hanging_up_mid_request_is_logged_quietly(
    emu: RunningEmulator,
    auth: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
) -> None:
    """A client that disconnects mid-body gets one DEBUG line, no error or traceback."""
    caplog.set_level(logging.DEBUG)
    credentials = basic(emu.client_id, emu.client_secret)
    header = auth["Authorization"] if path.startswith("/api") else credentials
    said = f"client disconnected during {method} {path}"

    send_half_a_request(emu.base_url, method, path, header)

    wait_for_log(caplog, said)
    levels = [r.levelno for r in caplog.records if r.getMessage() == said]
    assert levels == [logging.DEBUG]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text
    assert emu.state.stored_action("lookup-order")["version"] == 1


def test_a_request_cut_short_is_logged_as_closed_by_the_client(
    emu: RunningEmulator, auth: dict[str, str]
) -> None:
    """A request cut short is logged with 499, not as a dropped (maybe applied) one."""
    send_half_a_request(emu.base_url, "PATCH", ONE, auth["Authorization"])

    deadline = time.monotonic() + 5
    while emu.state.request_count("PATCH") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    entry = emu.state.request_log()[-1]
    assert (entry["method"], entry["path"], entry["status"]) == ("PATCH", ONE, 499)
