"""Bulk runs over what a server may hold or do beyond what the API promises.

A timeout stored as something other than whole seconds 1-60 (loaded into the
emulator directly, since no PATCH can write one) and a platform that merges config
on PATCH, where clearing a timeout cannot work. No corpus is needed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from action_timeouts.actions import ActionsApi, current_timeout
from action_timeouts.bulk import Change, Runner, changes_from_plan
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.errors import TimeoutNotClearedError
from action_timeouts.journal import Journal
from action_timeouts.plan import Plan, Selector, build_plan

from .emulated import requests, web_action

WORKERS = 8
TARGET = 10


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """Open a fresh journal in the test's directory."""
    with Journal.open(tmp_path / "journal.sqlite3") as opened:
        yield opened


def start_run(
    emu: RunningEmulator,
    api: ActionsApi,
    journal: Journal,
    new: int | None,
    selector: Selector,
) -> tuple[str, Plan, list[Change]]:
    """List, plan `new` (None: unset) and journal the plan; return the changes."""
    listing = api.list_all()
    plan = build_plan(
        listing.actions, selector, new, unset=new is None, total=listing.total
    )
    run_id = journal.start_run(
        command="set",
        org=emu.base_url,
        client_id=emu.client_id,
        selectors=selector.summary(),
        requested={"timeout": new},
    )
    journal.record_plan(run_id, plan.items)
    listed = {item["id"]: item for item in listing.actions}
    return run_id, plan, changes_from_plan(plan, listed)


def test_clearing_under_a_merging_platform_stops_at_the_first_patch(
    emu: RunningEmulator, api: ActionsApi, journal: Journal
) -> None:
    """Under merged config the first clearing is read back alone and stops the run:
    one PATCH, that action failed, the others pending for `resume`."""
    emu.state.set_options(patch_mode="merge")
    emu.state.load_actions(
        [
            web_action(f"clear-{number}", timeoutSeconds=20 + number)
            for number in range(6)
        ]
    )
    before = {action["id"]: action for action in emu.state.stored_actions()}
    run_id, _plan, changes = start_run(emu, api, journal, None, Selector(all=True))

    report = Runner(api, journal, run_id, workers=WORKERS).run(changes)

    assert isinstance(report.stopped_by, TimeoutNotClearedError)
    assert "merge config on PATCH" in str(report.stopped_by)
    assert len(requests(emu, "PATCH")) == 1
    (failed,) = report.failed
    assert sorted(report.not_attempted) == sorted(set(before) - {failed})
    assert report.changed == []
    states = {item.action_id: item.state for item in journal.run(run_id).items}
    assert states.pop(failed) == "failed"
    assert set(states.values()) == {"planned"}
    after = {action["id"]: action for action in emu.state.stored_actions()}
    assert {key: value["config"] for key, value in after.items()} == {
        key: value["config"] for key, value in before.items()
    }


def test_clearing_under_a_replacing_platform_runs_every_change(
    emu: RunningEmulator, api: ActionsApi, journal: Journal
) -> None:
    """Where PATCH replaces the config, the first clearing checked alone lets the
    others go ahead: every timeout is cleared and verified."""
    emu.state.load_actions(
        [
            web_action(f"clear-{number}", timeoutSeconds=20 + number)
            for number in range(6)
        ]
    )
    run_id, _plan, changes = start_run(emu, api, journal, None, Selector(all=True))

    report = Runner(api, journal, run_id, workers=WORKERS).run(changes)

    assert (report.stopped_by, report.failed, len(report.changed)) == (None, {}, 6)
    assert {current_timeout(a) for a in emu.state.stored_actions()} == {None}
    states = {item.state for item in journal.run(run_id).items}
    assert states == {"verified"}


INVALID_STORED = {"text": "30", "fraction": 5.0, "true": True, "zero": 0, "ninety": 90}


@pytest.mark.parametrize("new", [TARGET, None], ids=["set", "unset"])
def test_a_bulk_plan_skips_invalid_stored_timeouts_and_keeps_them(
    emu: RunningEmulator, api: ActionsApi, journal: Journal, new: int | None
) -> None:
    """An action whose stored timeout is not whole seconds 1-60 is planned skipped,
    the reason quoting the value, and the run leaves it exactly as it was."""
    documents = [
        web_action(f"odd-{label}", timeoutSeconds=value)
        for label, value in INVALID_STORED.items()
    ]
    emu.state.load_actions([*documents, web_action("fine", timeoutSeconds=5)])
    before = {action["id"]: action for action in emu.state.stored_actions()}
    selector = Selector(below=45) if new == TARGET else Selector(all=True)

    run_id, plan, changes = start_run(emu, api, journal, new, selector)
    report = Runner(api, journal, run_id, workers=WORKERS).run(changes)

    skipped = {item.action_id: (item.old, item.reason) for item in plan.skipped}
    assert skipped == {
        f"odd-{label}": (
            value,
            "timeoutSeconds from the server is not a whole number 1-60 "
            f"({json.dumps(value)})",
        )
        for label, value in INVALID_STORED.items()
    }
    assert [change.action_id for change in changes] == ["fine"]
    assert (report.changed, report.failed) == (["fine"], {})
    for action_id in skipped:
        assert emu.state.stored_action(action_id) == before[action_id]
    items = {item.action_id: item for item in journal.run(run_id).items}
    assert {items[action_id].state for action_id in skipped} == {"skipped"}
    assert {items[action_id].old_timeout for action_id in skipped} == {None}
