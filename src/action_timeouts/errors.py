"""The exceptions raised by action-timeouts, and the exit code each one maps to.

The tree answers "did the server answer?" by its shape: `TransportError` means no
usable answer arrived (connection refused, dropped, timed out), `ApiError` means the
server answered with an error status. Local problems (`UsageError`,
`ConfigurationError`, `ActionRefusedError`) are raised before anything is sent;
`ChangedSinceError` is raised before anything more is written, when a re-read shows
that a planned change is no longer wanted.

    ActionTimeoutsError               exit 1
    ├── UsageError                    exit 2   bad local input (timeout, selectors)
    ├── ConfigurationError            exit 3   settings, region, credentials, .env
    │   └── JournalWriteError         exit 3   the journal cannot record a change
    ├── ActionRefusedError            exit 7   custom-auth or built-in action
    │   └── ChangedSinceError         exit 7   changed by someone else since planned
    ├── VerificationError             exit 12  read back differs from the intent
    │   └── TimeoutNotClearedError    exit 12  config merged: a timeout stays set
    ├── InUseError                    exit 13  another process holds the run or journal
    ├── UnfinishedRunError            exit 14  undo of a run that needs `resume` first
    ├── TransportError                exit 10  no usable answer from the server
    │   └── AmbiguousWriteError       exit 10  a write may or may not have happened
    └── ApiError                      exit 11  the server answered with an error
        ├── BadResponseError          exit 11  an answer that is not the expected JSON
        ├── AuthenticationError       exit 4   401, or invalid_client at login
        ├── PermissionDeniedError     exit 5   403
        ├── NotFoundError             exit 6   404
        ├── ConflictError             exit 8   version conflict not resolved in time
        ├── RateLimitedError          exit 9   429 beyond the wait budget
        └── ServerError               exit 11  5xx
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EXIT_CODES",
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
]


class ActionTimeoutsError(Exception):
    """Base of every error this library raises on purpose."""

    exit_code = 1


class UsageError(ActionTimeoutsError):
    """The command or call was given an invalid value; nothing was sent."""

    exit_code = 2


class ConfigurationError(ActionTimeoutsError):
    """Settings are missing or malformed (credentials, region, .env, profiles)."""

    exit_code = 3


class JournalWriteError(ConfigurationError):
    """The journal cannot record a change (disk full, read-only); nothing was sent."""


class ActionRefusedError(ActionTimeoutsError):
    """The action cannot take a timeout (custom-auth or built-in); nothing was sent."""

    exit_code = 7

    def __init__(self, message: str, *, action_id: str, reason: str) -> None:
        super().__init__(message)
        self.action_id = action_id
        self.reason = reason


class ChangedSinceError(ActionRefusedError):
    """The action changed since its change was planned, so it was left as it is.

    Another editor moved it (its timeout, or its version) after the read the change
    was decided on; applying the change now could undo their edit.
    """


class VerificationError(ActionTimeoutsError):
    """The action read back after a change differs from what was intended."""

    exit_code = 12

    def __init__(self, message: str, *, action_id: str, fields: list[str]) -> None:
        super().__init__(message)
        self.action_id = action_id
        self.fields = fields


class TimeoutNotClearedError(VerificationError):
    """A PATCH without a timeout left it set: the platform merges config on PATCH.

    Every other clearing would end the same way, so a bulk run stops at the first.
    """


class InUseError(ActionTimeoutsError):
    """Another process holds the run or the journal; nothing was sent meanwhile."""

    exit_code = 13


class UnfinishedRunError(ActionTimeoutsError):
    """The run has actions whose change may not have finished: `resume` it first."""

    exit_code = 14


class TransportError(ActionTimeoutsError):
    """No usable answer arrived: refused, dropped or timed-out connection."""

    exit_code = 10

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.correlation_id = correlation_id

    def __str__(self) -> str:
        text = super().__str__()
        if self.correlation_id and self.correlation_id not in text:
            text = f"{text} (correlation id {self.correlation_id})"
        return text


class AmbiguousWriteError(TransportError):
    """A write got no answer and a re-read could not tell whether it happened."""


class ApiError(ActionTimeoutsError):
    """The server answered with an error status."""

    exit_code = 11

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        correlation_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.correlation_id = correlation_id
        self.body = body

    def reworded(self, message: str, kind: type[ApiError] | None = None) -> ApiError:
        """Return this error with another message (and kind), the facts kept."""
        return (kind or type(self))(
            message,
            status=self.status,
            code=self.code,
            correlation_id=self.correlation_id,
            body=self.body,
        )

    def __str__(self) -> str:
        text = super().__str__()
        if self.correlation_id and self.correlation_id not in text:
            text = f"{text} (correlation id {self.correlation_id})"
        return text


class BadResponseError(ApiError):
    """The answer is not what the API promises (HTML, truncated, wrong shape)."""


class AuthenticationError(ApiError):
    """Login failed, or a token was refused even after one renewal."""

    exit_code = 4


class PermissionDeniedError(ApiError):
    """The OAuth client lacks a permission the call needs."""

    exit_code = 5


class NotFoundError(ApiError):
    """The action (or its draft or template) does not exist."""

    exit_code = 6


class ConflictError(ApiError):
    """The action kept changing under us; the version conflict was not resolved."""

    exit_code = 8


class RateLimitedError(ApiError):
    """Rate limited for longer than the wait budget allows."""

    exit_code = 9


class ServerError(ApiError):
    """The server failed (5xx) and retries did not help."""

    exit_code = 11


EXIT_CODES: dict[str, int] = {
    "success": 0,
    "failure": 1,
    "usage": UsageError.exit_code,
    "configuration": ConfigurationError.exit_code,
    "authentication": AuthenticationError.exit_code,
    "permission": PermissionDeniedError.exit_code,
    "not-found": NotFoundError.exit_code,
    "refused": ActionRefusedError.exit_code,
    "conflict": ConflictError.exit_code,
    "rate-limited": RateLimitedError.exit_code,
    "transport": TransportError.exit_code,
    "server": ServerError.exit_code,
    "verification": VerificationError.exit_code,
    "in-use": InUseError.exit_code,
    "unfinished": UnfinishedRunError.exit_code,
    "interrupted": 130,
}
