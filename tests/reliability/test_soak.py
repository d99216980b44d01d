"""A bulk run over several hundred actions while a seeded storm of faults hits it.

One `set --all` run takes the command line's own path (listing, plan, journaled
`Runner`) against a served emulator. A background thread fires a fault schedule
drawn from a fixed seed and keyed to the emulator's request count, so the same
faults arrive at the same points of every run: bursts of 429 with `Retry-After:
1`, a 5 % rate of 502/503/504 (30 % for a stretch, while most writes also lose
their answer), dropped connections, writes that commit but are never answered,
expired tokens, and another editor who changes some actions (a header, sometimes
the name) just before the tool writes them. A few actions are edited before every
write, so the tool must give up on them.

Afterwards every action is compared with its stored original: each one the plan
meant to change is either changed as planned and verified, or untouched and
reported failed; nothing else moved, the other editor's changes survive, and the
version arithmetic proves that no action was written twice. The figures of the
run are printed, and written as JSON to `$ACTION_TIMEOUTS_SOAK_REPORT` when set.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from action_timeouts.actions import CONFLICT_ATTEMPTS, ActionsApi, current_timeout
from action_timeouts.bulk import Change, RunReport, changes_from_plan
from action_timeouts.cli.actions_command import complete_listing
from action_timeouts.cli.runs_command import run_changes, run_facts
from action_timeouts.emulator.server import RunningEmulator, running_emulator
from action_timeouts.emulator.state import EmulatorState
from action_timeouts.http import ApiClient, ClientStats
from action_timeouts.journal import Journal, JournalItem
from action_timeouts.plan import Plan, Selector, build_plan
from action_timeouts.regions import resolve_region

pytestmark = [pytest.mark.soak, pytest.mark.timeout(420)]

# Read at import time: the autouse fixture that cleans the environment removes it.
REPORT_PATH = os.environ.get("ACTION_TIMEOUTS_SOAK_REPORT")
SUMMARY_PROPERTY = "summary"
ACTIONS = 400
ORG_SEED = 7
SCHEDULE_SEED = 20261203
TARGET = 15
WORKERS = 8
# Roughly a real org's answer time; it makes the run last a minute or so.
LATENCY_MS = 300
UNREACHED_RATE_LIMIT = 1_000_000
# The schedule covers this many emulator requests; a clean run makes about 1,000.
HORIZON = 1_100
# (share of the horizon, rate, status): 5 % of 502/503/504, and a bad patch mid-run.
ERROR_PHASES = ((0.0, 0.05, 503), (0.3, 0.05, 502), (0.5, 0.3, 503), (0.6, 0.05, 504))
# During this share of the horizon, most writes lose their answer.
OUTAGE = (0.5, 0.6)
OUTAGE_SPACING = 6
HOT_ACTIONS = 3
EDITS_AT_START = 12
EDITS_PER_BATCH = 3
POLL_SECONDS = 0.01
INJECTION_SECONDS = 300.0
FINAL_STATES = frozenset({"verified", "failed", "unchanged", "skipped"})
ACTION_PATH = "/api/v2/integrations/actions/"
# What the figures call the faults each state method queues (error rates apart).
FAULT_NAMES = {
    "inject_429": "429_answers",
    "inject_drops": "dropped_connections",
    "inject_commit_without_answer": "writes_committed_without_answer",
    "expire_tokens": "token_expiries",
    "concurrent_edit": "concurrent_edits_queued",
}


@dataclass(frozen=True)
class Fault:
    """One fault: the state method to call, once the emulator logged `at` requests."""

    at: int
    method: str
    arguments: dict[str, Any]

    def amount(self) -> int:
        """Return how many requests or actions this fault is meant to hit."""
        return int(self.arguments.get("count", self.arguments.get("times", 1)))


@dataclass
class Schedule:
    """A seeded fault schedule and the other editor's change for each action."""

    faults: list[Fault] = field(default_factory=list)
    edits: dict[str, dict[str, Any]] = field(default_factory=dict)


def periodic(rng: random.Random, spacing: tuple[int, int]) -> Iterator[int]:
    """Yield request counts up to the horizon, spaced by draws from `spacing`."""
    at = rng.randint(*spacing)
    while at < HORIZON:
        yield at
        at += rng.randint(*spacing)


def build_schedule(seed: int, to_change: Sequence[str]) -> Schedule:
    """Draw the whole fault schedule from one seed, before the run starts."""
    rng = random.Random(seed)
    schedule = Schedule()
    add_error_phases(rng, schedule)
    add_outage(schedule)
    for at in periodic(rng, (120, 220)):
        arguments = {"count": rng.randint(4, 12), "retry_after": "1"}
        schedule.faults.append(Fault(at, "inject_429", arguments))
    for at in periodic(rng, (60, 120)):
        methods = rng.choice([None, ["PATCH"], ["GET"]])
        arguments = {"count": rng.randint(1, 3), "methods": methods}
        schedule.faults.append(Fault(at, "inject_drops", arguments))
    for at in periodic(rng, (80, 140)):
        arguments = {"count": rng.randint(1, 2)}
        schedule.faults.append(Fault(at, "inject_commit_without_answer", arguments))
    for at in periodic(rng, (200, 300)):
        schedule.faults.append(Fault(at, "expire_tokens", {}))
    add_editor(rng, schedule, to_change)
    schedule.faults.sort(key=lambda fault: fault.at)
    return schedule


def add_error_phases(rng: random.Random, schedule: Schedule) -> None:
    """Switch the random server errors on, changing rate and status by phase."""
    for share, rate, status in ERROR_PHASES:
        arguments = {"rate": rate, "status": status, "seed": rng.randrange(2**32)}
        schedule.faults.append(Fault(int(share * HORIZON), "set_error_rate", arguments))


def add_outage(schedule: Schedule) -> None:
    """Lose the answers of many writes in a row, committed or not, for a while."""
    start, end = (int(share * HORIZON) for share in OUTAGE)
    for at in range(start, end, OUTAGE_SPACING):
        schedule.faults.append(
            Fault(at, "inject_drops", {"count": 1, "methods": ["PATCH"]})
        )
        schedule.faults.append(Fault(at, "inject_commit_without_answer", {"count": 1}))


def add_editor(
    rng: random.Random, schedule: Schedule, to_change: Sequence[str]
) -> None:
    """Schedule the other editor: hot actions, a first batch, then batches mid-run."""
    for number, action_id in enumerate(rng.sample(list(to_change), HOT_ACTIONS)):
        change = {"config": header(f"hot-{number}")}
        register_edit(schedule, 0, action_id, change, CONFLICT_ATTEMPTS + 2)
    batches = [(0, EDITS_AT_START)]
    batches += [(at, EDITS_PER_BATCH) for at in periodic(rng, (60, 100))]
    for at, count in batches:
        # Actions the run has probably not reached yet, so the edit lands mid-run.
        start = int(len(to_change) * min(0.9, at / HORIZON + 0.15))
        candidates = [item for item in to_change[start:] if item not in schedule.edits]
        for action_id in rng.sample(candidates, min(count, len(candidates))):
            number = len(schedule.edits)
            change: dict[str, Any] = {"config": header(f"edit-{number}")}
            if number % 3 == 0:
                change["name"] = f"Renamed by another editor ({number})"
            register_edit(schedule, at, action_id, change, 1)


def header(value: str) -> dict[str, Any]:
    """Return a config fragment that sets the other editor's marker header."""
    return {"request": {"headers": {"X-Other-Editor": value}}}


def register_edit(
    schedule: Schedule, at: int, action_id: str, change: dict[str, Any], times: int
) -> None:
    """Add one concurrent edit of an action to the schedule."""
    schedule.edits[action_id] = change
    arguments = {"action_id": action_id, "times": times, "change": change}
    schedule.faults.append(Fault(at, "concurrent_edit", arguments))


class FaultInjector:
    """Fires a schedule at the emulator from a background thread, by request count.

    It stops when the block ends, when the schedule is spent, or after
    `INJECTION_SECONDS`; leaving the block clears every fault still queued.
    """

    def __init__(self, state: EmulatorState, faults: Sequence[Fault]) -> None:
        self.state = state
        self.pending = deque(faults)
        self.fired: list[Fault] = []
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self.run, name="soak-faults", daemon=True)

    def __enter__(self) -> FaultInjector:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.finished.set()
        self.thread.join(10)
        self.state.clear_faults()

    def run(self) -> None:
        """Poll the request count and fire every fault that is due."""
        deadline = time.monotonic() + INJECTION_SECONDS
        while self.pending and time.monotonic() < deadline:
            seen = self.state.request_count()
            while self.pending and self.pending[0].at <= seen:
                fault = self.pending.popleft()
                getattr(self.state, fault.method)(**fault.arguments)
                self.fired.append(fault)
            if self.finished.wait(POLL_SECONDS):
                return


@dataclass
class SoakRun:
    """What one bulk run produced: its plan, report, journal items and timings."""

    plan: Plan
    report: RunReport
    items: dict[str, JournalItem]
    stats: ClientStats
    seconds: float


def bulk_run(emulator: RunningEmulator, journal: Journal) -> SoakRun:
    """Run `set TARGET --all` as the command line does, with a journal."""
    started = time.monotonic()
    endpoint = resolve_region(emulator.base_url)
    with ApiClient(endpoint, emulator.client_id, emulator.client_secret) as client:
        api = ActionsApi(client)
        plan, changes = plan_everything(api)
        facts = run_facts(client, "set", Selector(all=True).summary(), TARGET)
        run_id = journal.start_run(**facts)
        journal.record_plan(run_id, plan.items)
        report = run_changes(api, journal, run_id, changes, {"workers": WORKERS})
    items = {item.action_id: item for item in journal.run(run_id).items}
    seconds = time.monotonic() - started
    return SoakRun(plan, report, items, client.stats, seconds)


def plan_everything(api: ActionsApi) -> tuple[Plan, list[Change]]:
    """List every action and plan TARGET for all of them, as `set --all` does."""
    listing = complete_listing(api, {})
    plan = build_plan(listing.actions, Selector(all=True), TARGET, total=listing.total)
    listed = {str(action["id"]): action for action in listing.actions}
    return plan, changes_from_plan(plan, listed)


def planned_changes(actions: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return, in listing order, the ids a `set TARGET --all` plan will change."""
    plan = build_plan(actions, Selector(all=True), TARGET)
    return [item.action_id for item in plan.to_change]


@dataclass
class RequestFacts:
    """What the emulator's request log says about the run."""

    commits: Counter[str]
    conflicts: Counter[str]
    observed: dict[str, int]


def read_request_log(log: Sequence[Mapping[str, Any]]) -> RequestFacts:
    """Count, per action, the PATCHes that committed and those refused as stale.

    A PATCH commits when answered 200, or when its answer was dropped after the
    client was admitted (a drop before admission has no client). The emulator
    answers 409 only to a PATCH that follows another editor's change, so the 409s
    of an action count the concurrent edits applied to it.
    """
    commits: Counter[str] = Counter()
    conflicts: Counter[str] = Counter()
    for entry in log:
        if entry["method"] != "PATCH":
            continue
        action_id = entry["path"].removeprefix(ACTION_PATH)
        if entry["status"] == 200 or (entry["status"] is None and entry["client_id"]):
            commits[action_id] += 1
        elif entry["status"] == 409:
            conflicts[action_id] += 1
    return RequestFacts(commits, conflicts, observed_faults(log))


def observed_faults(log: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Count the faults the client actually met, by kind, from the request log."""
    statuses = Counter(entry["status"] for entry in log)
    unanswered = [entry for entry in log if entry["status"] is None]
    return {
        "requests": len(log),
        "logins": sum(1 for entry in log if entry["path"] == "/oauth/token"),
        "429": statuses[429],
        "5xx": sum(count for status, count in statuses.items() if (status or 0) >= 500),
        "401": statuses[401],
        "409": statuses[409],
        "dropped": sum(1 for entry in unanswered if not entry["client_id"]),
        "committed_without_answer": sum(
            1 for entry in unanswered if entry["client_id"]
        ),
    }


def with_edit(document: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a document with a change merged in, objects key by key."""
    merged = copy.deepcopy(dict(document))
    for key, value in change.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = with_edit(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def expected_action(
    before: Mapping[str, Any], edit: Mapping[str, Any] | None, edits: int, changed: bool
) -> dict[str, Any]:
    """Return what an action must look like: the editor's change, then ours, if any."""
    source = with_edit(before, edit) if edits and edit is not None else before
    expected = copy.deepcopy(dict(source))
    if changed:
        expected["config"]["timeoutSeconds"] = TARGET
    expected["version"] = before["version"] + edits + int(changed)
    return expected


@dataclass
class Evidence:
    """Everything the checks compare: stored actions before and after, run, log."""

    before: dict[str, dict[str, Any]]
    after: dict[str, dict[str, Any]]
    run: SoakRun
    facts: RequestFacts
    schedule: Schedule

    @functools.cached_property
    def planned(self) -> list[str]:
        """Return the ids the plan meant to change, in plan order."""
        return [item.action_id for item in self.run.plan.to_change]

    @functools.cached_property
    def planned_ids(self) -> frozenset[str]:
        """Return the ids the plan meant to change, as a set."""
        return frozenset(self.planned)

    def changed(self, action_id: str) -> bool:
        """Tell whether a planned action now stores the planned timeout."""
        stored = current_timeout(self.after[action_id])
        return action_id in self.planned_ids and stored == TARGET


def check_stored(evidence: Evidence, action_id: str) -> None:
    """Assert an action moved only by the editor's change, ours, and one write each."""
    facts, changed = evidence.facts, evidence.changed(action_id)
    edits = facts.conflicts[action_id]
    assert edits == 0 or action_id in evidence.schedule.edits, f"{action_id}: 409"
    edit = evidence.schedule.edits.get(action_id)
    expected = expected_action(evidence.before[action_id], edit, edits, changed)
    assert evidence.after[action_id] == expected, f"{action_id} changed otherwise"
    commits = facts.commits[action_id]
    assert commits == int(changed), f"{action_id}: {commits} committed PATCHes"


def check_journal(evidence: Evidence, action_id: str) -> None:
    """Assert the journal and the report tell what the emulator stores."""
    item, report = evidence.run.items[action_id], evidence.run.report
    if evidence.changed(action_id):
        assert item.state == "verified", (action_id, item.state, item.reason)
        assert item.after_version == evidence.after[action_id]["version"]
        assert action_id in report.changed
        return
    assert item.state == "failed", (action_id, item.state)
    assert item.reason, action_id
    assert report.failed[action_id] == item.reason


def figures(evidence: Evidence, injector: FaultInjector) -> dict[str, Any]:
    """Collect the run's figures: faults by kind, actions, outcomes, time."""
    run, facts = evidence.run, evidence.facts
    changed = sum(evidence.changed(action_id) for action_id in evidence.planned)
    edited = [fault for fault in injector.fired if fault.method == "concurrent_edit"]
    return {
        "seeds": {"org": ORG_SEED, "schedule": SCHEDULE_SEED},
        "actions": ACTIONS,
        "target_seconds": TARGET,
        "latency_ms": LATENCY_MS,
        "workers": WORKERS,
        "plan": run.plan.counts(),
        "outcomes": {"verified": changed, "failed": len(run.report.failed)},
        "failed": dict(sorted(run.report.failed.items())),
        "faults_injected": injected(injector.fired),
        "faults_not_reached": len(injector.pending),
        "faults_observed": facts.observed,
        "concurrent_edits": {
            "actions_registered": len(edited),
            "applied": sum(facts.conflicts.values()),
            "actions_edited": len(facts.conflicts),
        },
        "client": {
            "requests": run.stats.requests,
            "retries": run.stats.retries,
            "rate_limited": run.stats.rate_limited,
            "transport_errors": run.stats.transport_errors,
            "waited_seconds": round(run.stats.waited_seconds, 1),
        },
        "run_seconds": round(run.seconds, 1),
    }


def injected(fired: Sequence[Fault]) -> dict[str, Any]:
    """Total the fired faults by kind; error-rate phases as (request, rate, status)."""
    totals: Counter[str] = Counter()
    for fault in fired:
        if fault.method in FAULT_NAMES:
            totals[FAULT_NAMES[fault.method]] += fault.amount()
    phases = [
        [fault.at, fault.arguments["rate"], fault.arguments["status"]]
        for fault in fired
        if fault.method == "set_error_rate"
    ]
    return {**dict(sorted(totals.items())), "error_rate_phases": phases}


def publish(report: Mapping[str, Any], node: pytest.Item) -> None:
    """Hand the summary line to the session's summary; write the figures if asked.

    The line travels as a user property of the test's report, so it reaches the
    summary from a pytest-xdist worker too (see `tests/conftest.py`).
    """
    faults = report["faults_observed"]
    line = (
        f"soak: {report['actions']} actions, {report['plan']['change']} to "
        f"change: {report['outcomes']['verified']} verified, "
        f"{report['outcomes']['failed']} failed; {faults['requests']} requests "
        f"with {faults['429']} x 429, {faults['5xx']} x 5xx, {faults['dropped']} "
        f"dropped, {faults['committed_without_answer']} committed unanswered, "
        f"{faults['401']} x 401, {faults['409']} x 409; {report['run_seconds']} s"
    )
    node.user_properties.append((SUMMARY_PROPERTY, line))
    if REPORT_PATH:
        Path(REPORT_PATH).write_text(json.dumps(report, indent=2) + "\n", "utf-8")


@pytest.fixture
def org() -> Iterator[RunningEmulator]:
    """Serve a generated org of 400 actions on loopback, every answer slowed down."""
    with running_emulator(
        actions=ACTIONS,
        seed=ORG_SEED,
        rate_limit=UNREACHED_RATE_LIMIT,
        latency_ms=LATENCY_MS,
    ) as emulator:
        assert urlsplit(emulator.base_url).hostname == "127.0.0.1"
        yield emulator


def test_bulk_run_under_faults_changes_each_action_once_or_reports_it(
    org: RunningEmulator, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Under a seeded fault storm each planned action is verified or left and failed."""
    before = {str(action["id"]): action for action in org.state.stored_actions()}
    to_change = planned_changes(list(before.values()))
    schedule = build_schedule(SCHEDULE_SEED, to_change)
    journal = Journal.open(tmp_path / "journal.sqlite3")

    with journal, FaultInjector(org.state, schedule.faults) as injector:
        run = bulk_run(org, journal)

    after = {str(action["id"]): action for action in org.state.stored_actions()}
    facts = read_request_log(org.state.request_log())
    evidence = Evidence(before, after, run, facts, schedule)
    publish(figures(evidence, injector), request.node)
    assert after.keys() == before.keys()
    assert evidence.planned == to_change
    for action_id in before:
        check_stored(evidence, action_id)
    for action_id in evidence.planned:
        check_journal(evidence, action_id)
    assert {item.state for item in run.items.values()} <= FINAL_STATES
    assert run.items.keys() == {item.action_id for item in run.plan.items}
    assert not run.report.not_attempted
