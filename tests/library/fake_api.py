"""A scripted stand-in for the Genesys login and API hosts, for MockTransport."""

from __future__ import annotations

import base64
import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import httpx

from action_timeouts.http import ApiClient, RetryPolicy
from action_timeouts.regions import Endpoint

ENDPOINT = Endpoint(
    name="eu-west-1",
    api_base="https://api.example.test",
    login_base="https://login.example.test",
)
CLIENT_ID = "client-id-1"
CLIENT_SECRET = "client-secret-that-must-never-be-shown"

# A scripted answer: a response, an exception to raise, or a function of the request.
Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def error_body(status: int, code: str, message: str, context_id: str = "") -> Any:
    """Build a Genesys ErrorBody."""
    return {
        "status": status,
        "code": code,
        "message": message,
        "contextId": context_id,
        "details": [],
        "errors": [],
    }


def json_response(status: int, body: Any, **headers: str) -> httpx.Response:
    """Build a JSON response with extra headers (underscores become dashes)."""
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={
            "content-type": "application/json",
            **{name.replace("_", "-"): value for name, value in headers.items()},
        },
    )


class FakeGenesys:
    """Answers token requests and API calls, following a script where one is given."""

    def __init__(self, expires_in: Any = 86400) -> None:
        self.expires_in = expires_in
        self.requests: list[httpx.Request] = []
        self.logins = 0
        self.valid_tokens: set[str] = set()
        self.on_login: Callable[[], None] | None = None
        self.on_rejected_token: Callable[[], None] | None = None
        self._scripts: dict[tuple[str, str], deque[Answer]] = defaultdict(deque)
        self._lock = threading.Lock()

    def script(self, method: str, path: str, *answers: Answer) -> None:
        """Queue answers for the next requests to a method and path."""
        with self._lock:
            self._scripts[(method, path)].extend(answers)

    def expire_tokens(self) -> None:
        """Make every token issued so far invalid."""
        with self._lock:
            self.valid_tokens.clear()

    def sent(self, method: str | None = None, path: str | None = None) -> list[Any]:
        """Return the requests received, optionally of one method and path."""
        return [
            request
            for request in self.requests
            if (method is None or request.method == method)
            and (path is None or request.url.path == path)
        ]

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the MockTransport entry point)."""
        copy = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=request.content,
        )
        with self._lock:
            self.requests.append(copy)
            scripted = self._scripts[(request.method, request.url.path)]
            answer = scripted.popleft() if scripted else None
        if request.url.path == "/oauth/token":
            return self._answer(answer, request) if answer else self._login(request)
        if not self._authorised(request):
            if self.on_rejected_token is not None:
                self.on_rejected_token()
            return json_response(
                401, error_body(401, "bad.credentials", "Invalid login credentials.")
            )
        if answer is not None:
            return self._answer(answer, request)
        return json_response(
            200, {"path": request.url.path}, inin_correlation_id="c-ok"
        )

    def _answer(self, answer: Answer, request: httpx.Request) -> httpx.Response:
        """Turn a scripted answer into a response (or raise it)."""
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    def _login(self, request: httpx.Request) -> httpx.Response:
        """Issue a new token when the Basic credentials and grant are right."""
        if self.on_login is not None:
            self.on_login()
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        grant = request.content == b"grant_type=client_credentials"
        if request.headers.get("authorization") != f"Basic {expected}" or not grant:
            body = {"error": "invalid_client", "description": "authentication failed"}
            return json_response(401, body)
        with self._lock:
            self.logins += 1
            token = f"token-{self.logins}"
            self.valid_tokens.add(token)
        body = {"access_token": token, "token_type": "bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        return json_response(200, body)

    def _authorised(self, request: httpx.Request) -> bool:
        """Tell whether the request carries a valid bearer token."""
        header = request.headers.get("authorization", "")
        with self._lock:
            return header.startswith("Bearer ") and header[7:] in self.valid_tokens


def make_client(
    fake: FakeGenesys,
    sleeps: list[float] | None = None,
    *,
    secret: str = CLIENT_SECRET,
    sleep: Callable[[float], None] | None = None,
    **policy: Any,
) -> ApiClient:
    """Build an ApiClient on the fake, recording waits instead of sleeping."""
    recorded = [] if sleeps is None else sleeps
    return ApiClient(
        ENDPOINT,
        CLIENT_ID,
        secret,
        policy=RetryPolicy(jitter=False, **policy),
        transport=httpx.MockTransport(fake.handler),
        sleep=sleep or recorded.append,
    )
