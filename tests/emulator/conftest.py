"""Fixtures for the emulator tests: one shared emulator, reset and seeded per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator, running_emulator
from action_timeouts.emulator.state import ALL_PERMISSIONS

from .helpers import ManualClock, bearer, get_token, sample_actions


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    """Return the clock the shared emulator reads."""
    return ManualClock()


@pytest.fixture(scope="session")
def server(clock: ManualClock) -> Iterator[RunningEmulator]:
    """Serve one emulator for the whole session."""
    with running_emulator(actions=0, now=clock) as emulator:
        yield emulator


@pytest.fixture
def emu(server: RunningEmulator) -> RunningEmulator:
    """Return the shared emulator, reset and seeded with the sample org."""
    server.state.reset()
    server.state.load_actions(sample_actions())
    return server


@pytest.fixture(scope="session")
def session_http(server: RunningEmulator) -> Iterator[httpx.Client]:
    """Return one HTTP client for the whole session (creating one is slow)."""
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        yield client


@pytest.fixture
def http(emu: RunningEmulator, session_http: httpx.Client) -> httpx.Client:
    """Return a plain HTTP client (no token) for the freshly seeded emulator."""
    return session_http


@pytest.fixture
def auth(emu: RunningEmulator, http: httpx.Client) -> dict[str, str]:
    """Return bearer headers for the emulator's client with every permission."""
    return bearer(get_token(http, emu.client_id, emu.client_secret))


@pytest.fixture
def make_client(emu: RunningEmulator, http: httpx.Client) -> Any:
    """Return a factory: permissions -> bearer headers of a new client holding them."""
    counter = iter(range(1_000_000))

    def factory(permissions: tuple[str, ...] = ALL_PERMISSIONS) -> dict[str, str]:
        client_id = f"client-{next(counter)}"
        emu.state.add_client(client_id, "secret", permissions)
        return bearer(get_token(http, client_id, "secret"))

    return factory
