"""Fixtures for library tests against one emulator served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from action_timeouts.actions import ActionsApi
from action_timeouts.emulator.server import RunningEmulator, running_emulator
from action_timeouts.http import ApiClient

from .emulated import UNREACHED_RATE_LIMIT, make_client


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningEmulator]:
    """Serve one empty emulator for the whole session."""
    with running_emulator(actions=0, rate_limit=UNREACHED_RATE_LIMIT) as served:
        yield served


@pytest.fixture(scope="session")
def session_client(emulator: RunningEmulator) -> Iterator[ApiClient]:
    """Return one real API client of the shared emulator (creating one is slow)."""
    with make_client(emulator) as client:
        yield client


@pytest.fixture
def emu(emulator: RunningEmulator) -> RunningEmulator:
    """Return the shared emulator reset to an empty org, default options, no faults."""
    emulator.state.reset()
    return emulator


@pytest.fixture
def api(emu: RunningEmulator, session_client: ApiClient) -> ActionsApi:
    """Return the actions API over the shared client, for a freshly reset emulator."""
    return ActionsApi(session_client)
