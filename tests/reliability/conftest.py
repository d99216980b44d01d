"""Fixtures for the reliability tests.

They reuse the command-line tests' emulator and private environment, and add a
recorder of every request that leaves the process and retries that do not wait.
"""

from __future__ import annotations

import httpx
import pytest

from action_timeouts.http import RetryPolicy
from cli.conftest import (  # noqa: F401 - fixtures shared with the command-line tests
    cli_environment,
    credentials,
    emulator,
    journal_path,
    server,
    state_dir,
)


@pytest.fixture
def outgoing(monkeypatch: pytest.MonkeyPatch) -> list[httpx.URL]:
    """Record the URL of every request any httpx client of this process sends."""
    sent: list[httpx.URL] = []
    original = httpx.HTTPTransport.handle_request

    def recording(
        transport: httpx.HTTPTransport, request: httpx.Request
    ) -> httpx.Response:
        sent.append(request.url)
        return original(transport, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", recording)
    return sent


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let retries follow one another at once, so retry paths run in milliseconds."""

    def immediately(_policy: RetryPolicy, _retry: int) -> float:
        return 0.0

    monkeypatch.setattr(RetryPolicy, "backoff", immediately)
