"""Ctrl-C and SIGTERM during a journaled run: marked interrupted, one line, 130/143."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from action_timeouts.cli.interrupts import Interrupted, interrupt_behind
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.journal import Journal

from .helpers import (
    command_line,
    invoke,
    journal_states,
    last_run_id,
    many_actions,
    run_subprocess,
    stored_timeouts,
)

pytestmark = pytest.mark.crash

LATENCY_MS = 150
DEADLINE_SECONDS = 30
BULK_ACTIONS = 24
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
SIGNALS = [
    pytest.param(signal.SIGINT, id="sigint"),
    pytest.param(signal.SIGTERM, id="sigterm"),
]


@pytest.fixture
def env(emulator: RunningEmulator) -> dict[str, str]:
    """Slow every answer down and return the environment of the command."""
    emulator.state.set_extra_latency(LATENCY_MS)
    return {
        **os.environ,
        "GENESYSCLOUD_OAUTHCLIENT_ID": emulator.client_id,
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": emulator.client_secret,
        "GENESYSCLOUD_REGION": emulator.base_url,
    }


def running_runs(journal: Path) -> int:
    """Count the runs the journal records as running (0 when it does not exist)."""
    if not journal.exists():
        return 0
    connection = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
    try:
        query = "SELECT COUNT(*) FROM runs WHERE status = 'running'"
        return int(connection.execute(query).fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()


def interrupt_when(
    arguments: list[str],
    env: dict[str, str],
    condition: Callable[[], bool],
    number: int,
    stdout: list[str] | None = None,
) -> tuple[int, str]:
    """Start the command, send it signal `number` once `condition` holds.

    What the command printed on stdout is added to `stdout` when it is given.
    """
    process = subprocess.Popen(
        [*command_line(), *arguments],
        env=env,
        stdout=subprocess.DEVNULL if stdout is None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, stderr = process.communicate(timeout=10)
            pytest.fail(f"the moment to interrupt never came: {stderr}")
        time.sleep(0.002)
    process.send_signal(number)
    printed, stderr = process.communicate(timeout=DEADLINE_SECONDS)
    if stdout is not None:
        stdout.append(printed)
    return process.returncode, stderr


def newest_run(env: dict[str, str]) -> dict[str, object]:
    """Return the newest run as `history -o json` gives it."""
    completed = run_subprocess(["history", "-o", "json"], env=env)
    runs: list[dict[str, object]] = json.loads(completed.stdout)
    return runs[0]


def assert_interrupted(
    code: int, stderr: str, number: int, env: dict[str, str]
) -> None:
    """The run is interrupted, the exit code the signal's, the line names the run."""
    run = newest_run(env)
    assert code == EXIT_CODES[number], stderr
    assert run["status"] == "interrupted"
    last = stderr.strip().splitlines()[-1]
    assert last == (
        f"error: interrupted; `action-timeouts resume {run['id']}` finishes the run"
    )
    assert "Traceback" not in stderr


@pytest.mark.parametrize("number", SIGNALS)
def test_interrupting_a_single_set_ends_its_run(
    env: dict[str, str], journal_path: Path, number: int
) -> None:
    """A signal during `set 10 ID` marks its run interrupted and names it."""
    code, stderr = interrupt_when(
        ["set", "10", "order-lookup"],
        env,
        lambda: running_runs(journal_path) > 0,
        number,
    )

    assert_interrupted(code, stderr, number, env)


@pytest.mark.parametrize("number", SIGNALS)
def test_interrupting_bulk_writes_ends_the_run(
    emulator: RunningEmulator, env: dict[str, str], journal_path: Path, number: int
) -> None:
    """A signal while a bulk run writes marks it interrupted; resume finishes it."""
    emulator.state.reset()
    emulator.state.load_actions(many_actions(BULK_ACTIONS))
    emulator.state.set_extra_latency(LATENCY_MS)

    code, stderr = interrupt_when(
        ["set", "59", "--all", "--yes", "--workers", "2"],
        env,
        lambda: journal_states(journal_path).get("changed", 0) >= 2,
        number,
    )

    assert_interrupted(code, stderr, number, env)
    resumed = run_subprocess(["resume", str(newest_run(env)["id"])], env=env)
    assert resumed.returncode == 0, resumed.stderr


@pytest.mark.parametrize("number", SIGNALS)
def test_an_interrupted_run_prints_its_rows_and_leaves_no_lock(
    emulator: RunningEmulator, env: dict[str, str], journal_path: Path, number: int
) -> None:
    """With -o json an interrupted run prints what it did; its lock file is gone."""
    emulator.state.reset()
    emulator.state.load_actions(many_actions(BULK_ACTIONS))
    emulator.state.set_extra_latency(LATENCY_MS)
    printed: list[str] = []

    code, stderr = interrupt_when(
        ["set", "59", "--all", "--yes", "--workers", "2", "-o", "json"],
        env,
        lambda: journal_states(journal_path).get("changed", 0) >= 2,
        number,
        printed,
    )

    assert_interrupted(code, stderr, number, env)
    document = json.loads(printed[0])
    assert document["run"] == newest_run(env)["id"]
    assert len(document["items"]) == BULK_ACTIONS
    assert document["counts"]["changed"] >= 2
    assert document["counts"]["not attempted"] + document["counts"]["pending"] > 0
    assert list(journal_path.parent.glob("*.lock")) == []


@pytest.mark.parametrize("number", SIGNALS)
def test_interrupting_the_verification_ends_the_run(
    emulator: RunningEmulator, env: dict[str, str], journal_path: Path, number: int
) -> None:
    """A signal after every write, while they are verified, ends the run the same."""
    code, stderr = interrupt_when(
        ["set", "59", "--all", "--yes"],
        env,
        lambda: journal_states(journal_path).get("changed", 0) == 5,
        number,
    )

    assert_interrupted(code, stderr, number, env)


RETRY_AFTER = 40  # seconds: far longer than a run that stops at once can take


@pytest.mark.usefixtures("credentials")
def test_ctrl_c_during_a_rate_limit_pause_exits_at_once(
    emulator: RunningEmulator, journal_path: Path
) -> None:
    """Ctrl-C stops a bulk run with 130 at once, even while workers wait out a 429."""
    emulator.state.reset()
    emulator.state.load_actions(many_actions(40))
    emulator.state.set_extra_latency(30)
    process = subprocess.Popen(
        [*command_line(), "set", "21", "--all", "--yes"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while emulator.state.request_count("PATCH", "/api/v2") < 3:
            assert time.monotonic() < deadline, "the run never started writing"
            time.sleep(0.01)
        emulator.state.inject_429(100, retry_after=str(RETRY_AFTER))
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        emulator.state.clear_faults()

    assert process.returncode == 130, stderr
    assert took < RETRY_AFTER / 2, "the run waited out the pause before stopping"
    assert b"resume" in stderr
    resumed = invoke("resume", last_run_id())
    assert resumed.exit_code == 0, resumed.stderr
    assert set(stored_timeouts(emulator).values()) == {21}


def changed_unverified_run(emulator: RunningEmulator, journal_path: Path) -> str:
    """Journal a `set 59 --all` killed after every write, before any verification."""
    emulator.state.reset()
    emulator.state.load_actions(many_actions(BULK_ACTIONS))
    emulator.state.set_extra_latency(LATENCY_MS)
    with Journal.open(journal_path) as journal:
        run_id = journal.start_run(
            command="set",
            org=emulator.base_url,
            client_id=emulator.client_id,
            selectors={"all": True},
            requested={"timeoutSeconds": 59},
        )
        for action in emulator.state.stored_actions():
            old = action["config"].get("timeoutSeconds")
            journal.record_intent(run_id, action["id"], action, old, 59)
            action["config"]["timeoutSeconds"] = 59
            action["version"] += 1
            emulator.state.load_actions([action])
            journal.record_outcome(
                run_id, action["id"], "changed", after_version=action["version"]
            )
    return run_id


@pytest.mark.parametrize("number", SIGNALS)
def test_interrupting_resume_while_it_reads_back_ends_the_run(
    emulator: RunningEmulator, env: dict[str, str], journal_path: Path, number: int
) -> None:
    """A signal while resume reads changes back marks the run interrupted, one line."""
    run_id = changed_unverified_run(emulator, journal_path)

    code, stderr = interrupt_when(
        ["resume", run_id],
        env,
        lambda: journal_states(journal_path, run_id).get("verified", 0) >= 1,
        number,
    )

    assert_interrupted(code, stderr, number, env)


def released_while(first: BaseException) -> RuntimeError:
    """The RuntimeError a condition's `with` raises when `first` (an interrupt) left
    its lock unheld, caught with `first` as its context."""
    try:
        try:
            raise first
        except BaseException:
            raise RuntimeError("cannot release un-acquired lock") from None
    except RuntimeError as error:
        return error


def test_an_error_raised_while_unwinding_an_interrupt_is_that_interrupt() -> None:
    """The interrupt behind an error raised while it unwound is found, so the run
    ends as interrupted (143 for SIGTERM) rather than as an unexpected error."""
    interrupt = interrupt_behind(released_while(Interrupted(signal.SIGTERM)))

    assert isinstance(interrupt, Interrupted)
    assert interrupt.exit_code == 143


def test_an_error_with_no_interrupt_behind_it_is_left_alone() -> None:
    """An ordinary error has no interrupt behind it."""
    assert interrupt_behind(released_while(ValueError("first"))) is None
