"""Bulk runs: many actions at once, journaled, verified from one listing."""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import action_timeouts.journal as journal_module
from action_timeouts.actions import (
    ACTIONS_PATH,
    ActionKind,
    ActionsApi,
    action_kind,
    current_timeout,
)
from action_timeouts.bulk import Change, Runner, RunReport, changes_from_plan
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.errors import InUseError
from action_timeouts.journal import Journal
from action_timeouts.plan import Selector, build_plan

from .emulated import (
    corpus_documents,
    fast_policy,
    logins,
    make_client,
    requests,
    unexpected_changes,
)

ACTION_COUNT = 60
WORKERS = 8
TARGET = 10
PAGE_SIZE = 25
# Requests sent before the first 429 reached the client arrive within this time.
IN_FLIGHT_SLACK = 0.1


def standard_documents(count: int) -> list[dict[str, Any]]:
    """Return `count` standard corpus actions, with a spread of timeouts but 10."""
    documents = [
        doc
        for _, doc in corpus_documents()
        if action_kind({"id": "x", **doc}) is ActionKind.STANDARD
    ][:count]
    assert len(documents) == count
    for position, doc in enumerate(documents):
        timeouts = [None, 5, 30, 60]
        timeout = timeouts[position % len(timeouts)]
        if timeout is not None:
            doc["config"]["timeoutSeconds"] = timeout
    return documents


@pytest.fixture
def org(emu: RunningEmulator) -> dict[str, dict[str, Any]]:
    """Seed the 60 actions (listed 25 a page) and return them as stored, by id."""
    emu.state.set_options(max_page_size=PAGE_SIZE)
    emu.state.load_actions(standard_documents(ACTION_COUNT))
    return {action["id"]: action for action in emu.state.stored_actions()}


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """Open a fresh journal in the test's directory."""
    with Journal.open(tmp_path / "journal.sqlite3") as opened:
        yield opened


def plan_changes(
    emu: RunningEmulator, api: ActionsApi, journal: Journal
) -> tuple[str, list[Change]]:
    """List, plan TARGET for all, start a run and journal its plan, as the CLI does."""
    listing = api.list_all()
    plan = build_plan(listing.actions, Selector(all=True), TARGET, total=listing.total)
    run_id = journal.start_run(
        command="set",
        org=emu.base_url,
        client_id=emu.client_id,
        selectors={"all": True},
        requested={"timeout": TARGET},
    )
    journal.record_plan(run_id, plan.items)
    listed = {item["id"]: item for item in listing.actions}
    return run_id, changes_from_plan(plan, listed)


def apply_changes(
    api: ActionsApi, journal: Journal, run_id: str, changes: list[Change], **extra: Any
) -> tuple[RunReport, float]:
    """Run the changes on WORKERS workers; return the report and the seconds taken."""
    started = time.monotonic()
    report = Runner(api, journal, run_id, workers=WORKERS, **extra).run(changes)
    elapsed = time.monotonic() - started
    journal.finish_run(run_id, "finished" if report.ok else "failed")
    return report, elapsed


def run_plan(
    emu: RunningEmulator, api: ActionsApi, journal: Journal, **extra: Any
) -> tuple[str, RunReport]:
    """Plan and apply TARGET on every action; return the run id and the report."""
    run_id, changes = plan_changes(emu, api, journal)
    report, _ = apply_changes(api, journal, run_id, changes, **extra)
    return run_id, report


def wrong_actions(
    emu: RunningEmulator, before: dict[str, dict[str, Any]], bumps: int = 1
) -> dict[str, list[str]]:
    """Map each action not changed exactly as planned to what is wrong with it."""
    found: dict[str, list[str]] = {}
    for action_id, old in before.items():
        new = emu.state.stored_action(action_id)
        wrong = unexpected_changes(old, new)
        if current_timeout(new) != TARGET:
            wrong.append(f"timeout {current_timeout(new)}")
        if new["version"] != old["version"] + bumps:
            wrong.append(f"version {old['version']} -> {new['version']}")
        if wrong:
            found[action_id] = wrong
    return found


def test_sixty_actions_change_concurrently_and_each_is_verified(
    emu: RunningEmulator,
    api: ActionsApi,
    org: dict[str, dict[str, Any]],
    journal: Journal,
) -> None:
    """Sixty actions change on eight workers, each journaled as intent then verified."""
    threads: set[str] = set()
    lock = threading.Lock()

    def progress(_action_id: str, _outcome: str) -> None:
        with lock:
            threads.add(threading.current_thread().name)

    run_id, report = run_plan(emu, api, journal, progress=progress)

    assert wrong_actions(emu, org) == {}
    assert (sorted(report.changed), report.failed, report.ok) == (sorted(org), {}, True)
    assert len(threads) > 1
    items = {item.action_id: item for item in journal.run(run_id).items}
    assert items.keys() == org.keys()
    for action_id, item in items.items():
        old = org[action_id]
        assert (item.state, item.before_version) == ("verified", old["version"])
        assert item.after_version == old["version"] + 1
        assert item.before is not None
        assert item.before["config"] == old["config"]
        assert (item.old_timeout, item.new_timeout) == (current_timeout(old), TARGET)


def test_verification_reads_back_with_the_listing_not_per_action(
    emu: RunningEmulator,
    api: ActionsApi,
    org: dict[str, dict[str, Any]],
    journal: Journal,
) -> None:
    """After the PATCHes only listing pages and template files are read, never an
    action's own document, and nothing at all is read one action at a time before."""
    start = len(emu.state.request_log())

    run_plan(emu, api, journal)

    log = requests(emu, start=start)
    last_patch = max(i for i, entry in enumerate(log) if entry["method"] == "PATCH")
    after = log[last_patch + 1 :]
    listing = [entry for entry in after if entry["path"] == ACTIONS_PATH]
    templates = [entry for entry in after if "/templates/" in entry["path"]]
    assert len(listing) == math.ceil(ACTION_COUNT / PAGE_SIZE)
    assert len(listing) + len(templates) == len(after)
    assert {entry["method"] for entry in after} == {"GET"}
    documents = [
        entry
        for entry in log
        if entry["method"] == "GET"
        and entry["path"].removeprefix(ACTIONS_PATH + "/") in org
    ]
    assert documents == []


def test_a_429_burst_pauses_every_worker(
    emu: RunningEmulator, org: dict[str, dict[str, Any]], journal: Journal
) -> None:
    """A burst of 429s pauses all workers together: once the first 429 is answered
    nothing more reaches the server until its Retry-After has passed, beyond the
    requests already on their way; each 429 is retried once and every action lands."""
    burst = WORKERS
    with make_client(emu) as client:
        api = ActionsApi(client)
        run_id, changes = plan_changes(emu, api, journal)
        start = len(emu.state.request_log())
        emu.state.inject_429(burst, retry_after=1)
        report, elapsed = apply_changes(api, journal, run_id, changes)
        rate_limited = client.stats.rate_limited

    assert wrong_actions(emu, org) == {}
    assert report.ok
    log = requests(emu, start=start)
    assert [entry["status"] for entry in log].count(429) == burst
    assert rate_limited == burst
    first = log[0]["time"]
    assert log[0]["status"] == 429
    on_their_way = [e for e in log if first < e["time"] < first + IN_FLIGHT_SLACK]
    held = [
        entry
        for entry in log
        if first + IN_FLIGHT_SLACK <= entry["time"] < first + 1 - IN_FLIGHT_SLACK
    ]
    assert len(on_their_way) < WORKERS
    assert held == []
    assert elapsed >= 1


def test_a_concurrent_edit_during_a_run_is_kept(
    emu: RunningEmulator,
    api: ActionsApi,
    org: dict[str, dict[str, Any]],
    journal: Journal,
) -> None:
    """An action edited by someone else after the listing is re-read, keeps their
    edit and gets the timeout; the rest of the run is unaffected."""
    edited = sorted(org)[:3]
    change = {"config": {"request": {"headers": {"X-Other-Editor": "yes"}}}}
    for action_id in edited:
        emu.state.concurrent_edit(action_id, change=change)
        org[action_id]["config"]["request"].setdefault("headers", {})
        org[action_id]["config"]["request"]["headers"]["X-Other-Editor"] = "yes"

    run_id, report = run_plan(emu, api, journal)

    others = {key: value for key, value in org.items() if key not in edited}
    assert wrong_actions(emu, others) == {}
    assert wrong_actions(emu, {key: org[key] for key in edited}, bumps=2) == {}
    states = {item.state for item in journal.run(run_id).items}
    assert (report.ok, states) == (True, {"verified"})


def test_a_dropped_patch_in_a_run_is_resent_without_an_extra_read(
    emu: RunningEmulator,
    api: ActionsApi,
    org: dict[str, dict[str, Any]],
    journal: Journal,
) -> None:
    """A PATCH lost before it committed is re-read once, resent, and verified from
    the listing like the others: the resend reads nothing back on its own."""
    emu.state.inject_drops(1, methods=["PATCH"])

    run_plan(emu, api, journal)

    assert wrong_actions(emu, org) == {}
    patches = requests(emu, "PATCH")
    (dropped,) = [entry for entry in patches if entry["status"] is None]
    reads = [
        entry for entry in requests(emu, "GET") if entry["path"] == dropped["path"]
    ]
    assert len(reads) == 1


def test_a_change_recorded_at_another_version_is_refused(
    emu: RunningEmulator, api: ActionsApi, org: dict[str, dict[str, Any]]
) -> None:
    """A change expecting a version the action has left is refused, not applied."""
    action_id = sorted(org)[0]
    changes = [Change(action_id, TARGET, expected_version=org[action_id]["version"])]
    emu.state.patch_action(action_id, {"version": org[action_id]["version"]})

    report = Runner(api, None, None).run(changes)

    assert list(report.refused) == [action_id]
    assert "version 2, expected 1" in report.refused[action_id]
    assert current_timeout(emu.state.stored_action(action_id)) != TARGET


def test_an_edit_after_the_write_fails_verification_from_the_listing(
    emu: RunningEmulator,
    api: ActionsApi,
    org: dict[str, dict[str, Any]],
    journal: Journal,
) -> None:
    """An action renamed by someone else between our write and the listing is
    reported failed, naming the field; the others are verified."""
    victim = sorted(org)[0]

    def rename_once(action_id: str, _outcome: str) -> None:
        if action_id == victim:
            action = emu.state.stored_action(victim)
            action.update(name="Renamed by someone else", version=action["version"] + 1)
            emu.state.load_actions([action])

    run_id, report = run_plan(emu, api, journal, progress=rename_once)

    assert list(report.failed) == [victim]
    assert "name" in report.failed[victim]
    assert victim not in report.changed
    assert len(report.changed) == ACTION_COUNT - 1
    states = {item.action_id: item.state for item in journal.run(run_id).items}
    assert states.pop(victim) == "failed"
    assert set(states.values()) == {"verified"}


def test_a_token_expiring_mid_run_costs_one_login_for_all_workers(
    emu: RunningEmulator, org: dict[str, dict[str, Any]], journal: Journal
) -> None:
    """Tokens expired halfway through a run are renewed once, shared by every
    worker, and every action still lands."""
    done: list[str] = []
    lock = threading.Lock()

    def expire_halfway(action_id: str, _outcome: str) -> None:
        with lock:
            done.append(action_id)
            if len(done) == ACTION_COUNT // 2:
                emu.state.expire_tokens()

    with make_client(emu) as client:
        api = ActionsApi(client)
        start = len(emu.state.request_log())
        _, report = run_plan(emu, api, journal, progress=expire_halfway)
        logins_made = client.auth.logins

    assert wrong_actions(emu, org) == {}
    assert report.ok
    assert logins_made == 2
    assert logins(emu, start=start) == 2


def test_without_a_listing_each_action_is_read_and_checked_in_full(
    emu: RunningEmulator,
    api: ActionsApi,
    org: dict[str, dict[str, Any]],
    journal: Journal,
) -> None:
    """When the verification listing fails, each action is read on its own and
    compared with how it was before, so a rename by someone else is still caught."""
    victim = sorted(org)[0]
    done: list[str] = []
    lock = threading.Lock()

    def fail_listing_after_last(action_id: str, _outcome: str) -> None:
        with lock:
            done.append(action_id)
            if len(done) != ACTION_COUNT:
                return
        action = emu.state.stored_action(victim)
        action.update(name="Renamed by someone else", version=action["version"] + 1)
        emu.state.load_actions([action])
        emu.state.inject_raw_response(
            fast_policy().read_attempts,
            503,
            methods=["GET"],
            path_prefix=ACTIONS_PATH,
        )

    run_id, report = run_plan(emu, api, journal, progress=fail_listing_after_last)

    assert list(report.failed) == [victim]
    assert "name" in report.failed[victim]
    assert len(report.changed) == ACTION_COUNT - 1
    states = {item.action_id: item.state for item in journal.run(run_id).items}
    assert states.pop(victim) == "failed"
    assert set(states.values()) == {"verified"}


def test_a_locked_journal_stops_the_run_with_nothing_sent(
    emu: RunningEmulator,
    api: ActionsApi,
    org: dict[str, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An intent the journal cannot record stops the run: no PATCH, none failed."""
    monkeypatch.setattr(journal_module, "BUSY_SECONDS", 0.1)
    with Journal.open(tmp_path / "journal.sqlite3") as journal:
        run_id, changes = plan_changes(emu, api, journal)
        holder = sqlite3.connect(journal.path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            report = Runner(api, journal, run_id, workers=WORKERS).run(changes)
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    assert isinstance(report.stopped_by, InUseError)
    assert report.failed == {}
    assert sorted(report.not_attempted) == sorted(c.action_id for c in changes)
    assert requests(emu, "PATCH") == []
