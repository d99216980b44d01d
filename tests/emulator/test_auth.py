"""Login endpoint and bearer-token checks of the emulator."""

from __future__ import annotations

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import ACTIONS, ManualClock, basic, bearer, get_token


def login(http: httpx.Client, authorization: str | None, form: str) -> httpx.Response:
    """Post a raw form to the login endpoint."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return http.post("/oauth/token", headers=headers, content=form)


def test_token_has_the_platform_shape(emu: RunningEmulator, http: httpx.Client) -> None:
    """A valid login returns a bearer token with its lifetime in seconds."""
    response = login(
        http, basic(emu.client_id, emu.client_secret), "grant_type=client_credentials"
    )

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86400


def test_token_lifetime_follows_the_option(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    """`expires_in` reports the configured token lifetime."""
    emu.state.set_options(token_lifetime=300)

    response = login(
        http, basic(emu.client_id, emu.client_secret), "grant_type=client_credentials"
    )

    assert response.json()["expires_in"] == 300


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("wrong-secret", id="wrong-secret"),
        pytest.param("unknown-client", id="unknown-client"),
        pytest.param(None, id="no-authorization"),
        pytest.param("Basic not-base64!", id="garbled-basic"),
        pytest.param("Bearer abc", id="not-basic"),
    ],
)
@pytest.mark.parametrize("status", [401, 400], ids=["401", "400"])
def test_bad_client_gets_invalid_client(
    emu: RunningEmulator, http: httpx.Client, authorization: str | None, status: int
) -> None:
    """Bad client credentials give `invalid_client` with the configured status."""
    emu.state.set_options(token_error_status=status)
    header = {
        "wrong-secret": basic(emu.client_id, "nope"),
        "unknown-client": basic("someone-else", emu.client_secret),
    }.get(authorization or "", authorization)

    response = login(http, header, "grant_type=client_credentials")

    assert response.status_code == status
    assert response.json() == {
        "error": "invalid_client",
        "description": "authentication failed",
    }


@pytest.mark.parametrize(
    "form",
    [
        pytest.param("", id="missing"),
        pytest.param("grant_type=password", id="password"),
        pytest.param("grant_type=authorization_code", id="code"),
    ],
)
def test_other_grants_are_unsupported(
    emu: RunningEmulator, http: httpx.Client, form: str
) -> None:
    """Only the client-credentials grant is accepted."""
    response = login(http, basic(emu.client_id, emu.client_secret), form)

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_token_answer_carries_a_correlation_id(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    """The login endpoint also sends `ININ-Correlation-Id`."""
    response = login(
        http, basic(emu.client_id, "nope"), "grant_type=client_credentials"
    )

    assert response.headers["ININ-Correlation-Id"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": "Bearer"}, id="bearer-without-token"),
        pytest.param({"Authorization": "Basic abc"}, id="basic-scheme"),
    ],
)
def test_missing_token_is_authentication_required(
    http: httpx.Client, headers: dict[str, str]
) -> None:
    """A call without a bearer token gets 401 `authentication.required`."""
    response = http.get(ACTIONS, headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication.required"


def test_unknown_token_is_bad_credentials(http: httpx.Client) -> None:
    """A token the emulator never issued gets 401 `bad.credentials`."""
    response = http.get(ACTIONS, headers=bearer("made-up"))

    assert response.status_code == 401
    assert response.json()["code"] == "bad.credentials"


def test_token_expires_after_its_lifetime(
    emu: RunningEmulator, http: httpx.Client, clock: ManualClock
) -> None:
    """A token is refused once its lifetime has passed on the emulator's clock."""
    emu.state.set_options(token_lifetime=5)
    headers = bearer(get_token(http, emu.client_id, emu.client_secret))
    assert http.get(ACTIONS, headers=headers).status_code == 200

    clock.advance(6)
    response = http.get(ACTIONS, headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "bad.credentials"


def test_expire_tokens_refuses_tokens_issued_before(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`expire_tokens()` makes existing tokens fail; a new login works again."""
    emu.state.expire_tokens()

    refused = http.get(ACTIONS, headers=auth)
    fresh = bearer(get_token(http, emu.client_id, emu.client_secret))

    assert refused.status_code == 401
    assert refused.json()["code"] == "bad.credentials"
    assert http.get(ACTIONS, headers=fresh).status_code == 200
