"""Reading the API's answers: bodies, correlation ids and the error each one means.

`http.ApiClient` decides when to send and resend; this module turns the answer it
settles on into a JSON body, a template's text, or the library error of
`errors.py` that the status (or an answer of the wrong kind) stands for.
"""

from __future__ import annotations

from typing import Any

import httpx

from action_timeouts.errors import (
    AmbiguousWriteError,
    ApiError,
    AuthenticationError,
    BadResponseError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TransportError,
)

__all__ = [
    "ambiguous_write",
    "correlation_id",
    "describe",
    "error_body",
    "json_body",
    "raise_for_status",
    "text_body",
    "unreadable_answer",
]

_MAX_MESSAGE_CHARACTERS = 300
# The content types a template may come with (the API sends text/plain). Any other
# answer, such as a proxy's HTML login page or a gateway's JSON, would otherwise be
# written back into the action as its template.
_TEMPLATE_TYPES = frozenset(
    {"text/plain", "text/x-velocity", "application/octet-stream"}
)
# 408 and 409 are version conflicts on writes, as the Terraform provider treats them.
_ERROR_CLASSES: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: ConflictError,
    409: ConflictError,
    429: RateLimitedError,
}


def describe(request: httpx.Request) -> tuple[str, str]:
    """Return the method and path (with query) of a request, for messages."""
    return request.method, request.url.raw_path.decode("ascii", "replace")


def correlation_id(response: httpx.Response) -> str | None:
    """Return the correlation id from the header, else from the error body."""
    header: str | None = response.headers.get("inin-correlation-id")
    if header:
        return header
    context_id = error_body(response).get("contextId")
    return str(context_id) if context_id else None


def error_body(response: httpx.Response) -> dict[str, Any]:
    """Parse an error answer as a JSON object; empty when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _short(value: Any) -> str:
    """Return a value as a string no longer than a message should quote."""
    text = str(value)
    if len(text) <= _MAX_MESSAGE_CHARACTERS:
        return text
    return text[:_MAX_MESSAGE_CHARACTERS] + "…"


def _answer_summary(response: httpx.Response) -> str:
    """Describe a body that is not JSON without quoting it (HTML pages)."""
    content_type = response.headers.get("content-type", "no content type")
    return f"not JSON ({content_type.split(';')[0]}, {len(response.content)} bytes)"


def _error_class(status: int, message: str) -> type[ApiError]:
    """Map an error status (and a version-mismatch message) to an error class."""
    lowered = message.lower()
    if status == 400 and "does not match" in lowered and "version" in lowered:
        return ConflictError
    if status >= 500:
        return ServerError
    return _ERROR_CLASSES.get(status, ApiError)


def raise_for_status(request: httpx.Request, response: httpx.Response) -> None:
    """Raise the library error for a redirect or an error status."""
    status = response.status_code
    if status < 300:
        return
    if status < 400:
        raise _redirect_error(request, response)

    body = error_body(response)
    message = _short(body.get("message") or _answer_summary(response))
    code = str(body["code"]) if body.get("code") else None
    error_class = _error_class(status, message)
    raise error_class(
        _error_text(request, status, code, message),
        status=status,
        code=code,
        correlation_id=correlation_id(response),
        body=body or None,
    )


def _error_text(
    request: httpx.Request, status: int, code: str | None, said: str
) -> str:
    """Write the one-line message of an error answer."""
    method, path = describe(request)
    if status == 401:
        return f"{method} {path}: the token was refused even after renewing it: {said}"
    if status == 403:
        return f"{method} {path}: permission denied ({code or 403}): {said}"
    if status >= 500:
        return f"{method} {path}: server error {status} ({code or 'no code'}): {said}"
    return f"{method} {path}: HTTP {status} ({code or 'no code'}): {said}"


def _redirect_error(request: httpx.Request, response: httpx.Response) -> ApiError:
    """Build the error for a redirect, which is never followed."""
    method, path = describe(request)
    target = _location_host(request, response)
    message = (
        f"{method} {path}: the server redirected to {target} ({response.status_code}); "
        "redirects are not followed: check the region"
    )
    return BadResponseError(
        message,
        status=response.status_code,
        correlation_id=correlation_id(response),
    )


def _location_host(request: httpx.Request, response: httpx.Response) -> str:
    """Return the host a redirect points at (the same host when it is relative)."""
    location = response.headers.get("location", "")
    try:
        return httpx.URL(location).host or request.url.host
    except httpx.InvalidURL:
        return "an unreadable location"


def ambiguous_write(request: httpx.Request, response: httpx.Response) -> Exception:
    """Build the error for a write answered by a gateway failure (502/503/504)."""
    method, path = describe(request)
    message = (
        f"{method} {path}: server error {response.status_code}; the change may or may "
        "not have been applied: re-read before trying again"
    )
    return AmbiguousWriteError(
        message,
        status=response.status_code,
        correlation_id=correlation_id(response),
    )


def unreadable_answer(
    request: httpx.Request, failure: str, *, write: bool
) -> TransportError:
    """Build the error for an answer that could not be decoded at the HTTP level.

    `failure` describes the exception, with any secret it quoted already hidden.
    """
    method, path = describe(request)
    message = f"{method} {path}: unreadable answer ({failure})"
    if write:
        return AmbiguousWriteError(f"{message}; re-read before trying again")
    return TransportError(message)


def json_body(request: httpx.Request, response: httpx.Response) -> Any:
    """Return the JSON body of a successful answer (None for 204)."""
    if response.status_code == 204:
        return None
    method, path = describe(request)
    try:
        return response.json()
    except ValueError:
        detail = "empty" if not response.content else _answer_summary(response)
        message = f"{method} {path}: expected JSON, the answer was {detail}"
        raise BadResponseError(
            message,
            status=response.status_code,
            correlation_id=correlation_id(response),
        ) from None


def text_body(request: httpx.Request, response: httpx.Response) -> str:
    """Return the template text of a successful answer, exactly as sent.

    Only a 200 answer carries a template: any other success (204 No Content, 202,
    206 Partial Content, a proxy's 203) is refused, since taking its body for the
    template would write an empty or cut-short template back into the action. The
    bytes are UTF-8 whatever charset the answer declares, and bytes that are not
    UTF-8 are refused rather than guessed at. An answer with a content type outside
    `_TEMPLATE_TYPES` is refused; one without a content type is accepted when it
    has a body. An empty template is served as an empty 200 with a text content
    type, so an empty body without one is refused: that is what a proxy or gateway
    answers, not a template.
    """
    _require_template_answer(request, response)
    try:
        return response.content.decode("utf-8")
    except UnicodeDecodeError:
        problem = "the template is not valid utf-8 text"
        raise _not_a_template(request, response, problem) from None


def _require_template_answer(request: httpx.Request, response: httpx.Response) -> None:
    """Refuse an answer that cannot be a template: wrong status, type, or no body."""
    header = response.headers.get("content-type", "")
    content_type = header.split(";")[0].strip().lower()
    status = response.status_code
    if status != 200:
        problem = f"the answer is {status} instead of 200 with the template"
    elif content_type and content_type not in _TEMPLATE_TYPES:
        problem = (
            f"the answer is {content_type}, not a template: a proxy or login page "
            "answered instead of the template"
        )
    elif not content_type and not response.content:
        problem = "the answer is empty and has no content type, not a template"
    else:
        return
    raise _not_a_template(request, response, problem)


def _not_a_template(
    request: httpx.Request, response: httpx.Response, problem: str
) -> BadResponseError:
    """Build the error for a template download that did not deliver a template."""
    method, path = describe(request)
    message = f"{method} {path}: {problem}; it was not taken as the template"
    return BadResponseError(
        message, status=response.status_code, correlation_id=correlation_id(response)
    )
