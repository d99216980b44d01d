"""Keep the developer's own environment out of every test; in CI, require the corpus."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from corpus import MISSING_REASON, corpus_present

_PREFIXES = ("GENESYSCLOUD_", "GENESYS_", "ACTION_TIMEOUTS_")


def _is_ours_to_remove(name: str) -> bool:
    """Tell whether a variable could change what the code under test does."""
    upper = name.upper()
    return upper.startswith(_PREFIXES) or upper.endswith("_PROXY") or name == "NO_COLOR"


def _running_in_ci() -> bool:
    """Tell whether the `CI` variable says this is a CI run."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fail a CI session at once when the corpus is missing, instead of skipping."""
    if _running_in_ci() and not corpus_present():
        message = f"{MISSING_REASON} (CI is set, so the corpus must be present)"
        raise pytest.UsageError(message)


@pytest.fixture(autouse=True)
def clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Remove Genesys, action-timeouts, proxy and NO_COLOR variables for the test.

    The user config directory points at an empty temporary folder, so no test reads
    the developer's own profiles.
    """
    for name in list(os.environ):
        if _is_ours_to_remove(name):
            monkeypatch.delenv(name)
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "empty-config-home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(base / "empty-state-home"))


@pytest.fixture(autouse=True)
def restore_package_logger() -> Iterator[None]:
    """Undo the handlers, level and propagation a CLI run sets on the package logger."""
    package_logger = logging.getLogger("action_timeouts")
    saved = (package_logger.handlers[:], package_logger.level, package_logger.propagate)
    yield
    package_logger.handlers[:], package_logger.level, package_logger.propagate = (
        saved[0],
        saved[1],
        saved[2],
    )


SUMMARIES: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the summary lines tests attach as a `summary` user property."""
    if report.when == "call":
        SUMMARIES.extend(
            str(value) for name, value in report.user_properties if name == "summary"
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the collected summary lines (the fault soak's figures) after the run."""
    for line in SUMMARIES:
        terminalreporter.write_line(line)
