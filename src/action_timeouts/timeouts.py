"""Timeout values, and the kinds of data action that can take one.

Pure functions of numbers and action documents; `actions` builds the safe update
procedure on them and exports them too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeGuard

from action_timeouts.errors import BadResponseError, UsageError

__all__ = [
    "CUSTOM_AUTH_PREFIX",
    "FUNCTION_INTEGRATION_TYPE",
    "PLATFORM_DEFAULT_TIMEOUT",
    "SKIP_REASONS",
    "STATIC_PREFIX",
    "TIMEOUT_MAX",
    "TIMEOUT_MIN",
    "ActionKind",
    "action_kind",
    "current_timeout",
    "describe_timeout",
    "effective_timeout",
    "invalid_timeout",
    "is_function_action",
    "is_whole_seconds",
    "quoted",
    "refusal_reason",
    "stored_timeout",
    "validate_timeout",
]

logger = logging.getLogger(__name__)

TIMEOUT_MIN = 1
TIMEOUT_MAX = 60
PLATFORM_DEFAULT_TIMEOUT = 60
CUSTOM_AUTH_PREFIX = "customAuth_-_"
STATIC_PREFIX = "static"
FUNCTION_INTEGRATION_TYPE = "function-data-actions"
LONGEST_QUOTED_VALUE = 40  # characters of a user's value an error message repeats


class ActionKind(StrEnum):
    """What sort of data action this is, as far as its timeout is concerned."""

    STANDARD = "standard"
    CUSTOM_AUTH = "custom-auth"
    STATIC = "static"
    FUNCTION = "function"


SKIP_REASONS: dict[ActionKind, str] = {
    ActionKind.CUSTOM_AUTH: "custom auth action (timeout not supported)",
    ActionKind.STATIC: "built-in action (not updatable)",
    ActionKind.FUNCTION: (
        "function action (its run time is bounded by the function's own 1-15 s timeout)"
    ),
}


def validate_timeout(value: object) -> int:
    """Return `value` as a timeout in whole seconds, or raise UsageError."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if isinstance(value, int) and not isinstance(value, bool):
        seconds: int | None = value
    elif len(text) <= 3 and text.isascii() and text.lstrip("-").isdigit():
        seconds = int(text)
    else:
        seconds = None
    if seconds is None or not TIMEOUT_MIN <= seconds <= TIMEOUT_MAX:
        message = (
            f"invalid timeout {quoted(value)}: give a whole number of seconds from "
            f"{TIMEOUT_MIN} to {TIMEOUT_MAX} (use --unset for the platform default)"
        )
        raise UsageError(message)
    return seconds


def quoted(value: object) -> str:
    """Quote a value for an error message, cut short when it is long."""
    text = repr(value)
    if len(text) <= LONGEST_QUOTED_VALUE:
        return text
    return f"{text[:LONGEST_QUOTED_VALUE]}… ({len(str(value))} characters)"


def action_kind(action: Mapping[str, Any]) -> ActionKind:
    """Classify an action by its id and configuration."""
    action_id = str(action.get("id", ""))
    if action_id.startswith(CUSTOM_AUTH_PREFIX):
        return ActionKind.CUSTOM_AUTH
    if action_id.startswith(STATIC_PREFIX):
        return ActionKind.STATIC
    if is_function_action(action):
        return ActionKind.FUNCTION
    return ActionKind.STANDARD


def is_function_action(action: Mapping[str, Any]) -> bool:
    """Tell whether an action runs a function rather than an HTTP request.

    Exports name the integration type; otherwise a function action is recognised by
    having no request URL template, since the platform runs code instead of a call.
    Only meaningful when the action was read with its config.
    """
    if action.get("integrationType") == FUNCTION_INTEGRATION_TYPE:
        return True
    config = action.get("config")
    if not isinstance(config, Mapping):
        return False
    request = config.get("request")
    return not isinstance(request, Mapping) or "requestUrlTemplate" not in request


def refusal_reason(action_id: str) -> str | None:
    """Say why an action with this id can never take a timeout, or None."""
    kind = action_kind({"id": action_id})
    return SKIP_REASONS.get(kind) if kind is not ActionKind.STANDARD else None


def is_whole_seconds(value: object) -> TypeGuard[int]:
    """Tell whether `value` is an integer (not a bool) from 1 to 60."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return TIMEOUT_MIN <= value <= TIMEOUT_MAX


def stored_timeout(action: Mapping[str, Any]) -> object:
    """Return `config.timeoutSeconds` exactly as read; None when absent or null."""
    config = action.get("config")
    if not isinstance(config, Mapping):
        return None
    return config.get("timeoutSeconds")


def invalid_timeout(action: Mapping[str, Any]) -> str | None:
    """Say why the stored timeout is not one the platform promises, or None.

    The platform keeps a whole number of seconds from 1 to 60, or none. Any other
    value (`"30"`, `5.0`, `true`, `0`, `90`) is neither a timeout nor unset: it is
    shown as it is and never written over, since what it means is unknown.
    """
    value = stored_timeout(action)
    if value is None or is_whole_seconds(value):
        return None
    return (
        f"timeoutSeconds from the server is not a whole number {TIMEOUT_MIN}-"
        f"{TIMEOUT_MAX} ({_json_text(value)})"
    )


def _json_text(value: object) -> str:
    """Write a value as the JSON it came as, cut short when it is long."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) <= LONGEST_QUOTED_VALUE:
        return text
    return f"{text[:LONGEST_QUOTED_VALUE]}… ({len(text)} characters)"


def current_timeout(action: Mapping[str, Any]) -> int | None:
    """Return the action's explicit timeout, or None when unset (absent or null).

    A stored value that is not a whole number from 1 to 60 raises BadResponseError
    (see `invalid_timeout`): taking it for unset would misreport the action, and a
    change journaled from it could not be undone to what it was.
    """
    problem = invalid_timeout(action)
    if problem is not None:
        message = f"action {action.get('id')}: {problem}; it was left as it is"
        raise BadResponseError(message, status=200)
    value = stored_timeout(action)
    return value if is_whole_seconds(value) else None


def effective_timeout(action: Mapping[str, Any]) -> int:
    """Return the timeout the platform applies: the explicit one, else 60 s.

    Raises BadResponseError as `current_timeout` does.
    """
    explicit = current_timeout(action)
    return PLATFORM_DEFAULT_TIMEOUT if explicit is None else explicit


def describe_timeout(seconds: object) -> str:
    """Render a timeout for people: '10 s', 'unset (60 s)', or 'invalid ("30")'.

    Any value other than None or a whole number from 1 to 60 is shown as the JSON
    it was stored as, marked invalid.
    """
    if seconds is None:
        return f"unset ({PLATFORM_DEFAULT_TIMEOUT} s)"
    if not is_whole_seconds(seconds):
        return f"invalid ({_json_text(seconds)})"
    return f"{seconds} s"
