"""A bulk run killed with SIGKILL at 22 points, each time resumed to the end.

Each point starts a fresh emulator of 30 actions served by this process, runs
`action-timeouts set 20 --all --yes` as a real process, and kills it at one point
of its run: once the journal holds the plan, once k actions have begun their write
(k spread from the first to the last), during the verification, or at a time drawn
from a seeded generator. A thread watches the journal and kills the run the moment
the point is reached. Then `resume` finishes the run found with `history`, and the
org must end as one uninterrupted run would leave it: every standard action at 20 s
with its version one higher, nothing else changed, each action PATCHed once, and
the journal holding no pending or failed item and a change for each changed action.
"""

from __future__ import annotations

import copy
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from action_timeouts.actions import ActionKind, action_kind, current_timeout
from action_timeouts.emulator.server import RunningEmulator, running_emulator
from action_timeouts.journal import Journal
from cli.helpers import command_line, invoke, journal_states, run_subprocess

pytestmark = pytest.mark.crash

ACTIONS = 30
TARGET = 20
# Slows every answer so that the run lasts a second or two and can be hit anywhere.
LATENCY_MS = 120
UNREACHED_RATE_LIMIT = 1_000_000
WRITE_STARTED = ("intent", "changed", "verified")
LEFT_OVER = frozenset({"planned", "intent", "sent", "failed", "refused"})
CHANGED = frozenset({"changed", "verified"})
POLL_SECONDS = 0.001
RUN_SECONDS = 30.0
TIME_SEED = 7
TIME_POINTS = 5
# The longest delay drawn for a timed kill, after the plan is in the journal.
LONGEST_DELAY = 1.0


@dataclass(frozen=True)
class KillPoint:
    """Where to kill a run: after `started` writes began, `verified` verifications,
    or `delay` seconds after the plan reached the journal (one of the three)."""

    started: int | None = None
    verified: int | None = None
    delay: float | None = None

    def reached(self, states: Mapping[str, int], since_plan: float) -> bool:
        """Tell whether the run has got this far, given the journal's state counts."""
        if self.started is not None:
            return sum(states.get(state, 0) for state in WRITE_STARTED) >= self.started
        if self.verified is not None:
            return states.get("verified", 0) >= self.verified
        assert self.delay is not None
        return since_plan >= self.delay


def kill_points() -> list[Any]:
    """Return the kill points as test parameters with readable ids."""
    rng = random.Random(TIME_SEED)
    points = [pytest.param(KillPoint(started=0), id="plan-journaled")]
    for started in (1, 2, 3, 5, 7, 8, 9, 11, 13, 15, 17, 19, 21, 23):
        points.append(pytest.param(KillPoint(started=started), id=f"{started}-begun"))
    for verified in (1, 12):
        points.append(
            pytest.param(KillPoint(verified=verified), id=f"{verified}-verified")
        )
    for _ in range(TIME_POINTS):
        delay = round(rng.uniform(0.0, LONGEST_DELAY), 3)
        points.append(pytest.param(KillPoint(delay=delay), id=f"at-{delay}s"))
    return points


class RunKiller:
    """Watches the journal from a thread and SIGKILLs the run once a point is reached.

    The thread polls with `Event.wait`, so ending the watch wakes it at once.
    """

    def __init__(
        self, process: subprocess.Popen[bytes], journal: Path, point: KillPoint
    ) -> None:
        self.process = process
        self.journal = journal
        self.point = point
        self.done = threading.Event()
        self.states: dict[str, int] = {}
        self.thread = threading.Thread(
            target=self.watch, name="run-killer", daemon=True
        )

    def watch(self) -> None:
        """Poll until the point is reached (kill) or the run ends by itself."""
        planned_at: float | None = None
        while self.process.poll() is None and not self.done.wait(POLL_SECONDS):
            states = journal_states(self.journal)
            if states and planned_at is None:
                planned_at = time.monotonic()
            since = 0.0 if planned_at is None else time.monotonic() - planned_at
            if planned_at is not None and self.point.reached(states, since):
                self.process.send_signal(signal.SIGKILL)
                self.states = states
                break
        self.done.set()

    def run(self) -> dict[str, int]:
        """Watch the run to its kill and return the journal's counts at that moment."""
        self.thread.start()
        reached = self.done.wait(RUN_SECONDS)
        self.done.set()
        self.thread.join(5)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        assert reached, "the kill point was not reached in time"
        return self.states


@pytest.fixture
def org(request: pytest.FixtureRequest) -> Iterator[RunningEmulator]:
    """Serve a fresh org of 30 actions, its own per point, every answer slowed down."""
    seed = 300 + request.node.callspec.indices["point"]
    with running_emulator(
        actions=ACTIONS, seed=seed, rate_limit=UNREACHED_RATE_LIMIT
    ) as emulator:
        emulator.state.set_extra_latency(LATENCY_MS)
        yield emulator


@pytest.fixture
def environment(
    org: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Point this process and the run's processes at the org."""
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", org.client_id)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", org.client_secret)
    monkeypatch.setenv("GENESYSCLOUD_REGION", org.base_url)
    return dict(os.environ)


def expected_org(before: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return the org as one run would leave it: standard actions at 20 s, once."""
    expected = copy.deepcopy(dict(before))
    for action in expected.values():
        if (
            action_kind(action) is ActionKind.STANDARD
            and current_timeout(action) != TARGET
        ):
            action["config"]["timeoutSeconds"] = TARGET
            action["version"] += 1
    return expected


def applied_patches(org: RunningEmulator) -> Counter[str]:
    """Count, per action id, the PATCHes the emulator applied (answered 200)."""
    return Counter(
        entry["path"].rsplit("/", 1)[1]
        for entry in org.state.request_log()
        if entry["method"] == "PATCH" and entry["status"] == 200
    )


def newest_run() -> dict[str, Any]:
    """Return the newest run as `history -o json` lists it."""
    result = invoke("history", "-o", "json")
    assert result.exit_code == 0, result.output
    runs: list[dict[str, Any]] = json.loads(result.stdout)
    return runs[0]


def start_run(environment: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start `set 20 --all --yes` as a real process of the installed command."""
    return subprocess.Popen(
        [*command_line(), "set", str(TARGET), "--all", "--yes"],
        env=dict(environment),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stored(org: RunningEmulator) -> dict[str, dict[str, Any]]:
    """Return every stored action by id."""
    return {str(action["id"]): action for action in org.state.stored_actions()}


def journal_outcome(path: Path, run_id: str) -> tuple[str, dict[str, str]]:
    """Return a run's status and the state of each of its items, by action id."""
    with Journal.open(path) as journal:
        detail = journal.run(run_id)
    return detail.run.status, {item.action_id: item.state for item in detail.items}


@pytest.mark.parametrize("point", kill_points())
def test_a_run_killed_anywhere_resumes_to_one_clean_change_each(
    org: RunningEmulator,
    environment: dict[str, str],
    journal_path: Path,
    point: KillPoint,
) -> None:
    """Killed at this point and resumed, the org ends as one unbroken run leaves it."""
    before = stored(org)
    expected = expected_org(before)
    process = start_run(environment)

    at_kill = RunKiller(process, journal_path, point).run()

    assert process.returncode == -signal.SIGKILL, f"the run ended first: {at_kill}"
    run = newest_run()
    assert run["status"] == "running"
    resumed = run_subprocess(["resume", run["id"]], env=environment, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    assert stored(org) == expected
    changed = {key for key, action in expected.items() if action != before[key]}
    assert applied_patches(org) == Counter(dict.fromkeys(changed, 1))
    status, states = journal_outcome(journal_path, run["id"])
    assert status == "finished"
    assert not set(states.values()) & LEFT_OVER, states
    assert {key for key, state in states.items() if state in CHANGED} == changed
