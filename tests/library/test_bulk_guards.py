"""Bulk runs leave alone the actions someone else changed since the plan."""

from __future__ import annotations

from pathlib import Path

from action_timeouts.actions import ActionsApi, current_timeout
from action_timeouts.bulk import Runner, changes_from_plan
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.journal import Journal
from action_timeouts.plan import Selector, build_plan

from .emulated import web_action

TARGET = 10


def test_a_timeout_raised_by_someone_else_is_not_lowered_by_a_below_run(
    emu: RunningEmulator, api: ActionsApi, tmp_path: Path
) -> None:
    """`below` never lowers: an action whose timeout someone raises above the target
    between the listing and our write is refused and keeps their timeout, while the
    rest of the plan goes ahead."""
    emu.state.load_actions(
        [web_action(f"order-{n}", timeoutSeconds=5) for n in range(3)]
    )
    listing = api.list_all()
    plan = build_plan(listing.actions, Selector(below=TARGET), TARGET)
    listed = {item["id"]: item for item in listing.actions}
    emu.state.concurrent_edit("order-1", change={"config": {"timeoutSeconds": 45}})

    with Journal.open(tmp_path / "journal.sqlite3") as journal:
        run_id = journal.start_run(
            command="set", org="emulator", client_id="c", selectors={}, requested={}
        )
        report = Runner(api, journal, run_id).run(changes_from_plan(plan, listed))
        states = {item.action_id: item.state for item in journal.run(run_id).items}

    assert report.refused == {
        "order-1": "changed by someone else since the plan (timeout now 45 s)"
    }
    assert sorted(report.changed) == ["order-0", "order-2"]
    assert current_timeout(emu.state.stored_action("order-1")) == 45
    assert states["order-1"] == "refused"
