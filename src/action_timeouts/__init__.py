"""Change the execution timeout of Genesys Cloud data actions safely.

What a script needs is here::

    from action_timeouts import ActionsApi, ApiClient, load_settings, set_timeout

    client_id, secret, endpoint = load_settings().require_credentials()
    with ApiClient(endpoint, client_id, secret) as client:
        result = set_timeout(ActionsApi(client), "3f2a...", 10)

Each name is imported on first use, so `import action_timeouts` loads neither the
HTTP client nor anything else until a name is asked for.
"""

from __future__ import annotations

import sys

# Not `from typing import TYPE_CHECKING`: importing typing would double the time
# `import action_timeouts` takes. Type checkers read this name the same way.
TYPE_CHECKING = False

__version__ = "0.1.0"

# When rich, click and pygments are installed, `import httpx` also loads httpx's own
# command line, and with it rich and pygments (about 70 ms). The library never uses
# it, so an empty entry makes httpx skip it, unless httpx was imported before us.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

if TYPE_CHECKING:
    from typing import Any

    from action_timeouts.actions import ActionsApi, ChangeResult, set_timeout
    from action_timeouts.errors import (
        ActionRefusedError,
        ActionTimeoutsError,
        AmbiguousWriteError,
        ApiError,
        AuthenticationError,
        BadResponseError,
        ChangedSinceError,
        ConfigurationError,
        ConflictError,
        InUseError,
        JournalWriteError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitedError,
        ServerError,
        TimeoutNotClearedError,
        TransportError,
        UnfinishedRunError,
        UsageError,
        VerificationError,
    )
    from action_timeouts.http import ApiClient
    from action_timeouts.settings import Settings, load_settings

_ERRORS = (
    "ActionRefusedError",
    "ActionTimeoutsError",
    "AmbiguousWriteError",
    "ApiError",
    "AuthenticationError",
    "BadResponseError",
    "ChangedSinceError",
    "ConfigurationError",
    "ConflictError",
    "InUseError",
    "JournalWriteError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "TimeoutNotClearedError",
    "TransportError",
    "UnfinishedRunError",
    "UsageError",
    "VerificationError",
)
# exported name -> the module that defines it
_LAZY: dict[str, str] = {
    "ActionsApi": "action_timeouts.actions",
    "ApiClient": "action_timeouts.http",
    "ChangeResult": "action_timeouts.actions",
    "Settings": "action_timeouts.settings",
    "load_settings": "action_timeouts.settings",
    "set_timeout": "action_timeouts.actions",
    **dict.fromkeys(_ERRORS, "action_timeouts.errors"),
}

__all__ = [
    "ActionRefusedError",
    "ActionTimeoutsError",
    "ActionsApi",
    "AmbiguousWriteError",
    "ApiClient",
    "ApiError",
    "AuthenticationError",
    "BadResponseError",
    "ChangeResult",
    "ChangedSinceError",
    "ConfigurationError",
    "ConflictError",
    "InUseError",
    "JournalWriteError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "Settings",
    "TimeoutNotClearedError",
    "TransportError",
    "UnfinishedRunError",
    "UsageError",
    "VerificationError",
    "__version__",
    "load_settings",
    "set_timeout",
]


def __getattr__(name: str) -> Any:
    """Import an exported name from its module the first time it is asked for."""
    module = _LAZY.get(name)
    if module is None:
        message = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(message)
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the module's names, the ones not imported yet included."""
    return sorted({*globals(), *__all__})
