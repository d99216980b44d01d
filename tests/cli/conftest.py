"""Fixtures for the command-line tests: one served emulator, a private environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from action_timeouts.emulator.server import RunningEmulator, running_emulator

from .helpers import small_org

UNLIMITED = 1_000_000


@pytest.fixture(scope="session")
def server() -> Iterator[RunningEmulator]:
    """Serve one emulator for the session; each test reseeds it."""
    with running_emulator(actions=0, rate_limit=UNLIMITED) as emulator:
        yield emulator


@pytest.fixture
def emulator(server: RunningEmulator) -> RunningEmulator:
    """Return the shared emulator, reset and seeded with the small org."""
    server.state.reset()
    server.state.load_actions(small_org())
    return server


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """Return the private state directory the journal is written to."""
    return tmp_path / "state"


@pytest.fixture
def journal_path(state_dir: Path) -> Path:
    """Return where the journal file of this test lives."""
    return state_dir / "journal.sqlite3"


@pytest.fixture(autouse=True)
def cli_environment(
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    state_dir: Path,
) -> Path:
    """Run each test in an empty directory with private config and state folders."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("ACTION_TIMEOUTS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ACTION_TIMEOUTS_STATE_DIR", str(state_dir))
    monkeypatch.setenv("NO_COLOR", "1")
    return work


@pytest.fixture
def credentials(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the GENESYSCLOUD_* variables at the shared emulator."""
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", emulator.client_id)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", emulator.client_secret)
    monkeypatch.setenv("GENESYSCLOUD_REGION", emulator.base_url)
