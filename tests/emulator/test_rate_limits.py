"""Per-client rate limiting, its headers, injected 429s and early-retry records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import ACTIONS, ManualClock, basic

ONE = f"{ACTIONS}/lookup-order"


def test_every_answer_has_rate_limit_headers(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """Answers to authenticated calls report the window: allowed, count, reset."""
    first = http.get(ONE, headers=auth)
    second = http.get(f"{ACTIONS}/missing", headers=auth)

    assert first.headers["inin-ratelimit-allowed"] == "300"
    assert first.headers["inin-ratelimit-count"] == "1"
    assert first.headers["inin-ratelimit-reset"] == "60"
    assert second.status_code == 404
    assert second.headers["inin-ratelimit-count"] == "2"


def test_reset_counts_down_with_the_clock(
    http: httpx.Client, auth: dict[str, str], clock: ManualClock
) -> None:
    """`inin-ratelimit-reset` is the whole seconds left in the window."""
    http.get(ONE, headers=auth)
    clock.advance(20.5)

    response = http.get(ONE, headers=auth)

    assert response.headers["inin-ratelimit-reset"] == "40"


def test_over_the_limit_is_429_with_retry_after(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], clock: ManualClock
) -> None:
    """Past the budget a call gets the normalized 429 with `Retry-After`."""
    emu.state.set_options(rate_limit_per_minute=3)
    for _ in range(3):
        assert http.get(ONE, headers=auth).status_code == 200
    clock.advance(18)

    response = http.get(ONE, headers=auth)

    correlation_id = response.headers["ININ-Correlation-Id"]
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "42"
    assert response.json() == {
        "message": "Rate limit exceeded the maximum. Retry the request in [42] seconds",
        "code": "too.many.requests.retry.after",
        "status": 429,
        "contextId": correlation_id,
        "details": [],
        "errors": [],
    }


def test_window_starts_again_after_60_seconds(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], clock: ManualClock
) -> None:
    """Once the window has passed the client may call again."""
    emu.state.set_options(rate_limit_per_minute=1)
    http.get(ONE, headers=auth)
    assert http.get(ONE, headers=auth).status_code == 429
    clock.advance(60)

    response = http.get(ONE, headers=auth)

    assert response.status_code == 200
    assert response.headers["inin-ratelimit-count"] == "1"


def test_limits_are_per_client(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], make_client: Any
) -> None:
    """One client's exhausted budget does not limit another client."""
    emu.state.set_options(rate_limit_per_minute=1)
    other = make_client()
    http.get(ONE, headers=auth)

    assert http.get(ONE, headers=auth).status_code == 429
    assert http.get(ONE, headers=other).status_code == 200


def test_retry_before_retry_after_is_recorded(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], clock: ManualClock
) -> None:
    """A retry sent before `Retry-After` has passed is flagged in the request log."""
    emu.state.set_options(rate_limit_per_minute=1)
    http.get(ONE, headers=auth)
    http.get(ONE, headers=auth)
    clock.advance(30)
    http.get(ONE, headers=auth)
    clock.advance(30)

    http.get(ONE, headers=auth)

    log = emu.state.request_log()
    flags = [entry["early_retry"] for entry in log if entry["path"] == ONE]
    assert flags == [False, False, True, False]
    assert len(emu.state.early_retries()) == 1


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [
        pytest.param(7, "7", id="int"),
        pytest.param("0", "0", id="zero"),
        pytest.param("soon", "soon", id="not-a-number"),
        pytest.param(None, None, id="missing"),
    ],
)
def test_injected_429_sends_the_given_retry_after(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    retry_after: object,
    header: str | None,
) -> None:
    """`inject_429` answers with exactly the `Retry-After` asked for, or none."""
    emu.state.inject_429(1, retry_after=retry_after)  # type: ignore[arg-type]

    throttled = http.get(ONE, headers=auth)
    after = http.get(ONE, headers=auth)

    assert throttled.status_code == 429
    assert throttled.headers.get("Retry-After") == header
    assert throttled.json()["code"] == "too.many.requests.retry.after"
    assert after.status_code == 200


def test_injected_429_with_an_http_date(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A datetime becomes an HTTP-date `Retry-After`."""
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    emu.state.inject_429(1, retry_after=when)

    response = http.get(ONE, headers=auth)

    assert response.headers["Retry-After"] == "Wed, 02 Jan 2030 03:04:05 GMT"


def test_injected_429s_are_counted(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`inject_429(count)` throttles exactly that many calls."""
    emu.state.inject_429(2)

    statuses = [http.get(ONE, headers=auth).status_code for _ in range(3)]

    assert statuses == [429, 429, 200]


def test_injected_429_on_the_login_endpoint(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    """With the login path as prefix the token endpoint answers 429."""
    emu.state.inject_429(1, retry_after="3", path_prefix="/oauth")

    response = http.post(
        "/oauth/token",
        auth=(emu.client_id, emu.client_secret),
        data={"grant_type": "client_credentials"},
    )

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"


def test_injected_http_date_sets_the_early_retry_deadline(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A retry before an HTTP-date `Retry-After` is flagged as early."""
    emu.state.inject_429(1, retry_after=datetime.now(UTC) + timedelta(minutes=5))
    http.get(ONE, headers=auth)

    http.get(ONE, headers=auth)

    assert len(emu.state.early_retries()) == 1


def window(response: httpx.Response) -> tuple[str, str, str]:
    """Return the allowed, count and reset rate-limit headers of an answer."""
    headers = response.headers
    return (
        headers["inin-ratelimit-allowed"],
        headers["inin-ratelimit-count"],
        headers["inin-ratelimit-reset"],
    )


def test_an_expired_token_gets_its_clients_window(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A 401 for an expired token reports its client's window, without counting."""
    http.get(ONE, headers=auth)
    emu.state.expire_tokens()

    response = http.get(ONE, headers=auth)

    assert response.status_code == 401
    assert window(response) == ("300", "1", "60")


def test_an_unknown_route_gets_the_clients_window(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """A 404 for a route the emulator lacks reports the caller's window, uncounted."""
    http.get(ONE, headers=auth)

    response = http.get("/api/v2/routing/queues", headers=auth)

    assert response.status_code == 404
    assert window(response) == ("300", "1", "60")


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        pytest.param(ONE, {}, id="no-token"),
        pytest.param(ONE, {"Authorization": "Bearer unknown"}, id="unknown-token"),
        pytest.param("/api/v2/routing/queues", {}, id="unknown-route"),
    ],
)
def test_answers_to_no_known_client_report_a_fresh_window(
    http: httpx.Client, path: str, headers: dict[str, str]
) -> None:
    """Without a client to name, the headers show a fresh window: none of it used."""
    response = http.get(path, headers=headers)

    assert response.status_code in (401, 404)
    assert window(response) == ("300", "0", "60")


def test_token_answers_report_the_clients_window(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A token answer reports the window of the client that logged in, uncounted."""
    http.get(ONE, headers=auth)
    credentials = {"Authorization": basic(emu.client_id, emu.client_secret)}

    response = http.post(
        "/oauth/token", headers=credentials, data={"grant_type": "client_credentials"}
    )

    assert response.status_code == 200
    assert window(response) == ("300", "1", "60")


def test_refused_logins_report_a_fresh_window(http: httpx.Client) -> None:
    """A login with bad credentials names no client, so it reports a fresh window."""
    credentials = {"Authorization": basic("nobody", "wrong")}

    response = http.post(
        "/oauth/token", headers=credentials, data={"grant_type": "client_credentials"}
    )

    assert response.status_code == 401
    assert window(response) == ("300", "0", "60")
