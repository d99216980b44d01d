"""The raw_response fault: fixed bytes in place of the answer, nothing processed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import ACTIONS

ONE = f"{ACTIONS}/lookup-order"
HTML_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def test_raw_answer_is_sent_exactly(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Status, body, content type and given headers arrive as queued, nothing else."""
    emu.state.inject_raw_response(
        1, 502, HTML_PAGE, content_type="text/html", headers={"X-Proxy": "edge-7"}
    )

    response = http.get(ONE, headers=auth)

    assert (response.status_code, response.text) == (502, HTML_PAGE)
    assert response.headers["content-type"] == "text/html"
    assert response.headers["x-proxy"] == "edge-7"
    assert response.headers["content-length"] == str(len(HTML_PAGE))
    assert "inin-correlation-id" not in response.headers
    assert "inin-ratelimit-count" not in response.headers


def test_raw_answer_replaces_only_the_next_count(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """After `count` raw answers the emulated API answers again."""
    emu.state.inject_raw_response(2, 418, "teapot", content_type="text/plain")

    statuses = [http.get(ONE, headers=auth).status_code for _ in range(3)]

    assert statuses == [418, 418, 200]


def test_raw_answer_is_logged_with_its_status(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """The replaced request is in the request log with the raw status."""
    emu.state.inject_raw_response(1, 503, "", content_type="text/plain")

    http.get(ONE, headers=auth)

    assert emu.state.request_log()[-1]["status"] == 503


def test_replaced_write_is_not_processed(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A PATCH answered raw changes nothing in the stored action."""
    before = emu.state.stored_action("lookup-order")
    emu.state.inject_raw_response(1, 200, "{}", content_type="application/json")

    response = http.patch(ONE, json={"version": 1, "name": "Changed"}, headers=auth)

    assert response.json() == {}
    assert emu.state.stored_action("lookup-order") == before


def test_methods_and_path_prefix_choose_the_requests(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Only requests of the given methods under the prefix are answered raw."""
    emu.state.inject_raw_response(1, 500, "x", methods=["patch"], path_prefix=ONE)

    assert http.get(ONE, headers=auth).status_code == 200
    assert http.get(f"{ACTIONS}/no-templates", headers=auth).status_code == 200
    assert http.patch(ONE, json={"version": 1}, headers=auth).status_code == 500


def test_raw_answer_can_replace_the_login(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    """With the login path as prefix the token request gets the raw answer."""
    emu.state.inject_raw_response(1, 200, "", path_prefix="/oauth")

    response = http.post(
        "/oauth/token",
        auth=(emu.client_id, emu.client_secret),
        data={"grant_type": "client_credentials"},
    )

    assert (response.status_code, response.content) == (200, b"")
    assert "content-type" not in response.headers


def test_redirect_is_sent_and_not_followed_by_default(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A 302 with a Location header reaches a client that does not follow redirects."""
    target = "http://example.invalid/api/v2/integrations/actions/lookup-order"
    emu.state.inject_raw_response(1, 302, "", headers={"Location": target})

    response = http.get(ONE, headers=auth)

    assert (response.status_code, response.headers["location"]) == (302, target)


def test_control_plane_is_never_answered_raw(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    """A prefix that matches the control plane still leaves it alone."""
    emu.state.inject_raw_response(1, 500, "x", path_prefix="/")

    assert http.get("/__emulator__/options").status_code == 200
    assert http.post("/oauth/token").status_code == 500


def test_raw_response_fault_over_http(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """POST faults with kind raw_response queues the same fault."""
    fault = {
        "kind": "raw_response",
        "count": 1,
        "status": 200,
        "body": '{"id": "lookup-order", "na',
        "content_type": "application/json",
        "methods": ["GET"],
    }
    assert http.post("/__emulator__/faults", json=fault).status_code == 200

    response = http.get(ONE, headers=auth)

    assert response.content == b'{"id": "lookup-order", "na'


def test_clear_faults_removes_raw_answers(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`clear_faults` forgets queued raw answers."""
    emu.state.inject_raw_response(3, 502, "x")

    emu.state.clear_faults()

    assert http.get(ONE, headers=auth).status_code == 200


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param({"status": 200, "count": 0}, id="count-zero"),
        pytest.param({"status": 200, "body": 5}, id="body-number"),
        pytest.param({"status": 200, "methods": "GET"}, id="methods-as-text"),
        pytest.param({"status": 99}, id="status-below-200"),
        pytest.param({"status": 600}, id="status-above-599"),
        pytest.param({"status": True}, id="status-bool"),
        pytest.param({"status": 204, "body": "x"}, id="body-on-204"),
        pytest.param(
            {"status": 200, "headers": {"Content-Length": "9"}}, id="content-length"
        ),
        pytest.param(
            {"status": 200, "headers": {"Content-Type": "text/html"}},
            id="content-type-as-header",
        ),
        pytest.param({"status": 200, "headers": {"X-A": "1\r\nX-B: 2"}}, id="crlf"),
        pytest.param({"status": 200, "headers": {"Bad Name": "1"}}, id="header-name"),
        pytest.param({"status": 200, "content_type": "a\nb"}, id="content-type-crlf"),
    ],
)
def test_unusable_raw_answers_are_refused(
    emu: RunningEmulator, http: httpx.Client, arguments: dict[str, Any]
) -> None:
    """A raw answer HTTP cannot carry is refused in Python and over HTTP (400)."""
    arguments = {"count": 1, **arguments}
    with pytest.raises(ValueError, match=r"\w"):
        emu.state.inject_raw_response(**arguments)

    fault = {"kind": "raw_response", **arguments}
    assert http.post("/__emulator__/faults", json=fault).status_code == 400
