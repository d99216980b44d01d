"""A bulk run killed part way, then `resume`: every action lands once, none twice."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from action_timeouts.actions import ActionKind, action_kind
from action_timeouts.emulator.server import RunningEmulator, running_emulator

from .helpers import command_line, journal_states, run_subprocess, timeout_of

pytestmark = pytest.mark.crash

ACTIONS = 60
TARGET = 20
LOST_ANSWERS = 2
STARTED_STATES = ("intent", "sent", "changed", "verified", "failed", "refused")
PENDING_STATES = {"planned", "intent", "sent", "failed", "refused"}
LEFT_OUTCOMES = {"not attempted", "pending", "failed", "refused"}
RUN_SECONDS = 30


@dataclass(frozen=True)
class KillPoint:
    """When to kill the run, the seed of the org and the delay of each answer.

    `event` is "plan" (the plan is journaled), "started" (`share` of the changes
    have an intent or more) or "answer-lost" (PATCHes committed but unanswered; the
    longer delay keeps the run re-reading those actions when it is killed).
    """

    event: str
    share: float
    seed: int
    latency_ms: int = 60


KILL_POINTS = [
    pytest.param(KillPoint("plan", 0.0, 101), id="after-the-plan"),
    pytest.param(KillPoint("started", 0.02, 102), id="after-the-first-intent"),
    pytest.param(KillPoint("started", 0.3, 103), id="a-third-in"),
    pytest.param(KillPoint("started", 0.6, 104), id="past-half"),
    pytest.param(KillPoint("started", 0.85, 105), id="nearly-done"),
    pytest.param(
        KillPoint("answer-lost", 0.0, 106, latency_ms=200),
        id="writes-landed-answers-lost",
    ),
]


@pytest.fixture
def org(request: pytest.FixtureRequest) -> Iterator[RunningEmulator]:
    """Serve a generated org of 60 actions whose every answer is slowed down."""
    kill: KillPoint = request.node.callspec.params["kill"]
    with running_emulator(
        actions=ACTIONS, seed=kill.seed, rate_limit=1_000_000
    ) as emulator:
        emulator.state.set_extra_latency(kill.latency_ms)
        yield emulator


@pytest.fixture
def env(org: RunningEmulator) -> dict[str, str]:
    """Return the environment of the command: credentials for the slowed org."""
    return {
        **os.environ,
        "GENESYSCLOUD_OAUTHCLIENT_ID": org.client_id,
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": org.client_secret,
        "GENESYSCLOUD_REGION": org.base_url,
    }


def started(journal: Path) -> int:
    """Count the journal rows whose write was at least about to be sent."""
    states = journal_states(journal)
    return sum(states.get(state, 0) for state in STARTED_STATES)


def committed_patches(emulator: RunningEmulator) -> Counter[str]:
    """Count, per action id, the PATCHes the emulator carried out.

    A 200 is a PATCH carried out and answered; with answers dropped after the
    commit (the only drop these tests inject) a PATCH logged with no status was
    carried out too.
    """
    return Counter(
        entry["path"].rsplit("/", 1)[1]
        for entry in emulator.state.request_log()
        if entry["method"] == "PATCH" and entry["status"] in (200, None)
    )


def unanswered_patches(emulator: RunningEmulator) -> int:
    """Count the PATCHes whose answer the emulator dropped after committing them."""
    return sum(
        1
        for entry in emulator.state.request_log()
        if entry["method"] == "PATCH" and entry["status"] is None
    )


def kill_when(process: subprocess.Popen[bytes], condition: Callable[[], bool]) -> None:
    """SIGKILL the run as soon as `condition` holds; fail if the run ends first."""
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if condition():
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            return
        time.sleep(0.002)
    pytest.fail(f"the run ended before the kill point: {process.returncode}")


def kill_condition(
    kill: KillPoint, changes: int, org: RunningEmulator, journal: Path
) -> Callable[[], bool]:
    """Return the test for the moment to kill the run at."""
    if kill.event == "plan":
        return lambda: bool(journal_states(journal))
    if kill.event == "answer-lost":
        org.state.inject_commit_without_answer(LOST_ANSWERS)
        return lambda: unanswered_patches(org) >= LOST_ANSWERS
    rows = max(1, round(kill.share * changes))
    return lambda: started(journal) >= rows


@pytest.mark.parametrize("kill", KILL_POINTS)
def test_killed_run_resumes_without_changing_anything_twice(
    org: RunningEmulator, env: dict[str, str], journal_path: Path, kill: KillPoint
) -> None:
    """After a SIGKILL mid-run, `resume` finishes it: all at 20 s, each PATCHed once."""
    before = {action["id"]: action for action in org.state.stored_actions()}
    selectable = {
        action_id
        for action_id, action in before.items()
        if action_kind(action) is ActionKind.STANDARD
    }
    to_change = {key for key in selectable if timeout_of(before[key]) != TARGET}
    condition = kill_condition(kill, len(to_change), org, journal_path)
    process = subprocess.Popen(
        [*command_line(), "set", str(TARGET), "--all", "--yes"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    kill_when(process, condition)
    run = json.loads(run_subprocess(["history", "-o", "json"], env=env).stdout)[0]
    resumed = run_subprocess(["resume", run["id"]], env=env, timeout=60)

    assert process.returncode == -signal.SIGKILL
    assert run["status"] == "running"
    assert resumed.returncode == 0, resumed.stderr
    after = {action["id"]: action for action in org.state.stored_actions()}
    assert {key: timeout_of(after[key]) for key in selectable} == dict.fromkeys(
        selectable, TARGET
    )
    for action_id, action in after.items():
        bump = 1 if action_id in to_change else 0
        assert action["version"] == before[action_id]["version"] + bump, action_id
    patched = committed_patches(org)
    assert set(patched) == to_change
    assert max(patched.values()) == 1
    detail = run_subprocess(["history", run["id"], "-o", "json"], env=env)
    items = json.loads(detail.stdout)["items"]
    outcomes = Counter(item["outcome"] for item in items)
    assert not outcomes.keys() & LEFT_OUTCOMES
    if kill.event == "answer-lost":
        landed = re.search(r"(\d+) had already landed", resumed.stderr)
        assert landed is not None
        assert int(landed.group(1)) >= 1


@pytest.mark.parametrize("kill", [KillPoint("started", 0.3, 107)], ids=["ctrl-c"])
def test_interrupted_run_exits_130_and_resumes(
    org: RunningEmulator, env: dict[str, str], journal_path: Path, kill: KillPoint
) -> None:
    """Ctrl-C stops a run with exit 130, journaled as interrupted; resume ends it."""
    before = {action["id"]: action for action in org.state.stored_actions()}
    to_change = {
        action_id
        for action_id, action in before.items()
        if action_kind(action) is ActionKind.STANDARD and timeout_of(action) != TARGET
    }
    process = subprocess.Popen(
        [*command_line(), "set", str(TARGET), "--all", "--yes"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    rows = round(kill.share * len(to_change))
    deadline = time.monotonic() + RUN_SECONDS
    while started(journal_path) < rows and time.monotonic() < deadline:
        time.sleep(0.002)

    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    run = json.loads(run_subprocess(["history", "-o", "json"], env=env).stdout)[0]
    resumed = run_subprocess(["resume", run["id"]], env=env, timeout=60)

    assert process.returncode == 130
    assert b"interrupted" in stderr
    assert run["status"] == "interrupted"
    assert run["counts"]["not attempted"] > 0
    assert resumed.returncode == 0, resumed.stderr
    after = {action["id"]: action for action in org.state.stored_actions()}
    for action_id in to_change:
        assert timeout_of(after[action_id]) == TARGET
        assert after[action_id]["version"] == before[action_id]["version"] + 1
    assert max(committed_patches(org).values()) == 1


def test_a_live_run_is_not_resumed_until_it_is_killed(journal_path: Path) -> None:
    """`resume` of a live run is refused with its pid (exit 13) until it is killed.

    A run held in a long rate-limit pause stays alive however slow the machine is;
    once SIGKILLed it holds nothing, and `resume` finishes it.
    """
    with running_emulator(actions=12, seed=108, rate_limit=1_000_000) as org:
        org.state.set_extra_latency(200)
        env = {
            **os.environ,
            "GENESYSCLOUD_OAUTHCLIENT_ID": org.client_id,
            "GENESYSCLOUD_OAUTHCLIENT_SECRET": org.client_secret,
            "GENESYSCLOUD_REGION": org.base_url,
        }
        process = subprocess.Popen(
            [*command_line(), "set", str(TARGET), "--all", "--yes"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        planned = _first_true(lambda: bool(journal_states(journal_path)))
        org.state.inject_429(50, retry_after="120")
        assert planned, "the run journaled no plan"
        assert process.poll() is None
        run = json.loads(run_subprocess(["history", "-o", "json"], env=env).stdout)[0]

        refused = run_subprocess(["resume", run["id"]], env=env)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        org.state.clear_faults()
        resumed = run_subprocess(["resume", run["id"]], env=env, timeout=60)

    assert refused.returncode == 13
    assert refused.stderr == (
        f"error: run {run['id']} is still running in process {process.pid}; "
        "wait for it or stop it\n"
    )
    assert resumed.returncode == 0, resumed.stderr
    assert not journal_states(journal_path, run["id"]).keys() & PENDING_STATES


def _first_true(condition: Callable[[], bool]) -> bool:
    """Poll `condition` until it holds (True) or the run's time is up (False)."""
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    return False
