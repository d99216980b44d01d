"""OAuth client-credentials tokens for the Genesys Cloud API, as an `httpx.Auth`.

The token is fetched from `{login_base}/oauth/token` with HTTP Basic and
`grant_type=client_credentials`, kept, and renewed shortly before it expires
(`min(60 s, 10 % of its lifetime)` early). A 401 from the API renews it once and
repeats the request once. One renewal runs at a time: threads that waited for it use
the token it fetched, and if it failed they get its error instead of trying again.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from action_timeouts.errors import (
    ActionTimeoutsError,
    ApiError,
    AuthenticationError,
    BadResponseError,
    RateLimitedError,
    ServerError,
)
from action_timeouts.regions import Endpoint

__all__ = ["ClientCredentialsAuth", "LoginSender", "renewal_margin"]

logger = logging.getLogger(__name__)

LoginSender = Callable[[httpx.Request], httpx.Response]
"""Sends the token request and returns the final answer (retrying as it sees fit)."""

# What a bearer token may hold to be sent as `Authorization: Bearer <token>`:
# visible ASCII, no spaces (RFC 6750 allows fewer characters still).
_TOKEN = re.compile(r"[\x21-\x7e]+")
_MAX_MARGIN_SECONDS = 60.0
_MARGIN_FRACTION = 0.1
_ErrorT = TypeVar("_ErrorT", bound=BaseException)


def renewal_margin(lifetime: float) -> float:
    """Return how long before expiry a token of this lifetime is renewed."""
    return min(_MAX_MARGIN_SECONDS, _MARGIN_FRACTION * lifetime)


@dataclass(frozen=True)
class _Token:
    """An access token and the monotonic time after which it is renewed."""

    value: str = field(repr=False)
    renew_at: float


class ClientCredentialsAuth(httpx.Auth):
    """Adds a client-credentials bearer token to requests, renewing it when needed."""

    requires_response_body = True  # releases a refused response's connection first

    def __init__(
        self,
        endpoint: Endpoint,
        client_id: str,
        client_secret: str,
        *,
        send: LoginSender,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._endpoint = endpoint
        self._basic = _basic_credentials(client_id, client_secret)
        self._send = send
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self._logins = 0
        self._finished_logins = 0
        self._failure: ActionTimeoutsError | None = None

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(endpoint={self._endpoint!r})"

    @property
    def logins(self) -> int:
        """Return how many token requests have been made."""
        return self._logins

    def auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Send the request with a token; on a 401 renew once and send it again."""
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return

        logger.info(
            "the API refused the token for %s %s (401); renewing it once",
            request.method,
            request.url.path,
        )
        request.headers["Authorization"] = f"Bearer {self.renew(rejected=token)}"
        yield request

    def token(self) -> str:
        """Return a valid token, logging in first when there is none or it is due."""
        seen = self._finished_logins
        with self._lock:
            current = self._token
            if current is not None and self._clock() < current.renew_at:
                return current.value
            return self._login_once(seen)

    def renew(self, rejected: str) -> str:
        """Return a token other than the rejected one, logging in unless one exists."""
        seen = self._finished_logins
        with self._lock:
            current = self._token
            if current is not None and current.value != rejected:
                return current.value
            return self._login_once(seen)

    def _login_once(self, seen: int) -> str:
        """Log in, unless a login failed while this thread waited (share its error)."""
        if self._finished_logins != seen and self._failure is not None:
            raise _copy_error(self._failure)

        self._logins += 1
        self._token = None
        try:
            self._token = self._login()
        except ActionTimeoutsError as error:
            self._failure = error
            raise
        else:
            self._failure = None
        finally:
            self._finished_logins += 1
        return self._token.value

    def _login(self) -> _Token:
        """Request a new token from the login host."""
        request = httpx.Request(
            "POST",
            f"{self._endpoint.login_base}/oauth/token",
            headers={"Authorization": self._basic, "Accept": "application/json"},
            data={"grant_type": "client_credentials"},
        )
        started = self._clock()
        response = self._send(request)
        self._check_login_answer(response)
        return self._read_token(response, started)

    def _check_login_answer(self, response: httpx.Response) -> None:
        """Raise the error a failed login deserves; never mention the secret."""
        status = response.status_code
        if status == 200:
            return

        body = _json_object(response)
        correlation_id = response.headers.get("inin-correlation-id")
        error_class, message = self._login_failure(status, response, body)
        raise error_class(
            message,
            status=status,
            code=_text(body.get("error")),
            correlation_id=correlation_id,
            body=body or None,
        )

    def _login_failure(
        self, status: int, response: httpx.Response, body: dict[str, Any]
    ) -> tuple[type[ApiError], str]:
        """Choose the error class and message for a login answer that is not 200."""
        host = httpx.URL(self._endpoint.login_base).host
        said = _text(body.get("error")) or f"HTTP {status}"
        description = _text(body.get("description") or body.get("error_description"))
        detail = f"{said}: {description}" if description else said
        if 300 <= status < 400:
            target = httpx.URL(response.headers.get("location", "")).host or "elsewhere"
            return BadResponseError, f"login at {host} redirected to {target}; refusing"
        if status == 429:
            return RateLimitedError, f"login at {host} is rate limited ({detail})"
        if status >= 500:
            return ServerError, f"login at {host} failed on the server side ({detail})"
        return AuthenticationError, (
            f"login at {host} refused the client credentials ({detail}): check the "
            f"client ID and secret, and that region {self._endpoint.name} is your "
            f"org's region (tokens come only from login.<your org's domain>)"
        )

    def _read_token(self, response: httpx.Response, started: float) -> _Token:
        """Read the token and its lifetime from a successful login answer.

        A token is checked when it arrives: one that cannot be sent in a header
        would otherwise fail every request, in an error that quotes the header.
        The answer is parsed in helpers, so that no frame an error passes through
        holds the token.
        """
        host = httpx.URL(self._endpoint.login_base).host
        problem = _token_problem(response)
        if problem is not None:
            message = f"the login answer from {host} {problem}; try again later"
            raise BadResponseError(message, status=response.status_code)

        lifetime = _lifetime(_json_object(response).get("expires_in"))
        renew_at = started + lifetime - renewal_margin(lifetime)
        logger.info("logged in at %s; token valid for %.0f s", host, lifetime)
        return _Token(value=_json_object(response)["access_token"], renew_at=renew_at)


def _basic_credentials(client_id: str, client_secret: str) -> str:
    """Build the HTTP Basic header value for the client credentials."""
    pair = f"{client_id}:{client_secret}".encode()
    return f"Basic {base64.b64encode(pair).decode('ascii')}"


def _token_problem(response: httpx.Response) -> str | None:
    """Say what is wrong with the access token of a login answer, or None."""
    value = _json_object(response).get("access_token")
    if not isinstance(value, str) or not value:
        return "has no access_token"
    if not _TOKEN.fullmatch(value):
        return (
            "is malformed: its access_token cannot be sent in a header (it holds "
            "spaces, control or non-ASCII characters)"
        )
    return None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """Parse the answer as a JSON object, or return an empty dict."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _text(value: Any) -> str | None:
    """Return a short string for a JSON value, or None when it is empty."""
    return str(value)[:300] if value not in (None, "") else None


def _lifetime(expires_in: Any) -> float:
    """Read `expires_in`; without a usable value renew only when the API says 401."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
        return math.inf
    return float(expires_in) if expires_in > 0 else math.inf


def _copy_error(error: _ErrorT) -> _ErrorT:
    """Copy an exception so that several threads can raise it independently."""
    copy = type(error).__new__(type(error), *error.args)
    copy.__dict__.update(error.__dict__)
    return copy
