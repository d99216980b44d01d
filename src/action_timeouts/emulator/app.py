"""The emulated HTTP API: login, the data-actions routes and the integrations list.

Every `/api/v2` route runs the same gate first: bearer token (401), rate-limit
window and injected throttling (429 or 5xx), then the endpoint's permissions with
ANY semantics (403). Routes the emulator does not know answer 404 `not.found`
before any authentication.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from action_timeouts.emulator import documents, execution, integrations, listing
from action_timeouts.emulator.control import control_routes
from action_timeouts.emulator.errors import (
    EmulatedApiError,
    EmulatedTokenError,
    bad_request,
    json_form,
    not_found,
    status_problem,
)
from action_timeouts.emulator.state import (
    ADD,
    DELETE,
    EDIT,
    EXECUTE,
    EXECUTE_ONLY,
    INTEGRATION_VIEW,
    VIEW,
    EmulatorState,
)
from action_timeouts.emulator.wire import (
    EmulatorWire,
    context_of,
    json_response,
    problem_response,
    read_json,
    read_json_object,
)

logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"
Handler = Callable[[Request], Awaitable[Response]]


def build_app(state: EmulatorState) -> ASGIApp:
    """Return the emulator's ASGI application, serving the API and the control plane."""
    api = ActionsApi(state)
    app = Starlette(
        routes=[*api.routes(), *control_routes(state)],
        exception_handlers={
            EmulatedApiError: _problem_handler,
            EmulatedTokenError: _token_problem_handler,
            HTTPException: _unknown_route_handler,
            ClientDisconnect: _client_gone_handler,
            Exception: _unexpected_handler,
        },
    )
    app.router.redirect_slashes = False
    return EmulatorWire(state, app)


async def _problem_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, EmulatedApiError)
    return problem_response(error, context_of(request).correlation_id)


async def _token_problem_handler(_request: Request, error: Exception) -> Response:
    assert isinstance(error, EmulatedTokenError)
    return JSONResponse(error.body(), status_code=error.status)


async def _unknown_route_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code in (404, 405):
        message = (
            f"The emulator does not implement {request.method} {request.url.path}; "
            "see the emulator's coverage list for the routes it serves."
        )
        problem = not_found(message)
    else:
        problem = status_problem(error.status_code, str(error.detail))
    return problem_response(problem, context_of(request).correlation_id)


async def _client_gone_handler(connection: HTTPConnection, _error: Exception) -> None:
    """Answer nothing, quietly, when the client hung up before its body arrived.

    A killed client is an everyday event for the emulator (the crash tests do it on
    purpose), not a failure of the emulator; the request is logged with status 499.
    """
    method = connection.scope.get("method", "")
    logger.debug("client disconnected during %s %s", method, connection.url.path)
    context_of(connection).client_closed = True


async def _unexpected_handler(request: Request, error: Exception) -> Response:
    logger.error("emulator failed on %s %s", request.method, request.url.path)
    problem = status_problem(500, f"The emulator failed: {error}")
    return problem_response(problem, context_of(request).correlation_id)


class ActionsApi:
    """The route handlers of login, the data-actions API and the integrations list."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    def routes(self) -> list[BaseRoute]:
        """Return every emulated route, the fixed paths before the `{id}` ones."""
        actions = documents.ACTIONS_PATH
        one = actions + "/{action_id}"
        draft = one + "/draft"
        table: list[tuple[str, str, tuple[str, ...], Handler]] = [
            (
                integrations.INTEGRATIONS_PATH,
                "GET",
                INTEGRATION_VIEW,
                self.list_integrations,
            ),
            (actions, "GET", VIEW, self.list_actions),
            (actions, "POST", ADD, self.create_action),
            (actions + "/categories", "GET", VIEW, self.list_categories),
            (actions + "/drafts", "GET", VIEW, self.list_drafts),
            (actions + "/drafts", "POST", ADD, self.create_draft_only_action),
            (one, "GET", VIEW, self.get_action),
            (one, "PATCH", EDIT, self.patch_action),
            (one, "DELETE", DELETE, self.delete_action),
            (one + "/execute", "POST", EXECUTE, self.execute),
            (one + "/test", "POST", EXECUTE, self.test),
            (one + "/function", "GET", VIEW, self.get_function),
            (one + "/schemas/{file_name}", "GET", VIEW, self.get_schema),
            (one + "/templates/{file_name}", "GET", VIEW, self.get_template),
            (draft, "GET", VIEW, self.get_draft),
            (draft, "POST", EDIT, self.create_draft),
            (draft, "PATCH", EDIT, self.patch_draft),
            (draft, "DELETE", DELETE, self.delete_draft),
            (draft + "/publish", "POST", EDIT, self.publish_draft),
            (draft + "/validation", "GET", EDIT, self.validate_draft),
            (draft + "/test", "POST", EXECUTE_ONLY, self.test_draft),
            (draft + "/function", "GET", VIEW, self.get_draft_function),
            (draft + "/function", "PUT", EDIT, self.put_draft_function),
            (draft + "/schemas/{file_name}", "GET", VIEW, self.get_draft_schema),
            (draft + "/templates/{file_name}", "GET", VIEW, self.get_draft_template),
        ]
        routes: list[BaseRoute] = [Route(TOKEN_PATH, self.token, methods=["POST"])]
        for path, method, permissions, handler in table:
            endpoint = self._gated(permissions, handler)
            routes.append(Route(path, endpoint, methods=[method]))
        return routes

    def _gated(self, permissions: tuple[str, ...], handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            self._admit(request, permissions)
            return await handler(request)

        return endpoint

    def _admit(self, request: Request, permissions: tuple[str, ...]) -> None:
        context = context_of(request)
        client_id = self._state.authenticate(request.headers.get("authorization"))
        context.client_id = client_id
        context.rate, context.early_retry = self._state.count_request(client_id)
        self._state.throttle(client_id, request.url.path, context.rate)
        self._state.require_permission(client_id, permissions)

    def _mark_commit(self, request: Request) -> None:
        if self._state.take_commit_drop():
            context_of(request).drop_answer = True

    # -- login ---------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        """Issue a client-credentials token for HTTP Basic credentials."""
        self._state.throttle(None, request.url.path, None)
        client_id, client_secret = self._basic_credentials(request)
        self._state.verify_client(client_id, client_secret)
        context_of(request).rate = self._state.rate_status(client_id)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        grant_type = form.get("grant_type", [""])[0]
        if grant_type != "client_credentials":
            description = f"grant_type {json_form(grant_type)} is not supported"
            raise EmulatedTokenError(400, "unsupported_grant_type", description)
        token, lifetime = self._state.issue_token(client_id, client_secret)
        body = {"access_token": token, "token_type": "bearer", "expires_in": lifetime}
        return json_response(body)

    def _basic_credentials(self, request: Request) -> tuple[str, str]:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        client_id, separator, client_secret = decoded.partition(":")
        if scheme.lower() != "basic" or not separator:
            status = self._state.options.token_error_status
            raise EmulatedTokenError(status, "invalid_client", "authentication failed")
        return client_id, client_secret

    # -- listings ------------------------------------------------------------------

    async def list_actions(self, request: Request) -> Response:
        """List published actions with the platform's filters and paging."""
        return self._listing(request, drafts=False)

    async def list_drafts(self, request: Request) -> Response:
        """List drafts with the same filters and paging as actions."""
        return self._listing(request, drafts=True)

    def _listing(self, request: Request, *, drafts: bool) -> Response:
        params = dict(request.query_params)
        options = self._state.options
        query = listing.parse_action_query(params, options.max_page_size)

        def page_of_actions(
            docs: Sequence[Mapping[str, Any]],
        ) -> tuple[list[dict[str, Any]], int]:
            chosen = listing.select_actions(docs, query)
            shown = [
                documents.render_action(
                    doc,
                    include_config=query.include_config,
                    include_contract=options.contract_without_expand,
                    draft=drafts,
                    model_fields_only=options.model_fields_only,
                )
                for doc in listing.page_of(chosen, query.page)
            ]
            return shown, len(chosen)

        entities, total = self._state.read_documents(page_of_actions, drafts=drafts)
        page = listing.envelope(
            entities,
            query.page,
            total=total,
            path=request.url.path,
            params=params,
            include_total=options.include_total,
        )
        return json_response(page)

    async def list_integrations(self, request: Request) -> Response:
        """List the org's integrations, paged as the actions are, in stored order."""
        params = dict(request.query_params)
        options = self._state.options
        page = listing.parse_page(params, options.max_page_size)
        records = self._state.stored_integrations()
        entities = [
            integrations.render_integration(record)
            for record in listing.page_of(records, page)
        ]
        envelope = listing.envelope(
            entities,
            page,
            total=len(records),
            path=request.url.path,
            params=params,
            include_total=options.include_total,
        )
        return json_response(envelope)

    async def list_categories(self, request: Request) -> Response:
        """List the distinct categories of the published actions (no page links)."""
        params = dict(request.query_params)
        options = self._state.options
        names = self._state.read_documents(
            lambda docs: listing.category_names(docs, params)
        )
        page = listing.parse_page(params, options.max_page_size)
        envelope = listing.envelope(
            listing.page_of(names, page),
            page,
            total=len(names),
            path=request.url.path,
            params=params,
            include_total=options.include_total,
            links=False,
        )
        return json_response(envelope)

    # -- one action ----------------------------------------------------------------

    async def get_action(self, request: Request) -> Response:
        """Return one published action; `config` and `contract` only on request."""
        doc = self._state.get_action(request.path_params["action_id"])
        return json_response(self._shown(request, doc, draft=False))

    async def get_draft(self, request: Request) -> Response:
        """Return an action's draft."""
        doc = self._state.get_action(request.path_params["action_id"], draft=True)
        return json_response(self._shown(request, doc, draft=True))

    def _shown(self, request: Request, doc: dict[str, Any], *, draft: bool) -> Any:
        params = request.query_params
        expand = {part.strip() for part in params.get("expand", "").split(",")}
        with_contract = (
            "contract" in expand or self._state.options.contract_without_expand
        )
        include_config = listing.parse_bool(dict(params), "includeConfig", False)
        return documents.render_action(
            doc,
            include_config=include_config,
            include_contract=with_contract,
            draft=draft,
            model_fields_only=self._state.options.model_fields_only,
        )

    async def create_action(self, request: Request) -> Response:
        """Create a published action at version 1."""
        body = await read_json_object(request)
        doc = self._state.create_action(body)
        return json_response(_full(doc, draft=False))

    async def create_draft_only_action(self, request: Request) -> Response:
        """Create a new action that exists only as a draft."""
        body = await read_json_object(request)
        doc = self._state.create_action(body, draft=True)
        return json_response(_full(doc, draft=True))

    async def patch_action(self, request: Request) -> Response:
        """Update a published action (needs its current `version`)."""
        body = await read_json_object(request)
        doc = self._state.patch_action(request.path_params["action_id"], body)
        self._mark_commit(request)
        return json_response(_full(doc, draft=False))

    async def delete_action(self, request: Request) -> Response:
        """Delete a published action."""
        self._state.delete_action(request.path_params["action_id"])
        return Response(status_code=204)

    # -- drafts --------------------------------------------------------------------

    async def create_draft(self, request: Request) -> Response:
        """Create a draft as a copy of the published action."""
        doc = self._state.create_draft(request.path_params["action_id"])
        return json_response(_full(doc, draft=True))

    async def patch_draft(self, request: Request) -> Response:
        """Update a draft (needs the draft's `version`)."""
        body = await read_json_object(request)
        doc = self._state.patch_draft(request.path_params["action_id"], body)
        self._mark_commit(request)
        return json_response(_full(doc, draft=True))

    async def delete_draft(self, request: Request) -> Response:
        """Delete a draft."""
        self._state.delete_draft(request.path_params["action_id"])
        return Response(status_code=204)

    async def publish_draft(self, request: Request) -> Response:
        """Publish a draft sent with its exact version."""
        body = await read_json_object(request)
        doc = self._state.publish_draft(request.path_params["action_id"], body)
        self._mark_commit(request)
        return json_response(_full(doc, draft=False))

    async def validate_draft(self, request: Request) -> Response:
        """Return the DraftValidationResult of a draft."""
        result = self._state.validate_draft(request.path_params["action_id"])
        return json_response(result)

    # -- functions -----------------------------------------------------------------

    async def get_function(self, request: Request) -> Response:
        """Return the function settings of a published function action."""
        return self._function(request, draft=False)

    async def get_draft_function(self, request: Request) -> Response:
        """Return the function settings of a draft."""
        return self._function(request, draft=True)

    def _function(self, request: Request, *, draft: bool) -> Response:
        action_id = request.path_params["action_id"]
        self._state.get_action(action_id, draft=draft)
        if self._state.action_kind(action_id) != "function":
            raise not_found(f"Action {action_id} is not a function action.")
        seconds = self._state.function_timeout(action_id, draft=draft)
        return json_response({"timeoutSeconds": seconds})

    async def put_draft_function(self, request: Request) -> Response:
        """Set the function settings of a draft; `timeoutSeconds` must be 1-15."""
        body = await read_json_object(request)
        action_id = request.path_params["action_id"]
        seconds = self._state.set_function_timeout(
            action_id, body.get("timeoutSeconds"), draft=True
        )
        return json_response({"timeoutSeconds": seconds})

    # -- files ---------------------------------------------------------------------

    async def get_template(self, request: Request) -> Response:
        """Return a template of a published action as its exact text."""
        return self._template(request, draft=False)

    async def get_draft_template(self, request: Request) -> Response:
        """Return a template of a draft as its exact text."""
        return self._template(request, draft=True)

    def _template(self, request: Request, *, draft: bool) -> Response:
        action_id = request.path_params["action_id"]
        file_name = request.path_params["file_name"]
        doc = self._state.get_action(action_id, draft=draft)
        text = documents.template_text(doc, file_name)
        if text is None:
            raise not_found(f"Action {action_id} has no template {file_name}.")
        return Response(text.encode("utf-8"), media_type="text/plain; charset=utf-8")

    async def get_schema(self, request: Request) -> Response:
        """Return a schema of a published action's contract."""
        return self._schema(request, draft=False)

    async def get_draft_schema(self, request: Request) -> Response:
        """Return a schema of a draft's contract."""
        return self._schema(request, draft=True)

    def _schema(self, request: Request, *, draft: bool) -> Response:
        action_id = request.path_params["action_id"]
        file_name = request.path_params["file_name"]
        doc = self._state.get_action(action_id, draft=draft)
        schema = documents.schema_document(doc, file_name)
        if schema is None:
            raise not_found(f"Action {action_id} has no schema {file_name}.")
        return json_response(schema)

    # -- execution -----------------------------------------------------------------

    async def execute(self, request: Request) -> Response:
        """Run an action in simulation; 200 with its result, else an error answer."""
        body = await read_json(request)
        run = await self._run(request, body, draft=False)
        if run.outcome != "success":
            status = self._state.options.execution_timeout_status
            raise execution.execution_problem(run, status)
        return json_response(run.result)

    async def test(self, request: Request) -> Response:
        """Test a published action; always 200 with a TestExecutionResult."""
        return await self._test(request, draft=False)

    async def test_draft(self, request: Request) -> Response:
        """Test a draft; always 200 with a TestExecutionResult."""
        return await self._test(request, draft=True)

    async def _test(self, request: Request, *, draft: bool) -> Response:
        body = await read_json(request)
        run = await self._run(request, body, draft=draft)
        result = execution.build_test_result(
            run,
            body,
            self._state.options.execution_timeout_status,
            context_of(request).correlation_id,
        )
        return json_response(result)

    async def _run(
        self, request: Request, body: Any, *, draft: bool
    ) -> execution.Execution:
        if not isinstance(body, dict):
            raise bad_request("The input of an action must be a JSON object.")
        run = self._state.execute(request.path_params["action_id"], draft=draft)
        await asyncio.sleep(run.real_wait_seconds)
        return run


def _full(doc: dict[str, Any], *, draft: bool) -> Any:
    return documents.render_action(
        doc, include_config=True, include_contract=True, draft=draft
    )
