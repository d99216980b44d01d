"""How the emulator meets the wire: correlation ids, headers, logging and drops.

`EmulatorWire` wraps the routing app. It gives every request a correlation id,
adds `ININ-Correlation-Id` to every answer and the rate-limit headers to every
answer of the emulated API and login (the window of the client that the token or
the credentials name, else a fresh window), logs each emulated request before its
answer leaves, adds injected latency, sends queued raw answers in place of the
API's, and drops connections on demand by closing the server's transport before
any byte of an answer is written. Dropping
needs uvicorn's transport; under another server it raises `ConnectionDropError`,
which that server turns into a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from action_timeouts.emulator.errors import EmulatedApiError, bad_request, json_form
from action_timeouts.emulator.faults import RawResponse
from action_timeouts.emulator.state import EmulatorState, RateStatus

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/__emulator__"
CONTEXT_KEY = "action_timeouts.emulator"
CORRELATION_HEADER = "ININ-Correlation-Id"
# Logged for a client that hung up before its request arrived in full: nothing of it
# was applied or answered ("client closed request", as nginx logs it). A dropped
# answer is logged as None instead, since that request may have been carried out.
CLIENT_CLOSED_STATUS = 499
_DISCONNECT_WAIT_SECONDS = 1.0


@dataclass
class RequestContext:
    """What the emulator learns about one request while answering it."""

    correlation_id: str
    arrival: float
    client_id: str | None = None
    rate: RateStatus | None = None
    early_retry: bool = False
    drop_answer: bool = False
    client_closed: bool = False


class ConnectionDropError(RuntimeError):
    """The server in use does not let the emulator close a connection silently."""


def context_of(request: HTTPConnection) -> RequestContext:
    """Return the context `EmulatorWire` attached to a request."""
    context: RequestContext = request.scope[CONTEXT_KEY]
    return context


def json_response(data: Any, status: int = 200) -> Response:
    """Return a JSON answer."""
    return JSONResponse(data, status_code=status)


def problem_response(problem: EmulatedApiError, correlation_id: str) -> Response:
    """Return the JSON error answer of a problem, with its extra headers."""
    body = problem.body(correlation_id)
    return JSONResponse(body, status_code=problem.status, headers=problem.headers)


async def read_json(request: Request, *, required: bool = True) -> Any:
    """Return the parsed JSON body (None when optional and empty); 415 or 400 else."""
    raw = await request.body()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not raw and not required:
        return None
    if media_type != "application/json" and not media_type.endswith("+json"):
        shown = media_type or "none"
        message = f"Unsupported media type {json_form(shown)}; send application/json."
        raise EmulatedApiError(415, "unsupported.media.type", message)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise bad_request(f"The request body is not valid JSON: {error}") from error


async def read_json_object(
    request: Request, *, required: bool = True
) -> dict[str, Any]:
    """Return the JSON body, which must be an object ({} when optional and empty)."""
    body = await read_json(request, required=required)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


async def drop_connection(send: Send, receive: Receive) -> None:
    """Close the client's connection without answering, then wait until it is gone."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if not isinstance(transport, asyncio.BaseTransport):
        raise ConnectionDropError("this server does not expose its transport")
    transport.close()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_DISCONNECT_WAIT_SECONDS):
            while (await receive())["type"] != "http.disconnect":
                pass


class EmulatorWire:
    """The outer ASGI layer around the emulator's routes."""

    def __init__(self, state: EmulatorState, app: ASGIApp) -> None:
        self._state = state
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ASGI call."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        context = RequestContext(str(uuid.uuid4()), self._state.now())
        scope[CONTEXT_KEY] = context
        emulated = not scope["path"].startswith(CONTROL_PREFIX)
        exchange = _Exchange(self._state, scope, send, receive, logged=emulated)
        if emulated and await self._faulted(exchange, scope["method"], scope["path"]):
            return

        delay = self._state.extra_latency_seconds() if emulated else 0.0
        if delay > 0:
            await asyncio.sleep(delay)
        await self._app(scope, receive, exchange.send)
        exchange.record(CLIENT_CLOSED_STATUS if context.client_closed else None)

    async def _faulted(self, exchange: _Exchange, method: str, path: str) -> bool:
        """Drop the request or send a queued raw answer; tell whether one happened."""
        if self._state.take_drop(method, path):
            logger.info("dropping %s %s unanswered", method, path)
            await exchange.drop()
            return True
        raw = self._state.take_raw_response(method, path)
        if raw is None:
            return False
        logger.info("answering %s %s with a raw %d", method, path, raw.status)
        await exchange.answer_raw(raw)
        return True


class _Exchange:
    """One request's way out: logged before its first byte, with headers, or dropped."""

    def __init__(
        self,
        state: EmulatorState,
        scope: Scope,
        send: Send,
        receive: Receive,
        *,
        logged: bool,
    ) -> None:
        self._state = state
        self._scope = scope
        self._context: RequestContext = scope[CONTEXT_KEY]
        self._send = send
        self._receive = receive
        self._emulated = logged
        self._recorded = not logged
        self._dropped = False

    async def send(self, message: Message) -> None:
        """Pass a message on, adding headers to the start of the answer."""
        if self._dropped:
            return
        if message["type"] == "http.response.start":
            if self._context.drop_answer:
                logger.info("dropping the answer of a committed write")
                await self.drop()
                return
            self.record(message["status"])
            if self._emulated and self._context.rate is None:
                self._context.rate = self._state.rate_status(self._client())
            message = _with_headers(message, self._context)
        await self._send(message)

    def _client(self) -> str | None:
        """Return the client the request comes from, when its token tells."""
        if self._context.client_id is not None:
            return self._context.client_id
        authorization = Headers(scope=self._scope).get("authorization")
        return self._state.token_client(authorization)

    async def drop(self) -> None:
        """Log the request as unanswered and close its connection."""
        self._dropped = True
        self.record(None)
        await drop_connection(self._send, self._receive)

    async def answer_raw(self, raw: RawResponse) -> None:
        """Log the request and send the raw answer exactly as queued."""
        self.record(raw.status)
        start = {"type": "http.response.start", "status": raw.status}
        await self._send({**start, "headers": list(raw.headers)})
        await self._send({"type": "http.response.body", "body": raw.body})

    def record(self, status: int | None) -> None:
        """Append the request to the log, once, before the client can see an answer."""
        if self._recorded:
            return
        self._recorded = True
        context = self._context
        self._state.record_request(
            {
                "method": self._scope["method"],
                "path": self._scope["path"],
                "query": self._scope.get("query_string", b"").decode("latin-1"),
                "status": status,
                "client_id": context.client_id,
                "correlation_id": context.correlation_id,
                "time": context.arrival,
                "early_retry": context.early_retry,
            }
        )


def _with_headers(message: Message, context: RequestContext) -> Message:
    headers = list(message.get("headers", []))
    headers.append(
        (CORRELATION_HEADER.encode("ascii"), context.correlation_id.encode())
    )
    if context.rate is not None:
        rate = context.rate
        headers.append((b"inin-ratelimit-allowed", str(rate.allowed).encode()))
        headers.append((b"inin-ratelimit-count", str(rate.count).encode()))
        headers.append((b"inin-ratelimit-reset", str(rate.reset).encode()))
    return {**message, "headers": headers}
