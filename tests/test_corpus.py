"""Tests that need the shared corpus skip without it, unless the run is in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
# Modules whose tests read the corpus, and one single test.
NEEDING_THE_CORPUS = (
    "tests/library/test_safe_update_corpus.py",
    "tests/library/test_bulk.py",
    "tests/emulator/test_corpus_roundtrip.py",
    "tests/library/test_plan.py::test_corpus_plan_accounts_for_every_action",
)


def run_pytest(corpus: Path, *, ci: bool) -> subprocess.CompletedProcess[str]:
    """Run pytest on the corpus tests in a child process with the corpus at `corpus`."""
    environment = {**os.environ, "ACTION_TIMEOUTS_CORPUS": str(corpus)}
    environment.pop("CI", None)
    if ci:
        environment["CI"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, *NEEDING_THE_CORPUS],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def missing(tmp_path: Path) -> Path:
    """Return a corpus location that does not exist."""
    return tmp_path / "no-corpus-here"


def test_missing_corpus_skips_with_its_location(missing: Path) -> None:
    """Without the corpus its tests are skipped, naming where it was looked for."""
    result = run_pytest(missing, ci=False)

    assert result.returncode == 0, result.stdout + result.stderr
    reason = f"corpus not found at {missing}; set ACTION_TIMEOUTS_CORPUS"
    skips = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert "error" not in result.stdout.lower()
    assert "passed" not in result.stdout
    assert len(skips) >= len(NEEDING_THE_CORPUS)
    assert all(line.endswith(reason) for line in skips)
    assert not [line for line in skips if "tests/corpus.py" in line]


def test_missing_corpus_fails_a_ci_session(missing: Path) -> None:
    """With `CI` set, a missing corpus fails the session at once, saying where."""
    result = run_pytest(missing, ci=True)

    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert f"corpus not found at {missing}" in result.stderr
    assert "CI is set" in result.stderr
