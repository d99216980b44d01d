"""Client-credentials tokens: cached, renewed early and on 401, one renewal at once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from action_timeouts.auth import ClientCredentialsAuth, renewal_margin
from action_timeouts.errors import (
    AuthenticationError,
    BadResponseError,
    ServerError,
    TransportError,
)

from .fake_api import (
    CLIENT_ID,
    CLIENT_SECRET,
    ENDPOINT,
    FakeGenesys,
    json_response,
    make_client,
)

PATH = "/api/v2/integrations/actions/a1"


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> FakeGenesys:
    """A fake Genesys login and API."""
    return FakeGenesys()


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def http(fake: FakeGenesys, clock: FakeClock) -> Iterator[httpx.Client]:
    """A bare httpx client using the auth on its own (no ApiClient retries)."""
    transport = httpx.MockTransport(fake.handler)
    login = httpx.Client(transport=transport)
    auth = ClientCredentialsAuth(
        ENDPOINT, CLIENT_ID, CLIENT_SECRET, send=login.send, clock=clock
    )
    with (
        login,
        httpx.Client(
            base_url=ENDPOINT.api_base, auth=auth, transport=transport
        ) as client,
    ):
        yield client


def bearer(request: httpx.Request) -> str:
    """Return the bearer token a request carried."""
    return request.headers["authorization"].removeprefix("Bearer ")


@pytest.mark.parametrize(
    ("lifetime", "margin"),
    [(86400, 60.0), (600, 60.0), (300, 30.0), (100, 10.0), (0, 0.0)],
)
def test_renewal_margin_is_a_minute_or_a_tenth(lifetime: float, margin: float) -> None:
    """Tokens are renewed min(60 s, 10 % of their lifetime) before they expire."""
    assert renewal_margin(lifetime) == margin


def test_login_uses_basic_auth_and_the_client_credentials_grant(
    fake: FakeGenesys, http: httpx.Client
) -> None:
    """The token request goes to the login host with Basic auth and a form body."""
    http.get(PATH)

    (login,) = fake.sent("POST", "/oauth/token")
    assert login.url.host == "login.example.test"
    assert login.headers["content-type"] == "application/x-www-form-urlencoded"
    assert login.content == b"grant_type=client_credentials"
    assert login.headers["authorization"].startswith("Basic ")
    assert CLIENT_SECRET.encode() not in login.content


def test_token_is_cached(fake: FakeGenesys, http: httpx.Client) -> None:
    """Many requests share one login while the token is fresh."""
    for _ in range(5):
        assert http.get(PATH).status_code == 200

    assert fake.logins == 1
    assert {bearer(request) for request in fake.sent("GET")} == {"token-1"}


def test_token_is_renewed_ahead_of_expiry(
    fake: FakeGenesys, http: httpx.Client, clock: FakeClock
) -> None:
    """A 1000 s token is renewed from 940 s on, before the API would refuse it."""
    fake.expires_in = 1000
    http.get(PATH)
    clock.now += 939.9
    http.get(PATH)
    assert fake.logins == 1

    clock.now += 0.1
    http.get(PATH)

    assert fake.logins == 2
    assert bearer(fake.sent("GET")[-1]) == "token-2"


def test_short_tokens_are_renewed_a_tenth_early(
    fake: FakeGenesys, http: httpx.Client, clock: FakeClock
) -> None:
    """A 300 s token is renewed 30 s before it expires."""
    fake.expires_in = 300
    http.get(PATH)
    clock.now += 269.9
    http.get(PATH)
    clock.now += 0.2
    http.get(PATH)

    assert fake.logins == 2


@pytest.mark.parametrize("expires_in", [None, "soon", -5, True], ids=repr)
def test_token_without_usable_lifetime_is_kept_until_refused(
    expires_in: object, fake: FakeGenesys, http: httpx.Client, clock: FakeClock
) -> None:
    """Without a usable expires_in the token is renewed only when the API says 401."""
    fake.expires_in = expires_in
    http.get(PATH)
    clock.now += 10**9
    http.get(PATH)
    assert fake.logins == 1

    fake.expire_tokens()
    assert http.get(PATH).status_code == 200
    assert fake.logins == 2


def test_401_renews_once_and_repeats_the_request(
    fake: FakeGenesys, http: httpx.Client
) -> None:
    """A token refused mid-run is renewed and the request repeated with the new one."""
    http.get(PATH)
    fake.expire_tokens()

    response = http.get(PATH)

    assert response.status_code == 200
    assert fake.logins == 2
    assert [bearer(request) for request in fake.sent("GET")] == [
        "token-1",
        "token-1",
        "token-2",
    ]


def test_second_401_is_returned_after_one_renewal(
    fake: FakeGenesys, http: httpx.Client
) -> None:
    """The auth renews only once per request; a second 401 is the caller's answer."""
    refused = json_response(401, {"code": "bad.credentials"})
    fake.script("GET", PATH, refused, refused, refused)

    response = http.get(PATH)

    assert response.status_code == 401
    assert len(fake.sent("GET")) == 2
    assert fake.logins == 2


def test_a_401_refused_after_another_thread_renewed_reuses_its_token(
    fake: FakeGenesys, clock: FakeClock
) -> None:
    """renew() with an already replaced token returns the replacement, no login."""
    login = httpx.Client(transport=httpx.MockTransport(fake.handler))
    auth = ClientCredentialsAuth(
        ENDPOINT, CLIENT_ID, CLIENT_SECRET, send=login.send, clock=clock
    )
    first = auth.token()
    second = auth.renew(rejected=first)

    assert auth.renew(rejected=first) == second
    assert fake.logins == 2
    assert auth.logins == 2


def run_in_threads(count: int, target: object) -> list[BaseException | None]:
    """Start `count` threads at once on a callable; return what each raised."""
    barrier = threading.Barrier(count)
    outcomes: list[BaseException | None] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            target()  # type: ignore[operator]
        except BaseException as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_eight_threads_starting_together_log_in_once(fake: FakeGenesys) -> None:
    """Concurrent first requests wait for one login and share its token."""
    fake.on_login = lambda: time.sleep(0.2)
    with make_client(fake) as client:
        outcomes = run_in_threads(8, lambda: client.get_json(PATH))

    assert outcomes == [None] * 8
    assert fake.logins == 1
    assert len(fake.sent("GET")) == 8


def test_eight_threads_refused_together_renew_once(fake: FakeGenesys) -> None:
    """Eight requests refused with the same old token cause one renewal, not eight."""
    with make_client(fake) as client:
        client.get_json(PATH)
        fake.expire_tokens()
        barrier = threading.Barrier(8)
        fake.on_rejected_token = lambda: barrier.wait(timeout=10)
        fake.on_login = lambda: time.sleep(0.1)

        outcomes = run_in_threads(8, lambda: client.get_json(PATH))

    assert outcomes == [None] * 8
    assert fake.logins == 2
    assert [bearer(r) for r in fake.sent("GET")[-8:]] == ["token-2"] * 8


def test_threads_waiting_on_a_failed_login_share_its_error(fake: FakeGenesys) -> None:
    """When the one login fails, the threads that waited for it do not retry it."""
    fake.on_login = lambda: time.sleep(0.3)
    with make_client(fake, secret="wrong-secret") as client:
        outcomes = run_in_threads(8, lambda: client.get_json(PATH))

    assert all(isinstance(outcome, AuthenticationError) for outcome in outcomes)
    assert len(fake.sent("POST", "/oauth/token")) == 1
    assert len({id(outcome) for outcome in outcomes}) == 8


def test_a_later_call_tries_to_log_in_again(fake: FakeGenesys) -> None:
    """A failed login is not remembered for requests made after it."""
    fake.script("POST", "/oauth/token", json_response(401, {"error": "invalid_client"}))
    with make_client(fake) as client:
        with pytest.raises(AuthenticationError):
            client.get_json(PATH)

        assert client.get_json(PATH) == {"path": PATH}


@pytest.mark.parametrize("status", [400, 401])
def test_invalid_client_names_the_login_host_and_region_not_the_secret(
    status: int, fake: FakeGenesys
) -> None:
    """A refused login says which host and region to check and never the secret."""
    body = {"error": "invalid_client", "description": "authentication failed"}
    fake.script("POST", "/oauth/token", json_response(status, body))

    with make_client(fake) as client, pytest.raises(AuthenticationError) as caught:
        client.get_json(PATH)

    message = str(caught.value)
    assert "login.example.test" in message
    assert "eu-west-1" in message
    assert "invalid_client" in message
    assert caught.value.status == status
    assert CLIENT_SECRET not in message
    assert CLIENT_SECRET not in repr(caught.value.body)
    assert not fake.sent("GET")


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_login_is_retried_like_a_read(status: int, fake: FakeGenesys) -> None:
    """A throttled or failing token endpoint is retried, then the call goes on."""
    fake.script("POST", "/oauth/token", json_response(status, {}, retry_after="1"))
    sleeps: list[float] = []

    with make_client(fake, sleeps) as client:
        assert client.get_json(PATH) == {"path": PATH}

    assert len(fake.sent("POST", "/oauth/token")) == 2
    assert sleeps


def test_login_failing_every_time_is_a_server_error(fake: FakeGenesys) -> None:
    """A token endpoint that keeps failing ends in ServerError after the attempts."""
    failure = json_response(503, {})
    fake.script("POST", "/oauth/token", *[failure] * 3)

    with make_client(fake, read_attempts=3) as client, pytest.raises(ServerError):
        client.get_json(PATH)

    assert len(fake.sent("POST", "/oauth/token")) == 3


def test_login_without_an_answer_is_a_transport_error(fake: FakeGenesys) -> None:
    """A login host that never answers gives TransportError naming it."""
    failure = httpx.ConnectError("refused")
    fake.script("POST", "/oauth/token", failure, failure)

    client = make_client(fake, read_attempts=2)
    with client, pytest.raises(TransportError, match=r"login\.example\.test"):
        client.get_json(PATH)


def test_login_answer_without_a_token_is_a_bad_response(fake: FakeGenesys) -> None:
    """A 200 without access_token is reported, not used."""
    fake.script("POST", "/oauth/token", json_response(200, {"token_type": "bearer"}))

    with make_client(fake) as client, pytest.raises(BadResponseError):
        client.get_json(PATH)


def test_login_redirect_is_refused(fake: FakeGenesys) -> None:
    """A redirect at login is not followed: the credentials go nowhere else."""
    redirect = httpx.Response(302, headers={"location": "https://evil.example/x"})
    fake.script("POST", "/oauth/token", redirect)

    with make_client(fake) as client, pytest.raises(BadResponseError, match="evil"):
        client.get_json(PATH)

    assert len(fake.requests) == 1


def test_tokens_and_secret_never_reach_the_logs(
    fake: FakeGenesys, caplog: pytest.LogCaptureFixture
) -> None:
    """Even at DEBUG, no token, secret or Basic credential is logged."""
    caplog.set_level(logging.DEBUG)
    with make_client(fake) as client:
        client.get_json(PATH)
        fake.expire_tokens()
        client.get_json(PATH)

    assert "token-1" not in caplog.text
    assert "token-2" not in caplog.text
    assert CLIENT_SECRET not in caplog.text
    assert "Basic " not in caplog.text
    assert "logged in at login.example.test" in caplog.text


def test_auth_repr_hides_the_credentials(fake: FakeGenesys) -> None:
    """repr() of the auth shows the endpoint only."""
    auth = ClientCredentialsAuth(
        ENDPOINT, CLIENT_ID, CLIENT_SECRET, send=lambda _: httpx.Response(500)
    )

    assert CLIENT_SECRET not in repr(auth)
    assert "Basic" not in repr(auth)
