"""Timeout values, and the kinds of data action that can take one.

Pure functions of numbers and action documents; `actions` builds the safe update
procedure on them and exports them too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from action_timeouts.errors import UsageError

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
    "is_function_action",
    "quoted",
    "refusal_reason",
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


def current_timeout(action: Mapping[str, Any]) -> int | None:
    """Return the action's explicit timeout, or None when unset (absent or null)."""
    config = action.get("config")
    if not isinstance(config, Mapping):
        return None
    value = config.get("timeoutSeconds")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def effective_timeout(action: Mapping[str, Any]) -> int:
    """Return the timeout the platform applies: the explicit one, else 60 s."""
    explicit = current_timeout(action)
    return PLATFORM_DEFAULT_TIMEOUT if explicit is None else explicit


def describe_timeout(seconds: int | None) -> str:
    """Render a timeout for people: '10 s', or 'unset (60 s)'."""
    if seconds is None:
        return f"unset ({PLATFORM_DEFAULT_TIMEOUT} s)"
    return f"{seconds} s"
