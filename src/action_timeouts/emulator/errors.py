"""Error answers of the emulator, shaped like the platform's ErrorBody."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

CODES_BY_STATUS: dict[int, str] = {
    400: "bad.request",
    401: "bad.credentials",
    403: "not.authorized",
    404: "not.found",
    408: "request.timeout",
    409: "general.conflict",
    415: "unsupported.media.type",
    429: "too.many.requests",
    500: "internal.server.error",
    502: "bad.gateway",
    503: "service.unavailable",
    504: "request.timeout",
}


def json_form(value: object) -> str:
    """Return a received value as an error message shows it, in JSON's words.

    A scalar reads as JSON writes it (`true`, `null`, `1.5`, `"GET"`); an object or
    an array only by its kind, since it may be large.
    """
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return "a value JSON cannot show"


def json_kind(value: object) -> str:
    """Return what kind of JSON value a value is: an object, a string, null..."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return json_form(value)


class EmulatedApiError(Exception):
    """An error answer of the API: HTTP status, platform error code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        template: str | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        short_body: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.template = template if template is not None else message
        self.params = dict(params or {})
        self.headers = dict(headers or {})
        self.short_body = short_body

    def body(self, correlation_id: str) -> dict[str, Any]:
        """Return the JSON error body, with `contextId` set to the correlation id."""
        if self.short_body:
            return {
                "message": self.message,
                "code": self.code,
                "status": self.status,
                "contextId": correlation_id,
                "details": [],
                "errors": [],
            }
        return {
            "message": self.message,
            "code": self.code,
            "status": self.status,
            "messageWithParams": self.template,
            "messageParams": self.params,
            "contextId": correlation_id,
            "details": [],
            "errors": [],
        }


class EmulatedTokenError(Exception):
    """An error answer of the login endpoint, in the OAuth `error` shape."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        """Return the JSON error body of the login endpoint."""
        return {"error": self.error, "description": self.description}


def bad_request(message: str) -> EmulatedApiError:
    """Return a 400 `bad.request` problem with the given message."""
    return EmulatedApiError(400, "bad.request", message)


def not_found(message: str) -> EmulatedApiError:
    """Return a 404 `not.found` problem with the given message."""
    return EmulatedApiError(404, "not.found", message)


def status_problem(status: int, message: str) -> EmulatedApiError:
    """Return a problem for an arbitrary status, with the code the platform uses."""
    code = CODES_BY_STATUS.get(status)
    if code is None:
        code = "internal.server.error" if status >= 500 else "bad.request"
    return EmulatedApiError(status, code, message)


def rate_limited(retry_after: str | None, seconds_text: str) -> EmulatedApiError:
    """Return the normalized 429 answer, with `Retry-After` when one is given."""
    message = (
        "Rate limit exceeded the maximum. "
        f"Retry the request in [{seconds_text}] seconds"
    )
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return EmulatedApiError(
        429,
        "too.many.requests.retry.after",
        message,
        headers=headers,
        short_body=True,
    )


def missing_permissions(permissions: tuple[str, ...]) -> EmulatedApiError:
    """Return the 403 answer of an endpoint that needs any one of `permissions`."""
    listed = ", ".join(permissions)
    prefix = (
        "Unable to perform the requested action. You must have at least one of "
        "the following permissions assigned: "
    )
    return EmulatedApiError(
        403,
        "missing.any.permissions",
        f"{prefix}[{listed}]",
        template=prefix + "[{permissions}]",
        params={"permissions": listed},
    )
