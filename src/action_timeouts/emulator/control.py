"""The HTTP control plane under `/__emulator__/`: how tests steer a running emulator.

Each route mirrors one `EmulatorState` method. The control plane needs no token, is
not rate limited, is left out of the request log, and is served only beside the
emulated API on the same (loopback) server.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from action_timeouts.emulator.errors import (
    EmulatedApiError,
    bad_request,
    json_form,
    not_found,
)
from action_timeouts.emulator.state import EmulatorState
from action_timeouts.emulator.wire import (
    CONTROL_PREFIX,
    json_response,
    read_json,
    read_json_object,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# fault kind -> EmulatorState method; the other JSON keys become its keyword arguments
FAULT_METHODS: dict[str, str] = {
    "429": "inject_429",
    "error_rate": "set_error_rate",
    "latency": "set_extra_latency",
    "drop": "inject_drops",
    "raw_response": "inject_raw_response",
    "commit_without_answer": "inject_commit_without_answer",
    "concurrent_edit": "concurrent_edit",
    "expire_tokens": "expire_tokens",
    "clear": "clear_faults",
}


def control_routes(state: EmulatorState) -> list[BaseRoute]:
    """Return the control-plane routes bound to a state."""
    control = ControlPlane(state)
    table: list[tuple[str, str, Callable[[Request], Any]]] = [
        ("/reset", "POST", control.reset),
        ("/actions", "POST", control.load_actions),
        ("/actions", "GET", control.stored_actions),
        ("/actions/{action_id}", "GET", control.stored_action),
        ("/actions/{action_id}/behaviour", "POST", control.set_behaviour),
        ("/drafts/{action_id}", "GET", control.stored_draft),
        ("/integrations", "POST", control.load_integrations),
        ("/integrations", "GET", control.stored_integrations),
        ("/clients", "POST", control.add_client),
        ("/options", "GET", control.get_options),
        ("/options", "POST", control.set_options),
        ("/faults", "POST", control.add_fault),
        ("/requests", "GET", control.request_log),
        ("/requests/count", "GET", control.request_count),
    ]
    return [
        Route(CONTROL_PREFIX + path, handler, methods=[method])
        for path, method, handler in table
    ]


class ControlPlane:
    """Handlers that translate control-plane requests into state calls."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    async def reset(self, _request: Request) -> Response:
        """Forget the org's actions, drafts, faults and log."""
        self._state.reset()
        return json_response({"reset": True})

    async def load_actions(self, request: Request) -> Response:
        """Store action documents as they are; send a list or {"actions": [...]}."""
        body = await read_json(request)
        docs = body.get("actions") if isinstance(body, dict) else body
        if not isinstance(docs, list):
            raise bad_request("Send a JSON list of action documents.")
        ids = _checked(lambda: self._state.load_actions(docs))
        return json_response({"ids": ids})

    async def stored_actions(self, _request: Request) -> Response:
        """Return the stored truth of every action, templates inline."""
        return json_response(self._state.stored_actions())

    async def stored_action(self, request: Request) -> Response:
        """Return the stored truth of one action."""
        action_id = request.path_params["action_id"]
        try:
            return json_response(self._state.stored_action(action_id))
        except KeyError:
            raise not_found(f"Action {action_id} is not stored.") from None

    async def stored_draft(self, request: Request) -> Response:
        """Return the stored draft of one action."""
        action_id = request.path_params["action_id"]
        try:
            return json_response(self._state.stored_draft(action_id))
        except KeyError:
            raise not_found(f"Action {action_id} has no draft.") from None

    async def load_integrations(self, request: Request) -> Response:
        """Store integrations; send a list or {"integrations": [...]}."""
        body = await read_json(request)
        records = body.get("integrations") if isinstance(body, dict) else body
        if not isinstance(records, list):
            raise bad_request("Send a JSON list of integrations (id, name, type).")
        ids = _checked(lambda: self._state.load_integrations(records))
        return json_response({"ids": ids})

    async def stored_integrations(self, _request: Request) -> Response:
        """Return the stored integration records."""
        return json_response(self._state.stored_integrations())

    async def set_behaviour(self, request: Request) -> Response:
        """Set the simulated latency and failure rate of an action's endpoint."""
        body = await read_json_object(request)
        action_id = request.path_params["action_id"]
        _checked(lambda: self._state.set_action_behaviour(action_id, **body))
        return json_response({"action_id": action_id, **body})

    async def add_client(self, request: Request) -> Response:
        """Register an OAuth client: {"client_id", "client_secret", "permissions"}."""
        body = await read_json_object(request)
        _checked(lambda: self._state.add_client(**body))
        return json_response({"client_id": body["client_id"]})

    async def get_options(self, _request: Request) -> Response:
        """Return the options in force."""
        return json_response(dataclasses.asdict(self._state.options))

    async def set_options(self, request: Request) -> Response:
        """Switch option fields at run time; the body maps field names to values."""
        body = await read_json_object(request)
        options = _checked(lambda: self._state.set_options(**body))
        return json_response(dataclasses.asdict(options))

    async def add_fault(self, request: Request) -> Response:
        """Queue or switch on a fault: {"kind": ..., other keys are its parameters}."""
        body = await read_json_object(request)
        kind = str(body.pop("kind", ""))
        if kind not in FAULT_METHODS:
            known = ", ".join(FAULT_METHODS)
            message = f"Unknown fault kind {json_form(kind)}; use one of {known}."
            raise bad_request(message)
        method = getattr(self._state, FAULT_METHODS[kind])
        _checked(lambda: method(**body))
        logger.info("fault added: %s %s", kind, body)
        return json_response({"kind": kind, **body})

    async def request_log(self, _request: Request) -> Response:
        """Return the log of emulated requests."""
        return json_response(self._state.request_log())

    async def request_count(self, request: Request) -> Response:
        """Count logged requests, optionally by `method` and `path_prefix`."""
        params = request.query_params
        count = self._state.request_count(
            params.get("method"), params.get("path_prefix")
        )
        return json_response({"count": count})


def _checked(call: Callable[[], T]) -> T:
    try:
        return call()
    except EmulatedApiError:
        raise
    except (TypeError, ValueError, KeyError) as error:
        raise bad_request(f"Invalid control request: {error}") from error
