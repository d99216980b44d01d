"""The HTTP client of the Genesys Cloud API: retries, rate limits and pacing.

Reads (GET, and the token request) are retried on 502/503/504 and on lost
connections with jittered exponential backoff, up to `RetryPolicy.read_attempts`.
A connection that cannot be made at all (refused, unknown host) is tried only
`RetryPolicy.connect_attempts` times: that is nearly always a wrong region or URL, or
a host that is down, which waiting does not fix, and the error says what to check.
A 429 is waited out for `Retry-After` (seconds or an HTTP date; backoff when it is
missing or unreadable), and the wait is shared: every thread of the client pauses,
within a total budget per request. Writes (PATCH, POST) are resent only when the
server certainly did not process them: after a 429, a 401 (renewed token), or a
connection that could not be opened. A write that got no answer, or a 502/503/504,
raises `AmbiguousWriteError` so that the caller re-reads before deciding. The answer
finally kept becomes a body or an error in `answers.py`.

The `inin-ratelimit-*` headers pace the client: when the requests left in the
window are no more than the requests in flight, new requests wait for the window
to reset, so a bulk run stays under the limit instead of tripping it.

A rate-limit pause of `LONG_PAUSE_SECONDS` or more is logged as a WARNING, once per
pause rather than once per waiting thread, so a stalled run says why without `-v`;
shorter pauses are logged at INFO.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import httpx

from action_timeouts import __version__
from action_timeouts.answers import (
    ambiguous_write,
    correlation_id,
    describe,
    error_body,
    json_body,
    raise_for_status,
    text_body,
    unreadable_answer,
)
from action_timeouts.auth import ClientCredentialsAuth
from action_timeouts.errors import (
    AmbiguousWriteError,
    ApiError,
    RateLimitedError,
    TransportError,
    UsageError,
)
from action_timeouts.regions import Endpoint

__all__ = [
    "LONG_PAUSE_SECONDS",
    "USER_AGENT",
    "ApiClient",
    "ClientStats",
    "RetryPolicy",
    "parse_retry_after",
]

logger = logging.getLogger(__name__)

USER_AGENT = f"action-timeouts/{__version__}"
# A rate-limit pause at least this long is logged as a warning.
LONG_PAUSE_SECONDS = 5.0

_GATEWAY_FAILURES = frozenset({502, 503, 504})
# Failures while opening a connection: nothing reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The reset header counts whole seconds; one more keeps clear of the window's edge.
_PACING_MARGIN_SECONDS = 1.0
# Threads answered together ask for pauses ending within this much of each other;
# only a pause that ends later than that is news worth a log line.
_SAME_PAUSE_SECONDS = 1.0
# A `Retry-After: 0` loop would never use up the budget; wait at least this long.
_SHORTEST_RATE_LIMIT_WAIT = 0.5
_LONGEST_ERROR_CHAIN = 10  # causes followed when looking for a certificate failure
_REDACTED = "[redacted]"
# Shorter values (an empty header, a one-letter secret) are not worth hiding: hiding
# them would garble every message that happens to contain them.
_SHORTEST_SECRET = 8


@dataclass
class RetryPolicy:
    """How often and how long requests are retried."""

    read_attempts: int = 6
    connect_attempts: int = 3  # refused or unresolvable: rides out a brief blip only
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    rate_limit_budget: float = 300.0  # total seconds one request may wait on 429s
    jitter: bool = True

    def backoff(self, retry: int) -> float:
        """Return the wait before retry number `retry` (from 1), jittered if enabled."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0 ** (retry - 1))
        if not self.jitter:
            return ceiling
        return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass
class ClientStats:
    """Counters of what the client sent and how long it waited (thread-safe)."""

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    rate_limited: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    transport_errors: int = 0
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def record_response(self, status: int) -> None:
        """Count one answered request."""
        with self._lock:
            self.requests += 1
            self.by_status[status] += 1

    def record_transport_error(self) -> None:
        """Count one request that got no answer."""
        with self._lock:
            self.requests += 1
            self.transport_errors += 1

    def record_retry(self, *, rate_limited: bool = False) -> None:
        """Count one scheduled retry, and whether a 429 caused it."""
        with self._lock:
            self.retries += 1
            self.rate_limited += int(rate_limited)

    def record_wait(self, seconds: float) -> None:
        """Add time spent waiting before a request."""
        with self._lock:
            self.waited_seconds += seconds


class _RateGate:
    """A client-wide "not before" time, and the number of requests in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._not_before = 0.0
        self._in_flight = 0

    def pending(self) -> tuple[float, float]:
        """Return the end of the current pause and how long until then."""
        with self._lock:
            return self._not_before, max(0.0, self._not_before - time.monotonic())

    def pause_for(self, seconds: float) -> bool:
        """Hold every new request for `seconds`; say whether that is a new pause.

        A pause is new when it ends more than `_SAME_PAUSE_SECONDS` after the one in
        force, so threads answered together do not each report the same pause.
        """
        moment = time.monotonic() + seconds
        with self._lock:
            new = moment > self._not_before + _SAME_PAUSE_SECONDS
            self._not_before = max(self._not_before, moment)
        return new

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """Count a request as in flight while the block runs."""
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def pace(self, headers: httpx.Headers) -> None:
        """Pause new requests when the window has no room beyond those in flight."""
        window = _rate_window(headers)
        if window is None:
            return
        remaining, reset = window
        with self._lock:
            others = self._in_flight - 1
        pause = reset + _PACING_MARGIN_SECONDS
        if remaining > others or not self.pause_for(pause):
            return

        logger.log(
            _pause_level(pause),
            "pacing: %d %s left in the rate-limit window with %d in flight; "
            "holding new requests for %.0f s%s",
            remaining,
            "request" if remaining == 1 else "requests",
            others,
            pause,
            _correlation_suffix(headers.get("inin-correlation-id")),
        )


@dataclass
class _Tries:
    """What one request has used so far: attempts, and seconds waited on 429s."""

    attempt: int = 1
    rate_limits: int = 0
    rate_limit_waited: float = 0.0


class ApiClient:
    """A thread-safe client of the Genesys Cloud API for one region and OAuth client.

    Share one instance between threads: they share its connections, its token and
    its rate-limit pause. `sleep` is the only way it waits, so tests can record waits.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        client_id: str,
        client_secret: str,
        *,
        policy: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        max_connections: int = 16,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self._secrets = (client_secret,)
        self.client_id = client_id  # not a secret: the journal records it
        self.policy = policy or RetryPolicy()
        self.stats = ClientStats()
        self._sleep = sleep
        self._gate = _RateGate()
        self._served = threading.local()  # per thread: the end of the pause it waited
        proxies = not endpoint.is_loopback
        self._login_client = _new_client(
            endpoint.login_base, timeout, transport, 2, proxies=proxies
        )
        self.auth = ClientCredentialsAuth(
            endpoint, client_id, client_secret, send=self._send_login
        )
        self._client = _new_client(
            endpoint.api_base,
            timeout,
            transport,
            max_connections,
            proxies=proxies,
            auth=self.auth,
        )

    def __repr__(self) -> str:
        return f"ApiClient(endpoint={self.endpoint!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._client.close()
        self._login_client.close()

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a path and return its JSON body."""
        request = self._build("GET", path, params=params, accept="application/json")
        return json_body(request, self._call(request, write=False))

    def get_text(self, path: str) -> str:
        """GET a template and return its text byte for byte (HTML pages are refused)."""
        request = self._build("GET", path, accept="*/*")
        return text_body(request, self._call(request, write=False))

    def patch_json(self, path: str, body: Mapping[str, Any]) -> Any:
        """PATCH a JSON body; a lost answer raises AmbiguousWriteError, never resent."""
        request = self._build("PATCH", path, body=body, accept="application/json")
        return json_body(request, self._call(request, write=True))

    def post_json(self, path: str, body: Any = None) -> Any:
        """POST a JSON body (none when None); a lost answer is never resent."""
        request = self._build("POST", path, body=body, accept="application/json")
        return json_body(request, self._call(request, write=True))

    def _build(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        accept: str,
    ) -> httpx.Request:
        """Build a request for a path of this client's API host."""
        if not path.startswith("/") or path.startswith("//"):
            message = f"API paths start with one '/', got {path!r}"
            raise UsageError(message)
        return self._client.build_request(
            method, path, params=params, json=body, headers={"Accept": accept}
        )

    def _call(self, request: httpx.Request, *, write: bool) -> httpx.Response:
        """Send with retries, then raise the error an unsuccessful answer maps to."""
        response = self._send(self._client, request, write=write)
        raise_for_status(request, response)
        return response

    def _send_login(self, request: httpx.Request) -> httpx.Response:
        """Send a token request, retried like a read."""
        return self._send(self._login_client, request, write=False)

    def _send(
        self, client: httpx.Client, request: httpx.Request, *, write: bool
    ) -> httpx.Response:
        """Send until an answer that is not retried arrives, or give up."""
        tries = _Tries()
        while True:
            self._wait_for_gate()
            try:
                response = self._exchange(client, request)
            except httpx.TransportError as exc:
                error = self._after_transport_error(request, exc, tries, write=write)
                if error is None:
                    continue
                raise error from self._cause(request, exc)
            except httpx.RequestError as exc:
                failure = self._failure(request, exc)
                error = unreadable_answer(request, failure, write=write)
                raise error from self._cause(request, exc)
            if not self._should_retry(request, response, tries, write=write):
                return response

    def _failure(self, request: httpx.Request, exc: Exception) -> str:
        """Describe an exception for a message, with every secret it quotes hidden."""
        return f"{type(exc).__name__}: {self._scrub(request, str(exc))}"

    def _cause(self, request: httpx.Request, exc: Exception) -> Exception | None:
        """Return the exception to chain, or None when its text quotes a secret.

        The errors raised here are built in the frame that caught the exception, so
        that a traceback shown with its locals holds no copy of that text either.
        """
        text = f"{exc} {exc!r}"
        return exc if self._scrub(request, text) == text else None

    def _scrub(self, request: httpx.Request, text: str) -> str:
        """Replace the request's credentials and the client secret in a text.

        Exception texts may quote a header: h11 quotes a header value it refuses,
        Authorization included. Each secret is hidden as sent, as its credential
        after the scheme, and as Python would quote it (escapes included).
        """
        header = request.headers.get("authorization", "")
        found = {header, header.partition(" ")[2], *self._secrets}
        forms: set[str] = set()
        for secret in found:
            if len(secret.strip()) >= _SHORTEST_SECRET:
                forms |= {secret, secret.strip(), repr(secret)[1:-1]}
                forms.add(repr(secret.encode("utf-8", "replace"))[2:-1])
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, _REDACTED)
        return text

    def _wait_for_gate(self) -> None:
        """Wait once for the client-wide pause (rate limit or pacing) in force.

        A thread that already waited for this pause goes on: with the real clock the
        pause is over by then, and with a test's instant `sleep` it must not wait
        again for a pause it has served.
        """
        until, delay = self._gate.pending()
        if delay <= 0 or until <= getattr(self._served, "until", 0.0):
            return
        logger.debug("waiting %.1f s for the shared rate-limit pause", delay)
        self._wait(delay)
        self._served.until = until

    def _wait(self, seconds: float) -> None:
        """Sleep, counting the time in the statistics."""
        self.stats.record_wait(seconds)
        self._sleep(seconds)

    def _exchange(self, client: httpx.Client, request: httpx.Request) -> httpx.Response:
        """Send one request, count it, log it and pace the next ones by its headers."""
        started = time.perf_counter()
        with self._gate.in_flight():
            try:
                response = client.send(request)
            except httpx.TransportError as exc:
                self.stats.record_transport_error()
                shown = self._scrub(request, repr(exc))
                logger.debug("%s %s -> no answer (%s)", *describe(request), shown)
                raise
            self._gate.pace(response.headers)

        self.stats.record_response(response.status_code)
        logger.debug(
            "%s %s -> %d in %.0f ms (correlation id %s)",
            *describe(request),
            response.status_code,
            (time.perf_counter() - started) * 1000,
            correlation_id(response),
        )
        return response

    def _after_transport_error(
        self,
        request: httpx.Request,
        exc: httpx.TransportError,
        tries: _Tries,
        *,
        write: bool,
    ) -> TransportError | None:
        """Back off after a lost connection; return the error when that is unsafe or
        futile, for the caller to raise."""
        method, path = describe(request)
        refused = _certificate_failure(exc)
        if refused is not None:
            message = (
                f"the TLS certificate of {request.url.host} could not be verified "
                f"({refused.verify_message or refused}); nothing was sent: check the "
                "region (and SSL_CERT_FILE or SSL_CERT_DIR, if set)"
            )
            return TransportError(message)
        if write and not isinstance(exc, _NOT_SENT):
            message = (
                f"{method} {path} got no answer ({type(exc).__name__}); it may or may "
                "not have been applied: re-read before trying again"
            )
            return AmbiguousWriteError(message)
        attempts = self.policy.read_attempts
        if isinstance(exc, httpx.ConnectError):
            attempts = min(attempts, self.policy.connect_attempts)
        if not self._back_off(request, tries, type(exc).__name__, None, attempts):
            failure = self._failure(request, exc)
            return _no_answer(
                request, failure, connecting=_is_connect(exc), tries=tries
            )
        return None

    def _should_retry(
        self,
        request: httpx.Request,
        response: httpx.Response,
        tries: _Tries,
        *,
        write: bool,
    ) -> bool:
        """Decide whether to send the request again, waiting as the answer demands."""
        status = response.status_code
        if status == 429:
            self._wait_out_rate_limit(request, response, tries)
            return True
        if status not in _GATEWAY_FAILURES:
            return False
        if write:
            raise ambiguous_write(request, response)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        reason = f"{status} (correlation id {correlation_id(response)})"
        return self._back_off(request, tries, reason, retry_after)

    def _back_off(
        self,
        request: httpx.Request,
        tries: _Tries,
        reason: str,
        retry_after: float | None,
        attempts: int | None = None,
    ) -> bool:
        """Wait before the next attempt; return False when no attempt is left.

        `attempts` is the most this request may make (`read_attempts` unless given).
        """
        if attempts is None:
            attempts = self.policy.read_attempts
        if tries.attempt >= attempts:
            return False
        wait = (
            self.policy.backoff(tries.attempt) if retry_after is None else retry_after
        )
        wait = min(wait, self.policy.backoff_max)

        tries.attempt += 1
        logger.info(
            "retrying %s %s (attempt %d of %d) after %s; waiting %.1f s",
            *describe(request),
            tries.attempt,
            attempts,
            reason,
            wait,
        )
        self.stats.record_retry()
        self._wait(wait)
        return True

    def _wait_out_rate_limit(
        self, request: httpx.Request, response: httpx.Response, tries: _Tries
    ) -> None:
        """Pause every thread for `Retry-After`, or raise when the budget is spent."""
        header = response.headers.get("retry-after")
        retry_after = parse_retry_after(header)
        tries.rate_limits += 1
        if retry_after is None:
            retry_after = self.policy.backoff(tries.rate_limits)
        wait = max(retry_after, _SHORTEST_RATE_LIMIT_WAIT)
        if tries.rate_limit_waited + wait > self.policy.rate_limit_budget:
            raise _rate_limit_exhausted(request, response, tries, self.policy, wait)

        tries.rate_limit_waited += wait
        self.stats.record_retry(rate_limited=True)
        new = self._gate.pause_for(wait)
        logger.log(
            _pause_level(wait) if new else logging.INFO,
            "rate limited on %s %s (429, Retry-After %s, correlation id %s; "
            "429 number %d for this request); pausing all requests for %.1f s",
            *describe(request),
            header,
            correlation_id(response),
            tries.rate_limits,
            wait,
        )


def _certificate_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """Return the certificate verification failure behind an error, if there is one.

    A certificate that fails verification fails the same way on every attempt, so
    it is reported at once instead of being retried.
    """
    seen: BaseException | None = exc
    for _ in range(_LONGEST_ERROR_CHAIN):
        if seen is None or isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def parse_retry_after(value: str | None) -> float | None:
    """Read `Retry-After` as seconds or an HTTP date; None when missing or invalid."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until_date(text)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _seconds_until_date(text: str) -> float | None:
    """Read an HTTP date and return the seconds from now until then (never negative)."""
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _pause_level(seconds: float) -> int:
    """Return the log level of a new rate-limit pause: WARNING when it is long."""
    return logging.WARNING if seconds >= LONG_PAUSE_SECONDS else logging.INFO


def _correlation_suffix(identifier: str | None) -> str:
    """Return " (correlation id X)" for a log line, or nothing without an id."""
    return f" (correlation id {identifier})" if identifier else ""


def _rate_window(headers: httpx.Headers) -> tuple[int, float] | None:
    """Read (requests left, seconds to reset) from `inin-ratelimit-*` headers."""
    try:
        allowed = int(headers["inin-ratelimit-allowed"])
        count = int(headers["inin-ratelimit-count"])
        reset = float(headers["inin-ratelimit-reset"])
    except (KeyError, ValueError):
        return None
    return allowed - count, max(reset, 0.0)


def _new_client(
    base_url: str,
    timeout: float,
    transport: httpx.BaseTransport | None,
    max_connections: int,
    *,
    proxies: bool,
    auth: httpx.Auth | None = None,
) -> httpx.Client:
    """Create a pooled client that never follows redirects.

    With `proxies` (real endpoints) httpx reads the environment as usual, so
    `HTTPS_PROXY` and the like apply: a company proxy may be the only way out.
    Without it (loopback endpoints) no proxy variable is read, so the emulator's
    credentials never leave the machine through a proxy; `SSL_CERT_FILE` and
    `SSL_CERT_DIR` still choose the trusted authorities of a loopback https URL.
    """
    verify: ssl.SSLContext | bool = True
    if not proxies and base_url.startswith("https://"):
        verify = httpx.create_ssl_context(trust_env=True)
    return httpx.Client(
        base_url=base_url,
        auth=auth,
        transport=transport,
        verify=verify,
        trust_env=proxies,
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )


def _rate_limit_exhausted(
    request: httpx.Request,
    response: httpx.Response,
    tries: _Tries,
    policy: RetryPolicy,
    wait: float,
) -> ApiError:
    """Build the error for a request whose next rate-limit wait passes the budget."""
    method, path = describe(request)
    body = error_body(response)
    message = (
        f"{method} {path}: still rate limited (429) after waiting "
        f"{tries.rate_limit_waited:.0f} s, and {wait:.0f} s more would pass the wait "
        f"budget of {policy.rate_limit_budget:.0f} s; try again later"
    )
    return RateLimitedError(
        message,
        status=429,
        code=str(body["code"]) if body.get("code") else None,
        correlation_id=correlation_id(response),
        body=body or None,
    )


def _is_connect(exc: Exception) -> bool:
    """Tell whether a connection could not be opened at all."""
    return isinstance(exc, httpx.ConnectError)


def _no_answer(
    request: httpx.Request, failure: str, *, connecting: bool, tries: _Tries
) -> TransportError:
    """Build the error for a request that got no answer in all its attempts.

    `failure` describes the last exception, secrets already hidden.
    """
    method, path = describe(request)
    if connecting:
        message = (
            f"could not connect to {_base_url(request)} for {method} {path} after "
            f"{tries.attempt} attempts ({failure}): check the region or URL, and that "
            "the host is reachable"
        )
        return TransportError(message)
    message = (
        f"no answer from {request.url.host} for {method} {path} after "
        f"{tries.attempt} attempts: {failure}"
    )
    return TransportError(message)


def _base_url(request: httpx.Request) -> str:
    """Return the scheme, host and port a request went to, the port always shown."""
    url = request.url
    port = url.port or {"https": 443, "http": 80}.get(url.scheme)
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}:{port}"
