"""The API client: retries, rate limits, pacing, error mapping and answer checks."""

from __future__ import annotations

import email.utils
import logging
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from action_timeouts import __version__
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.errors import (
    AmbiguousWriteError,
    ApiError,
    AuthenticationError,
    BadResponseError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TransportError,
    UsageError,
)
from action_timeouts.http import (
    ApiClient,
    ClientStats,
    RetryPolicy,
    _RateGate,
    parse_retry_after,
)
from action_timeouts.regions import resolve_region

from .fake_api import (
    CLIENT_ID,
    CLIENT_SECRET,
    ENDPOINT,
    FakeGenesys,
    error_body,
    json_response,
    make_client,
)

PATH = "/api/v2/integrations/actions/a1"
BODY = {"name": "Lookup", "category": "Web", "version": 3, "config": {}}


@pytest.fixture
def fake() -> FakeGenesys:
    """A fake Genesys login and API."""
    return FakeGenesys()


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the client asked for, in order."""
    return []


def rate_limited(retry_after: str | None = "2", correlation_id: str = "c-429") -> Any:
    """Build the normalized 429 answer of the Genesys API."""
    headers = {"inin_correlation_id": correlation_id}
    if retry_after is not None:
        headers["retry_after"] = retry_after
    body = error_body(
        429, "too.many.requests.retry.after", "Rate limit exceeded", correlation_id
    )
    return json_response(429, body, **headers)


def failure(status: int, correlation_id: str = "c-fail") -> httpx.Response:
    """Build a server error answer with a correlation id."""
    body = error_body(status, "service.unavailable", "Try later", correlation_id)
    return json_response(status, body, inin_correlation_id=correlation_id)


# Requests and headers


def test_get_json_sends_the_expected_request(fake: FakeGenesys) -> None:
    """GET carries the bearer token, JSON Accept, our User-Agent and a timeout."""
    with make_client(fake) as client:
        answer = client.get_json(PATH, {"expand": "contract", "includeConfig": True})

    assert answer == {"path": PATH}
    (request,) = fake.sent("GET")
    assert request.url.host == "api.example.test"
    assert request.url.params["includeConfig"] == "true"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"] == f"action-timeouts/{__version__}"
    assert request.headers["authorization"] == "Bearer token-1"


def test_every_request_has_a_timeout(fake: FakeGenesys) -> None:
    """The configured timeout reaches the transport on every request."""
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return fake.handler(request)

    from action_timeouts.http import ApiClient

    from .fake_api import CLIENT_ID, CLIENT_SECRET, ENDPOINT

    transport = httpx.MockTransport(handler)
    with ApiClient(
        ENDPOINT, CLIENT_ID, CLIENT_SECRET, transport=transport, timeout=7.5
    ) as client:
        client.get_json(PATH)

    assert len(seen) == 2
    assert all(timeout["read"] == 7.5 for timeout in seen)


def test_patch_json_sends_the_body(fake: FakeGenesys) -> None:
    """PATCH sends the JSON body and returns the JSON answer."""
    fake.script("PATCH", PATH, json_response(200, {**BODY, "version": 4}))

    with make_client(fake) as client:
        answer = client.patch_json(PATH, BODY)

    assert answer["version"] == 4
    (request,) = fake.sent("PATCH")
    assert request.headers["content-type"] == "application/json"
    assert httpx.Response(200, content=request.content).json() == BODY


def test_post_json_without_a_body_sends_none(fake: FakeGenesys) -> None:
    """POST with no body sends an empty request body."""
    fake.script("POST", f"{PATH}/draft", json_response(200, {"id": "a1"}))

    with make_client(fake) as client:
        assert client.post_json(f"{PATH}/draft") == {"id": "a1"}

    assert fake.sent("POST", f"{PATH}/draft")[0].content == b""


def test_204_gives_none(fake: FakeGenesys) -> None:
    """An answer with no content (204) returns None."""
    fake.script("POST", PATH, httpx.Response(204))

    with make_client(fake) as client:
        assert client.post_json(PATH, {}) is None


@pytest.mark.parametrize(
    "text",
    ["", "${input.rawRequest}", "line one\r\nline two  \n", 'ünïcødé ✓ {"a": 1}'],
    ids=["empty", "velocity", "crlf-and-spaces", "unicode"],
)
def test_get_text_returns_the_exact_text(text: str, fake: FakeGenesys) -> None:
    """Templates come back byte for byte, with Accept: */*."""
    fake.script(
        "GET",
        f"{PATH}/templates/requesttemplate.vm",
        httpx.Response(
            200,
            content=text.encode("utf-8"),
            headers={"content-type": "text/plain; charset=utf-8"},
        ),
    )

    with make_client(fake) as client:
        assert client.get_text(f"{PATH}/templates/requesttemplate.vm") == text

    assert fake.sent("GET")[0].headers["accept"] == "*/*"


def test_get_text_refuses_undecodable_text(fake: FakeGenesys) -> None:
    """Bytes that are not valid UTF-8 are a bad response."""
    fake.script(
        "GET",
        PATH,
        httpx.Response(
            200,
            content=b"\xff\xfe",
            headers={"content-type": "text/plain; charset=utf-8"},
        ),
    )

    with make_client(fake) as client, pytest.raises(BadResponseError, match="utf-8"):
        client.get_text(PATH)


TEMPLATE = f"{PATH}/templates/requesttemplate.vm"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; charset=utf-8",
        "text/x-velocity",
        "application/octet-stream",
        "Text/Plain",
        None,
    ],
    ids=["text-plain", "velocity", "octet-stream", "mixed-case", "missing"],
)
def test_get_text_accepts_the_types_templates_come_with(
    content_type: str | None, fake: FakeGenesys
) -> None:
    """Plain text, Velocity, octet-stream or no content type give the template."""
    headers = {} if content_type is None else {"content-type": content_type}
    answer = httpx.Response(200, content=b"${input.rawRequest}", headers=headers)
    fake.script("GET", TEMPLATE, answer)

    with make_client(fake) as client:
        assert client.get_text(TEMPLATE) == "${input.rawRequest}"


@pytest.mark.parametrize(
    "content_type",
    ["text/html; charset=utf-8", "application/json", "application/xhtml+xml"],
    ids=["html", "json", "xhtml"],
)
def test_get_text_refuses_an_answer_that_is_not_a_template(
    content_type: str, fake: FakeGenesys
) -> None:
    """A login page (or any other typed answer) instead of a template is refused."""
    page = b"<html><body>Sign in to continue</body></html>"
    answer = httpx.Response(200, content=page, headers={"content-type": content_type})
    fake.script("GET", TEMPLATE, answer)

    with make_client(fake) as client, pytest.raises(BadResponseError) as caught:
        client.get_text(TEMPLATE)

    shown = content_type.partition(";")[0]
    assert str(caught.value) == (
        f"GET {TEMPLATE}: the answer is {shown}, not a template: a proxy or login "
        "page answered instead of the template; it was not taken as the template"
    )


@pytest.mark.parametrize("path", ["https://evil.example/x", "api/v2/x", "//evil/x"])
def test_paths_must_stay_on_the_api_host(path: str, fake: FakeGenesys) -> None:
    """Only paths of the API host are accepted, so the token goes nowhere else."""
    with make_client(fake) as client, pytest.raises(UsageError):
        client.get_json(path)

    assert fake.requests == []


# Retries of reads


def test_get_is_retried_after_503(fake: FakeGenesys, sleeps: list[float]) -> None:
    """A 503 on a read is retried after a backoff, then succeeds."""
    fake.script("GET", PATH, failure(503))

    with make_client(fake, sleeps) as client:
        assert client.get_json(PATH) == {"path": PATH}
        assert client.stats.retries == 1

    assert len(fake.sent("GET")) == 2
    assert sleeps == [0.5]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_failures_are_retried_until_the_attempts_run_out(
    status: int, fake: FakeGenesys, sleeps: list[float]
) -> None:
    """A read failing every time ends in ServerError after read_attempts tries."""
    fake.script("GET", PATH, *[failure(status) for _ in range(6)])

    with make_client(fake, sleeps) as client, pytest.raises(ServerError) as caught:
        client.get_json(PATH)

    assert len(fake.sent("GET")) == 6
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert caught.value.status == status
    assert caught.value.correlation_id == "c-fail"


def test_backoff_is_capped(fake: FakeGenesys, sleeps: list[float]) -> None:
    """Backoff doubles up to backoff_max."""
    fake.script("GET", PATH, *[failure(503) for _ in range(5)])

    with make_client(fake, sleeps, backoff_max=2.0) as client:
        client.get_json(PATH)

    assert sleeps == [0.5, 1.0, 2.0, 2.0, 2.0]


def test_503_with_retry_after_waits_that_long(
    fake: FakeGenesys, sleeps: list[float]
) -> None:
    """A 503 that says when to come back is honoured (within backoff_max)."""
    answer = json_response(503, {}, retry_after="3")
    fake.script("GET", PATH, answer)

    with make_client(fake, sleeps) as client:
        client.get_json(PATH)

    assert sleeps == [3.0]


@pytest.mark.parametrize("status", [400, 403, 404, 409, 500, 501])
def test_other_errors_are_not_retried(status: int, fake: FakeGenesys) -> None:
    """Client errors and non-gateway server errors get exactly one attempt."""
    fake.script("GET", PATH, json_response(status, error_body(status, "x", "no")))

    with make_client(fake) as client, pytest.raises(ApiError):
        client.get_json(PATH)

    assert len(fake.sent("GET")) == 1


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
    ],
    ids=["connect", "read-timeout", "dropped"],
)
def test_get_is_retried_after_a_transport_error(
    error: Exception, fake: FakeGenesys, sleeps: list[float]
) -> None:
    """A read that got no answer is sent again."""
    fake.script("GET", PATH, error)

    with make_client(fake, sleeps) as client:
        assert client.get_json(PATH) == {"path": PATH}
        assert client.stats.transport_errors == 1

    assert sleeps == [0.5]


def test_get_without_any_answer_is_a_transport_error(fake: FakeGenesys) -> None:
    """After read_attempts lost connections the read fails as TransportError."""
    fake.script("GET", PATH, *[httpx.ReadTimeout("slow") for _ in range(3)])

    client = make_client(fake, read_attempts=3)
    with client, pytest.raises(TransportError) as caught:
        client.get_json(PATH)

    assert not isinstance(caught.value, AmbiguousWriteError)
    assert "after 3 attempts" in str(caught.value)


def test_refused_connection_names_the_base_url_and_what_to_check(
    fake: FakeGenesys, sleeps: list[float]
) -> None:
    """A connection that cannot be made is tried 3 times, then names URL and checks."""
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    fake.script("GET", PATH, refused, refused, refused)

    with make_client(fake, sleeps) as client, pytest.raises(TransportError) as caught:
        client.get_json(PATH)

    assert str(caught.value) == (
        f"could not connect to https://api.example.test:443 for GET {PATH} after 3 "
        "attempts (ConnectError: [Errno 111] Connection refused): check the region "
        "or URL, and that the host is reachable"
    )
    assert len(fake.sent("GET")) == 3
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize(
    ("error", "attempts"),
    [(httpx.ConnectError("refused"), 3), (httpx.ReadTimeout("slow"), 6)],
    ids=["connect-3", "read-timeout-6"],
)
def test_only_connections_that_cannot_be_made_get_fewer_attempts(
    error: Exception, attempts: int, fake: FakeGenesys
) -> None:
    """Refused connections use connect_attempts; other lost answers read_attempts."""
    fake.script("GET", PATH, *[error] * 6)

    with make_client(fake) as client, pytest.raises(TransportError):
        client.get_json(PATH)

    assert len(fake.sent("GET")) == attempts


def test_refused_loopback_port_is_named_in_the_error(sleeps: list[float]) -> None:
    """Nothing listening on a loopback port gives an error naming that URL and port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = resolve_region(f"http://127.0.0.1:{port}")

    client = ApiClient(endpoint, "id", "secret", sleep=sleeps.append)
    with client, pytest.raises(TransportError) as caught:
        client.get_json(PATH)

    assert f"could not connect to http://127.0.0.1:{port} for POST /oauth/token" in (
        str(caught.value)
    )
    assert "check the region or URL" in str(caught.value)


def test_jittered_backoff_stays_between_half_and_full(fake: FakeGenesys) -> None:
    """With jitter, each wait lies in [ceiling / 2, ceiling]."""
    policy = RetryPolicy()

    waits = [policy.backoff(3) for _ in range(200)]

    assert all(1.0 <= wait <= 2.0 for wait in waits)
    assert len(set(waits)) > 1


# Proxies from the environment


class RecordingProxy(socketserver.ThreadingTCPServer):
    """A stand-in proxy on 127.0.0.1 that records what each connection sends first."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordFirstBytes)
        self.received: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RecordFirstBytes(socketserver.BaseRequestHandler):
    """Record the first bytes of a connection, then hang up without answering."""

    def handle(self) -> None:
        assert isinstance(self.server, RecordingProxy)
        self.server.received.append(self.request.recv(4096))


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingProxy]:
    """Serve a recording proxy and name it in every proxy variable."""
    with RecordingProxy() as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):
            monkeypatch.setenv(name, server.url)
        yield server
        server.shutdown()


def test_loopback_traffic_never_goes_through_a_proxy(
    proxy: RecordingProxy, emu: RunningEmulator
) -> None:
    """With proxy variables set, the emulator is still reached directly."""
    endpoint = resolve_region(emu.base_url)

    with ApiClient(endpoint, emu.client_id, emu.client_secret) as client:
        assert client.get_json("/api/v2/integrations/actions")["entities"] == []

    assert proxy.received == []


def test_real_endpoints_use_the_proxy_from_the_environment(
    proxy: RecordingProxy, sleeps: list[float]
) -> None:
    """A real (non-loopback) endpoint is reached through HTTPS_PROXY."""
    policy = RetryPolicy(read_attempts=1)
    client = ApiClient(
        ENDPOINT, CLIENT_ID, CLIENT_SECRET, policy=policy, sleep=sleeps.append
    )

    with client, pytest.raises(TransportError):
        client.get_json(PATH)

    assert proxy.received
    assert proxy.received[0].startswith(b"CONNECT login.example.test:443 ")


# Writes


@pytest.mark.parametrize("status", [502, 503, 504])
def test_write_gateway_failure_is_ambiguous_and_not_resent(
    status: int, fake: FakeGenesys, sleeps: list[float]
) -> None:
    """A PATCH answered by a gateway failure may have happened: raise, never resend."""
    fake.script("PATCH", PATH, failure(status, "c-patch"))

    with (
        make_client(fake, sleeps) as client,
        pytest.raises(AmbiguousWriteError) as caught,
    ):
        client.patch_json(PATH, BODY)

    assert len(fake.sent("PATCH")) == 1
    assert caught.value.status == status
    assert caught.value.correlation_id == "c-patch"
    assert "re-read" in str(caught.value)
    assert sleeps == []


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped")],
    ids=["read-timeout", "dropped"],
)
@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_write_without_an_answer_is_ambiguous_and_not_resent(
    method: str, error: Exception, fake: FakeGenesys
) -> None:
    """A write whose answer was lost raises AmbiguousWriteError after one send."""
    fake.script(method, PATH, error)

    with make_client(fake) as client:
        write = client.patch_json if method == "PATCH" else client.post_json
        with pytest.raises(AmbiguousWriteError):
            write(PATH, BODY)

    assert len(fake.sent(method, PATH)) == 1


def test_write_whose_connection_failed_is_resent(
    fake: FakeGenesys, sleeps: list[float]
) -> None:
    """A connection that could not be opened carried nothing, so it is resent."""
    fake.script("PATCH", PATH, httpx.ConnectError("refused"))

    with make_client(fake, sleeps) as client:
        client.patch_json(PATH, BODY)

    assert len(fake.sent("PATCH")) == 2


def test_write_rate_limited_is_resent_after_the_wait(
    fake: FakeGenesys, sleeps: list[float]
) -> None:
    """A 429 on a PATCH was not processed: it is sent again, unchanged."""
    fake.script("PATCH", PATH, rate_limited("2"))

    with make_client(fake, sleeps) as client:
        client.patch_json(PATH, BODY)

    first, second = fake.sent("PATCH")
    assert first.content == second.content
    assert sleeps == [pytest.approx(2.0, abs=0.1)]


def test_write_refused_token_is_renewed_and_resent(fake: FakeGenesys) -> None:
    """A 401 on a PATCH renews the token and resends the PATCH once."""
    with make_client(fake) as client:
        client.get_json(PATH)
        fake.expire_tokens()
        client.patch_json(PATH, BODY)

    assert len(fake.sent("PATCH")) == 2
    assert fake.logins == 2


def test_second_401_is_an_authentication_error(fake: FakeGenesys) -> None:
    """A token refused even after renewal stops with AuthenticationError."""
    refused = json_response(
        401,
        error_body(401, "bad.credentials", "Invalid login credentials.", "c-401"),
    )
    fake.script("GET", PATH, refused, refused)

    with make_client(fake) as client, pytest.raises(AuthenticationError) as caught:
        client.get_json(PATH)

    assert caught.value.correlation_id == "c-401"
    assert fake.logins == 2
    assert len(fake.sent("GET")) == 2


# Rate limits


@pytest.mark.parametrize(
    ("header", "wait"),
    [("2", 2.0), ("0.75", 0.75), ("0", 0.5), (None, 0.5), ("soon", 0.5), ("-3", 0.5)],
    ids=["seconds", "fraction", "zero-floored", "missing", "garbage", "negative"],
)
def test_429_waits_retry_after_or_backs_off(
    header: str | None, wait: float, fake: FakeGenesys, sleeps: list[float]
) -> None:
    """Retry-After in seconds is honoured; missing or invalid values back off."""
    fake.script("GET", PATH, rate_limited(header))

    with make_client(fake, sleeps) as client:
        assert client.get_json(PATH) == {"path": PATH}
        assert client.stats.rate_limited == 1

    assert sleeps == [pytest.approx(wait, abs=0.1)]


def test_429_with_an_http_date_waits_until_then(
    fake: FakeGenesys, sleeps: list[float]
) -> None:
    """Retry-After as an HTTP date waits until that moment."""
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    fake.script("GET", PATH, rate_limited(date))

    with make_client(fake, sleeps) as client:
        client.get_json(PATH)

    assert sleeps == [pytest.approx(30.0, abs=2.0)]


def test_repeated_429_back_off_further_without_retry_after(
    fake: FakeGenesys, sleeps: list[float]
) -> None:
    """Without Retry-After, each new 429 of one request waits longer."""
    fake.script("GET", PATH, rate_limited(None), rate_limited(None), rate_limited(None))

    with make_client(fake, sleeps) as client:
        client.get_json(PATH)

    assert sleeps == [pytest.approx(w, abs=0.1) for w in (0.5, 1.0, 2.0)]


def test_rate_limit_budget_exhausted_raises_with_correlation_id(
    fake: FakeGenesys, sleeps: list[float]
) -> None:
    """Past the wait budget the request fails as RateLimitedError with its id."""
    fake.script("GET", PATH, rate_limited("6", "c-1"), rate_limited("6", "c-2"))

    client = make_client(fake, sleeps, rate_limit_budget=10)
    with client, pytest.raises(RateLimitedError) as caught:
        client.get_json(PATH)

    assert caught.value.correlation_id == "c-2"
    assert caught.value.code == "too.many.requests.retry.after"
    assert "c-2" in str(caught.value)
    assert len(fake.sent("GET")) == 2
    assert sleeps == [pytest.approx(6.0, abs=0.1)]


def test_retry_after_beyond_the_budget_fails_at_once(
    fake: FakeGenesys, sleeps: list[float]
) -> None:
    """A Retry-After longer than the whole budget is not waited for at all."""
    fake.script("GET", PATH, rate_limited("600"))

    client = make_client(fake, sleeps, rate_limit_budget=300)
    with client, pytest.raises(RateLimitedError):
        client.get_json(PATH)

    assert sleeps == []


def test_a_429_pauses_every_thread(fake: FakeGenesys) -> None:
    """When one thread is rate limited, another thread waits before it sends."""
    events: list[tuple[str, str, float]] = []
    other = threading.Thread(target=lambda: client.get_json("/api/v2/other"))

    def sleep(seconds: float) -> None:
        events.append(("sleep", threading.current_thread().name, seconds))
        if threading.current_thread() is not other and not other.is_alive():
            other.start()
            other.join(timeout=10)

    def handler(request: httpx.Request) -> httpx.Response:
        events.append(("send", threading.current_thread().name, 0.0))
        return fake.handler(request)

    fake.script("GET", PATH, rate_limited("5"))
    from action_timeouts.http import ApiClient

    from .fake_api import CLIENT_ID, CLIENT_SECRET, ENDPOINT

    client = ApiClient(
        ENDPOINT,
        CLIENT_ID,
        CLIENT_SECRET,
        transport=httpx.MockTransport(handler),
        sleep=sleep,
    )
    with client:
        client.get_json(PATH)

    others = [event for event in events if event[1] == other.name]
    assert others[0][0] == "sleep"
    assert others[0][2] == pytest.approx(5.0, abs=0.5)
    assert others[1][0] == "send"
    assert fake.sent("GET", "/api/v2/other")


# Pacing by the inin-ratelimit headers


def paced(allowed: int, count: int, reset: int, **headers: str) -> httpx.Response:
    """Build a 200 answer with rate-limit headers (and any others given)."""
    return json_response(
        200,
        {},
        inin_ratelimit_allowed=str(allowed),
        inin_ratelimit_count=str(count),
        inin_ratelimit_reset=str(reset),
        **headers,
    )


def test_exhausted_window_pauses_until_it_resets(
    fake: FakeGenesys, sleeps: list[float]
) -> None:
    """With no requests left in the window the next one waits for the reset."""
    fake.script("GET", PATH, paced(300, 300, 10))

    with make_client(fake, sleeps) as client:
        client.get_json(PATH)
        client.get_json(PATH)

    assert sleeps == [pytest.approx(11.0, abs=0.2)]
    assert len(fake.sent("GET")) == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"inin_ratelimit_allowed": "300", "inin_ratelimit_count": "12"},
        {"inin_ratelimit_allowed": "x", "inin_ratelimit_count": "300"},
        {},
    ],
    ids=["room-left", "garbage", "absent"],
)
def test_room_in_the_window_means_no_pause(
    headers: dict[str, str], fake: FakeGenesys, sleeps: list[float]
) -> None:
    """A window with room (or no readable headers) does not slow the client."""
    fake.script(
        "GET", PATH, json_response(200, {}, inin_ratelimit_reset="30", **headers)
    )

    with make_client(fake, sleeps) as client:
        client.get_json(PATH)
        client.get_json(PATH)

    assert sleeps == []


@pytest.mark.parametrize(
    ("in_flight", "remaining", "paused"),
    [(1, 0, True), (1, 1, False), (4, 3, True), (4, 4, False), (8, 2, True)],
)
def test_pacing_counts_the_requests_in_flight(
    in_flight: int, remaining: int, paused: bool
) -> None:
    """The gate pauses when the requests left are no more than the others in flight."""
    gate = _RateGate()
    headers = httpx.Headers(
        {
            "inin-ratelimit-allowed": "300",
            "inin-ratelimit-count": str(300 - remaining),
            "inin-ratelimit-reset": "20",
        }
    )
    contexts = [gate.in_flight() for _ in range(in_flight)]
    for context in contexts:
        context.__enter__()

    gate.pace(headers)

    for context in contexts:
        context.__exit__(None, None, None)
    assert (gate.pending()[1] > 19) is paused


# How rate-limit pauses are logged


def pause_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Return the log records of the client that report a rate-limit pause."""
    return [
        record
        for record in caplog.records
        if record.name == "action_timeouts.http"
        and ("rate limited" in record.getMessage() or "pacing" in record.getMessage())
    ]


@pytest.mark.parametrize(
    ("retry_after", "level"),
    [("30", logging.WARNING), ("5", logging.WARNING), ("2", logging.INFO)],
    ids=["30s-warning", "5s-warning", "2s-info"],
)
def test_rate_limit_pause_of_five_seconds_or_more_is_a_warning(
    retry_after: str, level: int, fake: FakeGenesys, caplog: pytest.LogCaptureFixture
) -> None:
    """A 429 pause of 5 s or more is one WARNING line with its length, cause and id."""
    caplog.set_level(logging.INFO, logger="action_timeouts.http")
    fake.script("GET", PATH, rate_limited(retry_after, "c-slow"))

    with make_client(fake) as client:
        client.get_json(PATH)

    (record,) = pause_records(caplog)
    assert record.levelno == level
    message = record.getMessage()
    assert f"429, Retry-After {retry_after}" in message
    assert f"pausing all requests for {float(retry_after):.1f} s" in message
    assert "c-slow" in message
    assert "429 number 1 for this request" in message


@pytest.mark.parametrize(
    ("reset", "level"),
    [(59, logging.WARNING), (4, logging.WARNING), (2, logging.INFO)],
    ids=["60s-warning", "5s-warning", "3s-info"],
)
def test_pacing_pause_of_five_seconds_or_more_is_a_warning(
    reset: int, level: int, fake: FakeGenesys, caplog: pytest.LogCaptureFixture
) -> None:
    """Pacing that holds requests 5 s or more is one WARNING line with its length."""
    caplog.set_level(logging.INFO, logger="action_timeouts.http")
    answer = paced(300, 300, reset, inin_correlation_id="c-window")
    fake.script("GET", PATH, answer)

    with make_client(fake) as client:
        client.get_json(PATH)

    (record,) = pause_records(caplog)
    assert record.levelno == level
    message = record.getMessage()
    assert f"holding new requests for {reset + 1} s" in message
    assert "0 requests left in the rate-limit window" in message
    assert message.endswith("(correlation id c-window)")


def test_threads_asking_for_the_same_pause_report_it_once() -> None:
    """A pause ending within a second of the one in force is not reported again."""
    gate = _RateGate()

    reports = [gate.pause_for(30.0), gate.pause_for(30.0), gate.pause_for(30.5)]

    assert reports == [True, False, False]
    assert gate.pause_for(45.0) is True


# Error mapping


@pytest.mark.parametrize(
    ("status", "code", "message", "error_class"),
    [
        (400, "bad.request", "timeoutSeconds must be 1-60", ApiError),
        (
            400,
            "bad.request",
            "Supplied version 2 does not match latest draft version 1",
            ConflictError,
        ),
        (403, "missing.any.permissions", "needs integrations:action:edit", None),
        (404, "not.found", "Action a1 not found", NotFoundError),
        (408, "request.timeout", "timeout", ConflictError),
        (409, "invalid.update.wrong.version", "version must match", ConflictError),
        (415, "unsupported.media.type", "json only", ApiError),
        (500, "internal.server.error", "boom", ServerError),
        (501, "not.implemented", "no", ServerError),
    ],
    ids=[
        "400",
        "400-version",
        "403",
        "404",
        "408",
        "409",
        "415",
        "500",
        "501",
    ],
)
def test_status_maps_to_error_class(
    status: int,
    code: str,
    message: str,
    error_class: type[ApiError] | None,
    fake: FakeGenesys,
) -> None:
    """Each status becomes its error class, keeping status, code and correlation id."""
    body = error_body(status, code, message, "c-body")
    fake.script("GET", PATH, json_response(status, body, inin_correlation_id="c-h"))

    with make_client(fake) as client, pytest.raises(ApiError) as caught:
        client.get_json(PATH)

    expected = error_class or PermissionDeniedError
    assert type(caught.value) is expected
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.correlation_id == "c-h"
    assert message in str(caught.value)
    assert caught.value.body == body


def test_permission_error_names_the_missing_permissions(fake: FakeGenesys) -> None:
    """A 403 repeats the body's message, which lists the permissions needed."""
    message = (
        "You must have at least one of the following permissions assigned: "
        "[integrations:action:edit]"
    )
    body = error_body(403, "missing.any.permissions", message, "c-403")
    fake.script("PATCH", PATH, json_response(403, body))

    with make_client(fake) as client, pytest.raises(PermissionDeniedError) as caught:
        client.patch_json(PATH, BODY)

    assert "integrations:action:edit" in str(caught.value)
    assert caught.value.correlation_id == "c-403"
    assert len(fake.sent("PATCH")) == 1


def test_conflict_on_patch_is_not_retried(fake: FakeGenesys) -> None:
    """A version conflict is the caller's to resolve: one PATCH, ConflictError."""
    body = error_body(409, "invalid.update.wrong.version", "version mismatch")
    fake.script("PATCH", PATH, json_response(409, body))

    with make_client(fake) as client, pytest.raises(ConflictError):
        client.patch_json(PATH, BODY)

    assert len(fake.sent("PATCH")) == 1


def test_correlation_id_falls_back_to_the_body(fake: FakeGenesys) -> None:
    """Without the header the body's contextId is the correlation id."""
    fake.script(
        "GET", PATH, json_response(404, error_body(404, "not.found", "x", "c-b"))
    )

    with make_client(fake) as client, pytest.raises(NotFoundError) as caught:
        client.get_json(PATH)

    assert caught.value.correlation_id == "c-b"
    assert "c-b" in str(caught.value)


# Answers that are not the promised JSON


def html(status: int) -> httpx.Response:
    """Build an HTML error page like a gateway or proxy sends."""
    page = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 5000 + "</body></html>"
    return httpx.Response(
        status, content=page.encode(), headers={"content-type": "text/html"}
    )


def test_html_502_page_is_a_short_server_error(
    fake: FakeGenesys, sleeps: list[float]
) -> None:
    """An HTML gateway page becomes a ServerError with a short message, no HTML."""
    fake.script("GET", PATH, *[html(502) for _ in range(6)])

    with make_client(fake, sleeps) as client, pytest.raises(ServerError) as caught:
        client.get_json(PATH)

    message = str(caught.value)
    assert "<html" not in message
    assert "text/html" in message
    assert len(message) < 200


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(
            200,
            content=b'{"id": "a1", "conf',
            headers={"content-type": "application/json"},
        ),
        httpx.Response(200, content=b""),
        html(200),
    ],
    ids=["truncated-json", "empty", "html"],
)
def test_successful_answers_that_are_not_json_are_bad_responses(
    answer: httpx.Response, fake: FakeGenesys
) -> None:
    """A 200 whose body is not JSON raises BadResponseError without quoting it."""
    fake.script("GET", PATH, answer)

    with make_client(fake) as client, pytest.raises(BadResponseError) as caught:
        client.get_json(PATH)

    assert caught.value.status == 200
    assert "<html" not in str(caught.value)


def test_patch_answer_that_is_not_json_is_a_bad_response(fake: FakeGenesys) -> None:
    """A write answered with a broken body is reported, not resent."""
    fake.script("PATCH", PATH, httpx.Response(200, content=b"{"))

    with make_client(fake) as client, pytest.raises(BadResponseError):
        client.patch_json(PATH, BODY)

    assert len(fake.sent("PATCH")) == 1


def test_json_of_another_shape_is_returned_for_the_caller_to_check(
    fake: FakeGenesys,
) -> None:
    """Valid JSON of an unexpected shape (a list) is returned as parsed."""
    fake.script("GET", PATH, json_response(200, [1, 2]))

    with make_client(fake) as client:
        assert client.get_json(PATH) == [1, 2]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_not_followed(status: int, fake: FakeGenesys) -> None:
    """A redirect is a BadResponseError naming the target host; it is not followed."""
    redirect = httpx.Response(
        status, headers={"location": "https://api.elsewhere.example/api/v2/x"}
    )
    fake.script("GET", PATH, redirect)

    with make_client(fake) as client, pytest.raises(BadResponseError) as caught:
        client.get_json(PATH)

    assert "api.elsewhere.example" in str(caught.value)
    assert len(fake.sent("GET")) == 1


# Statistics and logging


def test_stats_count_requests_statuses_retries_and_waits(
    fake: FakeGenesys, sleeps: list[float]
) -> None:
    """The stats count every request, each status, retries and waiting time."""
    fake.script("GET", PATH, rate_limited("2"), failure(503))

    with make_client(fake, sleeps) as client:
        client.get_json(PATH)
        stats = client.stats

    assert stats.requests == 4
    assert stats.by_status == {200: 2, 429: 1, 503: 1}
    assert (stats.retries, stats.rate_limited) == (2, 1)
    assert stats.waited_seconds == pytest.approx(2.5, abs=0.1)


def test_stats_are_thread_safe() -> None:
    """Counters updated from many threads lose no update."""
    stats = ClientStats()

    def work() -> None:
        for _ in range(1000):
            stats.record_response(200)
            stats.record_wait(0.001)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert stats.requests == 8000
    assert stats.by_status[200] == 8000


def test_one_debug_line_per_request_and_info_for_retries(
    fake: FakeGenesys, caplog: pytest.LogCaptureFixture
) -> None:
    """Each request logs method, path, status, time and id; retries log at INFO."""
    caplog.set_level(logging.DEBUG, logger="action_timeouts.http")
    fake.script("GET", PATH, failure(503, "c-retry"))

    with make_client(fake) as client:
        client.get_json(PATH)

    lines = [r for r in caplog.records if r.name == "action_timeouts.http"]
    debug = [r.getMessage() for r in lines if r.levelno == logging.DEBUG]
    info = [r.getMessage() for r in lines if r.levelno == logging.INFO]
    assert any(f"GET {PATH} -> 503 in" in line and "c-retry" in line for line in debug)
    assert any(f"GET {PATH} -> 200 in" in line for line in debug)
    assert any("POST /oauth/token -> 200" in line for line in debug)
    assert info == [
        f"retrying GET {PATH} (attempt 2 of 6) after 503 (correlation id c-retry); "
        "waiting 0.5 s"
    ]
    assert "token-1" not in caplog.text


# Retry-After parsing


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5", 5.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-1", None),
        ("nan", None),
        ("inf", None),
        ("", None),
        (None, None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    """Seconds and HTTP dates are read; anything else is None; past dates are 0."""
    assert parse_retry_after(value) == seconds


def test_parse_retry_after_future_date() -> None:
    """A future HTTP date gives the seconds until then."""
    date = email.utils.formatdate(time.time() + 120, usegmt=True)

    assert parse_retry_after(date) == pytest.approx(120, abs=2)


def test_importing_the_client_stays_light() -> None:
    """Importing the HTTP client loads neither rich, pygments, sqlite3 nor dotenv."""
    code = (
        "import sys, action_timeouts.http; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'rich', 'pygments', 'sqlite3', 'dotenv', 'uvicorn', 'starlette'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
