"""`history`, `undo` and `resume` of journaled runs."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

import action_timeouts.journal as journal_module
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.emulator.state import VIEW
from action_timeouts.http import RetryPolicy
from action_timeouts.journal import Journal
from action_timeouts.plan import PlanItem

from .helpers import (
    ACME,
    STANDARD_IDS,
    ZENDESK,
    invoke,
    last_run_id,
    patches,
    stored_timeouts,
    timeout_of,
)

pytestmark = pytest.mark.usefixtures("credentials")


def history_items(run_id: str) -> dict[str, dict[str, Any]]:
    """Return the items of one run from `history RUN -o json`, by action id."""
    result = invoke("history", run_id, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return {row["id"]: row for row in json.loads(result.stdout)["items"]}


def outcome(row: dict[str, Any]) -> tuple[str, str | None]:
    """Return the outcome of a `history RUN` row with its reason."""
    return row["outcome"], row["reason"]


def edit_behind_our_back(
    emulator: RunningEmulator, action_id: str, seconds: int
) -> None:
    """Let someone else change an action's timeout (and so its version)."""
    action = emulator.state.stored_action(action_id)
    action["config"]["timeoutSeconds"] = seconds
    action["version"] += 1
    emulator.state.load_actions([action])


def test_history_is_empty_at_first() -> None:
    """`history -o json` with no runs prints an empty list."""
    result = invoke("history", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_history_lists_runs_newest_first(emulator: RunningEmulator) -> None:
    """Each run appears in `history` with its command, org, status and counts."""
    assert invoke("set", "10", "order-lookup").exit_code == 0
    assert invoke("set", "20", "--all", "--yes").exit_code == 0

    result = invoke("history", "-o", "json")

    runs = json.loads(result.stdout)
    assert len(runs) == 2
    newest, oldest = runs
    assert newest["command"] == oldest["command"] == "set"
    assert newest["status"] == oldest["status"] == "finished"
    assert newest["org"] == emulator.base_url
    assert {key: n for key, n in newest["counts"].items() if n} == {
        "changed": 4,
        "unchanged": 1,
        "skipped": 3,
    }
    assert {key: n for key, n in oldest["counts"].items() if n} == {"changed": 1}
    assert newest["undo_of"] is None


def test_history_table_shows_each_run(emulator: RunningEmulator) -> None:
    """The `history` table has a row per run with its id."""
    invoke("set", "10", "order-lookup")
    run_id = last_run_id()

    result = invoke("history")

    assert result.exit_code == 0, result.stderr
    assert run_id in result.stdout
    assert "finished" in result.stdout


def test_history_of_a_run_lists_every_action(emulator: RunningEmulator) -> None:
    """`history RUN` lists each action of the run with old, new and its outcome."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()

    items = history_items(run_id)

    assert set(items) == {
        *STANDARD_IDS,
        "customAuth_-_int-acme",
        "static_builtin-1",
        "function-1",
    }
    assert outcome(items["order-lookup"]) == ("changed", None)
    assert (items["order-lookup"]["old"], items["order-lookup"]["new"]) == (5, 20)
    assert items["customer-lookup"]["old"] is None
    assert outcome(items["weather-get"])[0] == "unchanged"
    assert outcome(items["static_builtin-1"])[0] == "skipped"
    assert "built-in" in items["static_builtin-1"]["reason"]


def history_rows(run_id: str, output_format: str) -> list[dict[str, Any]]:
    """Return the rows `history RUN` prints in a machine format, parsed."""
    result = invoke("history", run_id, "-o", output_format)
    assert result.exit_code == 0, result.stderr
    if output_format == "json":
        rows: list[dict[str, Any]] = json.loads(result.stdout)["items"]
        return rows
    if output_format == "ndjson":
        return [json.loads(line) for line in result.stdout.splitlines()]
    return list(csv.DictReader(io.StringIO(result.stdout)))


@pytest.mark.parametrize("output_format", ["json", "ndjson", "csv"])
def test_history_of_a_run_prints_the_outcome_scheme(
    emulator: RunningEmulator, output_format: str
) -> None:
    """`history RUN` rows have the fields and outcomes every run prints, any format."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()

    rows = {row["id"]: row for row in history_rows(run_id, output_format)}

    assert list(rows["order-lookup"]) == [
        "id",
        "name",
        "category",
        "integration_id",
        "old",
        "new",
        "outcome",
        "reason",
    ]
    order = rows["order-lookup"]
    assert (order["category"], order["integration_id"]) == (ACME, "int-acme")
    assert order["outcome"] == "changed"
    assert rows["weather-get"]["outcome"] == "unchanged"
    assert rows["function-1"]["outcome"] == "skipped"
    if output_format == "csv":
        assert (order["old"], order["new"], order["reason"]) == ("5", "20", "")
        assert rows["customer-lookup"]["old"] == ""
    else:
        assert (order["old"], order["new"], order["reason"]) == (5, 20, None)
        assert rows["customer-lookup"]["old"] is None


def test_history_of_a_run_json_is_the_run_document(emulator: RunningEmulator) -> None:
    """`history RUN -o json` prints the run's id and counts beside its items."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()

    document = json.loads(invoke("history", run_id, "-o", "json").stdout)

    assert document["run"] == run_id
    assert document["counts"]["changed"] == 4
    assert document["counts"]["skipped"] == 3
    assert len(document["items"]) == 8


def test_history_counts_runs_by_outcome(emulator: RunningEmulator) -> None:
    """The list of runs counts each run's actions by the outcome `history RUN` shows."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()

    [run] = json.loads(invoke("history", "-o", "json").stdout)
    table = invoke("history").stdout

    assert (
        run["counts"]
        == json.loads(invoke("history", run_id, "-o", "json").stdout)["counts"]
    )
    assert "changed 4, unchanged 1, skipped 3" in table


def test_history_shows_an_action_not_read_yet_as_not_attempted(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An action a stopped `set` never read: not attempted, no timeout claimed."""
    run_id = single_set_stopped_before_its_read(emulator, monkeypatch)

    [row] = history_rows(run_id, "json")
    table = invoke("history", run_id)

    assert (row["id"], row["outcome"], row["reason"]) == (
        "ticket-create",
        "not attempted",
        "not read yet",
    )
    assert (row["old"], row["new"]) == (None, 20)
    assert "unset" not in table.stdout
    assert f"`action-timeouts resume {run_id}` finishes the run" in table.stderr


def test_history_table_says_unset_for_people(emulator: RunningEmulator) -> None:
    """The `history RUN` table writes an unset timeout as "unset (60 s)"."""
    invoke("set", "--unset", "ticket-create")

    result = invoke("history", last_run_id())

    row = next(line for line in result.stdout.splitlines() if "ticket-create" in line)
    assert "30 s" in row
    assert "unset (60 s)" in row


def test_history_accepts_a_unique_prefix(emulator: RunningEmulator) -> None:
    """`history` finds a run by a unique prefix of its id."""
    invoke("set", "10", "order-lookup")
    run_id = last_run_id()

    result = invoke("history", run_id[:-2])

    assert result.exit_code == 0, result.stderr
    assert run_id in result.stderr


def test_history_of_an_unknown_run_exits_2() -> None:
    """`history RUN` for a run the journal lacks exits 2 and says how to list runs."""
    result = invoke("history", "20000101-000000-dead")

    assert result.exit_code == 2
    assert "action-timeouts history" in result.stderr


def test_undo_puts_back_every_timeout_including_unset(
    emulator: RunningEmulator,
) -> None:
    """`undo RUN --yes` restores each changed action's old timeout, unset included."""
    before = stored_timeouts(emulator)
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()

    result = invoke("undo", run_id, "--yes")

    assert result.exit_code == 0, result.stderr
    assert stored_timeouts(emulator) == before
    stored = emulator.state.stored_action("customer-lookup")
    assert "timeoutSeconds" not in stored["config"]


def test_undo_of_an_unset_run_restores_the_values(emulator: RunningEmulator) -> None:
    """Undoing a run that cleared timeouts sets the old values again."""
    invoke("set", "--unset", "--category", ZENDESK, "--yes")
    run_id = last_run_id()

    result = invoke("undo", run_id, "--yes")

    assert result.exit_code == 0, result.stderr
    timeouts = stored_timeouts(emulator)
    assert timeouts["ticket-create"] == 30
    assert timeouts["sms-send"] == 60


def test_undo_is_recorded_as_a_run_of_its_own(emulator: RunningEmulator) -> None:
    """The undo run names the run it reverts in `history`."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()
    invoke("undo", run_id, "--yes")

    runs = json.loads(invoke("history", "-o", "json").stdout)

    assert runs[0]["command"] == "undo"
    assert runs[0]["undo_of"] == run_id


def test_undo_refuses_an_action_changed_since(emulator: RunningEmulator) -> None:
    """An action someone else changed after the run is left alone and reported."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()
    edit_behind_our_back(emulator, "ticket-create", 45)
    patches_before = len(patches(emulator.state.request_log()))

    result = invoke("undo", run_id, "--yes")

    assert result.exit_code == 1
    assert "ticket-create" in result.stderr
    assert "changed by someone else" in result.stderr
    timeouts = stored_timeouts(emulator)
    assert timeouts["ticket-create"] == 45
    assert timeouts["order-lookup"] == 5
    assert timeouts["customer-lookup"] is None
    assert timeouts["sms-send"] == 60
    sent = patches(emulator.state.request_log())[patches_before:]
    assert "ticket-create" not in {entry["path"].rsplit("/", 1)[1] for entry in sent}


def test_undo_summary_counts_a_refusal_once(emulator: RunningEmulator) -> None:
    """Undo's summary counts a refused action as refused, not also as skipped."""
    invoke("set", "20", "--all", "--yes")
    edit_behind_our_back(emulator, "ticket-create", 45)

    result = invoke("undo", last_run_id(), "--yes")

    assert result.exit_code == 1
    assert "0 skipped, 1 refused" in result.stderr
    assert "changed 3, unchanged 0, skipped 0, refused 1, failed 0" in result.stderr
    counts = history_run_counts(last_run_id())
    assert (counts["changed"], counts["skipped"], counts["refused"]) == (3, 0, 1)


def history_run_counts(run_id: str) -> dict[str, int]:
    """Return a run's counts by outcome, as `history RUN -o json` gives them."""
    result = invoke("history", run_id, "-o", "json")
    counts: dict[str, int] = json.loads(result.stdout)["counts"]
    return counts


def test_undo_journals_an_action_it_refuses_as_refused(
    emulator: RunningEmulator,
) -> None:
    """`history` of the undo shows a refused action as refused, as undo printed it."""
    invoke("set", "20", "--all", "--yes")
    edit_behind_our_back(emulator, "ticket-create", 45)
    assert invoke("undo", last_run_id(), "--yes").exit_code == 1
    undo_run = last_run_id()

    item = history_items(undo_run)["ticket-create"]

    assert item["outcome"] == "refused"
    assert item["reason"].startswith("changed by someone else since")
    assert run_status(undo_run) == "failed"


def test_a_run_that_refuses_an_action_is_journaled_failed(
    emulator: RunningEmulator,
) -> None:
    """A run ends failed when it refused an action, as its resume would record it."""
    change = {"config": {"timeoutSeconds": 45}}
    emulator.state.concurrent_edit("ticket-create", times=1, change=change)

    result = invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()
    status = run_status(run_id)
    resumed = invoke("resume", run_id)

    assert result.exit_code == 1
    assert "refused ticket-create" in result.stderr
    assert status == "failed"
    assert resumed.exit_code == 1
    assert run_status(run_id) == "failed"


def test_second_undo_finds_everything_restored(emulator: RunningEmulator) -> None:
    """Undoing a run twice changes nothing the second time and exits 0."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()
    invoke("undo", run_id, "--yes")
    restored = emulator.state.stored_actions()

    result = invoke("undo", run_id, "--yes")

    assert result.exit_code == 0, result.stderr
    assert "refused" not in result.stderr
    assert "0 to change, 4 unchanged" in result.stderr
    assert emulator.state.stored_actions() == restored


def test_undo_without_yes_and_terminal_refuses(emulator: RunningEmulator) -> None:
    """`undo` without --yes and without a terminal changes nothing."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()
    after_run = stored_timeouts(emulator)

    result = invoke("undo", run_id)

    assert result.exit_code == 1
    assert stored_timeouts(emulator) == after_run


def test_undo_dry_run_shows_the_plan_only(emulator: RunningEmulator) -> None:
    """`undo RUN --dry-run -o json` prints what it would restore and sends no PATCH."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()
    patches_before = len(patches(emulator.state.request_log()))

    result = invoke("undo", run_id, "--dry-run", "-o", "json")

    assert result.exit_code == 0, result.stderr
    items = {item["id"]: item for item in json.loads(result.stdout)["items"]}
    assert items["customer-lookup"]["new"] is None
    assert items["order-lookup"]["new"] == 5
    assert len(patches(emulator.state.request_log())) == patches_before


def test_resume_of_a_finished_run_does_nothing(emulator: RunningEmulator) -> None:
    """`resume` of a run with nothing pending sends no PATCH and exits 0."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()
    patches_before = len(patches(emulator.state.request_log()))

    result = invoke("resume", run_id)

    assert result.exit_code == 0, result.stderr
    assert "0 pending" in result.stderr
    assert len(patches(emulator.state.request_log())) == patches_before


def test_journal_lives_in_the_state_directory(
    emulator: RunningEmulator, journal_path: Path
) -> None:
    """Runs are journaled in $ACTION_TIMEOUTS_STATE_DIR, privately."""
    invoke("set", "10", "order-lookup")

    assert journal_path.exists()
    assert journal_path.stat().st_mode & 0o077 == 0


def test_a_state_directory_that_is_a_file_says_what_to_do(
    emulator: RunningEmulator, state_dir: Path
) -> None:
    """A file where the state directory should be: one line saying what to do."""
    state_dir.write_text("not a directory\n", encoding="utf-8")

    result = invoke("set", "20", "order-lookup")

    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"error: cannot open the journal {state_dir / 'journal.sqlite3'}: {state_dir} "
        "is a file, not a directory: point ACTION_TIMEOUTS_STATE_DIR at a directory, "
        "or move the file aside; nothing was changed"
    ]
    assert patches(emulator.state.request_log()) == []


def test_damaged_journal_is_one_line_exit_3(journal_path: Path) -> None:
    """A journal with an empty schema_version table: one line naming it, exit 3."""
    journal_path.parent.mkdir(mode=0o700)
    connection = sqlite3.connect(journal_path)
    connection.execute("CREATE TABLE schema_version (version INTEGER)")
    connection.commit()
    connection.close()

    result = invoke("history")

    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: the journal {journal_path} cannot be used")
    assert "move it aside" in line


def test_run_on_a_locked_journal_sends_nothing_exit_13(
    emulator: RunningEmulator, journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal another process keeps locked stops the run: one line, exit 13."""
    monkeypatch.setattr(journal_module, "BUSY_SECONDS", 0.1)
    invoke("history")
    holder = sqlite3.connect(journal_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = invoke("set", "20", "--all", "--yes")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.exit_code == 13
    assert result.stderr.splitlines()[-1].startswith(
        f"error: the journal {journal_path} is locked by another process"
    )
    assert patches(emulator.state.request_log()) == []


def test_a_journal_locked_during_a_run_stops_it_in_one_line(
    emulator: RunningEmulator, journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal locked once the plan is recorded: no write, one error line, exit 13.

    No per-action warning comes before it: the run stops at the first intent the
    journal cannot record, as it stops at a missing permission.
    """
    monkeypatch.setattr(journal_module, "BUSY_SECONDS", 0.1)
    invoke("history")
    holder = sqlite3.connect(journal_path, isolation_level=None)
    record_plan = Journal.record_plan

    def plan_then_lock(journal: Journal, run_id: str, *plan: Any) -> None:
        record_plan(journal, run_id, *plan)
        holder.execute("BEGIN EXCLUSIVE")

    monkeypatch.setattr(Journal, "record_plan", plan_then_lock)
    try:
        result = invoke("set", "20", "--all", "--yes")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.exit_code == 13
    lines = result.stderr.splitlines()
    assert [line for line in lines if "locked" in line or "warning" in line] == [
        lines[-1]
    ]
    assert lines[-1].startswith(f"error: the journal {journal_path} is locked")
    assert lines[-1].endswith(
        f"then `action-timeouts resume {last_run_id()}` finishes the run"
    )
    assert patches(emulator.state.request_log()) == []


@pytest.mark.parametrize("command", ["resume", "undo"])
def test_a_run_still_running_is_not_resumed_or_undone(
    emulator: RunningEmulator, journal_path: Path, command: str
) -> None:
    """`resume` or `undo` of a live run: one line naming its process, exit 13."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()
    requests_before = len(emulator.state.request_log())

    with Journal.open(journal_path) as journal, journal.holding_run(run_id, "running"):
        result = invoke(command, run_id, *(["--yes"] if command == "undo" else []))

    assert result.exit_code == 13
    assert result.stderr == (
        f"error: run {run_id} is still running in process {os.getpid()}; "
        "wait for it or stop it\n"
    )
    assert len(emulator.state.request_log()) == requests_before


def killed_run(
    emulator: RunningEmulator,
    journal_path: Path,
    action_ids: list[str],
    *,
    landed: bool,
) -> str:
    """Journal a `set 20` killed after the intent of each action, and return its id.

    With `landed` each write took effect and the run recorded it changed, but was
    killed before verifying it; without, it was killed before any write.
    """
    with Journal.open(journal_path) as journal:
        run_id = journal.start_run(
            command="set",
            org=emulator.base_url,
            client_id=emulator.client_id,
            selectors={"ids": action_ids},
            requested={"timeoutSeconds": 20},
        )
        for action_id in action_ids:
            before = emulator.state.stored_action(action_id)
            old = before["config"].get("timeoutSeconds")
            journal.record_intent(run_id, action_id, before, old, 20)
            if landed:
                edit_behind_our_back(emulator, action_id, 20)
                version = emulator.state.stored_action(action_id)["version"]
                journal.record_outcome(
                    run_id, action_id, "changed", after_version=version
                )
    return run_id


@pytest.mark.parametrize("landed", [False, True], ids=["intent", "changed"])
def test_resume_records_a_deleted_action_failed_and_goes_on(
    emulator: RunningEmulator, journal_path: Path, landed: bool
) -> None:
    """A deleted action is recorded failed ("no longer exists"); the rest finishes."""
    run_id = killed_run(
        emulator, journal_path, ["order-lookup", "ticket-create"], landed=landed
    )
    emulator.state.delete_action("order-lookup")

    result = invoke("resume", run_id)

    assert result.exit_code == 1
    assert "failed order-lookup: no longer exists" in result.stderr
    assert stored_timeouts(emulator)["ticket-create"] == 20
    items = history_items(run_id)
    assert items["order-lookup"]["outcome"] == "failed"
    assert items["order-lookup"]["reason"] == "no longer exists"
    assert outcome(items["ticket-create"]) == ("changed", None)
    runs = json.loads(invoke("history", "-o", "json").stdout)
    assert runs[0]["status"] == "failed"


CONCURRENT_EDITS = [
    pytest.param(
        {"config": {"timeoutSeconds": 45}},
        "timeout now 45 s, run left 20 s",
        id="timeout",
    ),
    pytest.param({"name": "Renamed"}, "its name changed since", id="name"),
    pytest.param(
        {"config": {"request": {"requestType": "PUT"}}},
        "its config changed since (request.requestType)",
        id="config",
    ),
]


@pytest.mark.parametrize(("change", "reason"), CONCURRENT_EDITS)
def test_undo_refuses_an_edit_made_while_it_writes(
    emulator: RunningEmulator, change: dict[str, Any], reason: str
) -> None:
    """An edit that makes undo's PATCH stale is found on the re-read and kept."""
    invoke("set", "20", "ticket-create")
    run_id = last_run_id()
    emulator.state.concurrent_edit("ticket-create", times=1, change=change)

    result = invoke("undo", run_id, "--yes")

    assert result.exit_code == 1
    assert f"refused ticket-create: changed by someone else since: {reason}" in (
        result.stderr
    )
    stored = emulator.state.stored_action("ticket-create")
    assert timeout_of(stored) == change.get("config", {}).get("timeoutSeconds", 20)
    assert len(patches(emulator.state.request_log())) == 2


def test_undo_goes_ahead_after_later_runs_were_undone(
    emulator: RunningEmulator,
) -> None:
    """Runs A then B, undo B, undo A: the actions are as A left them, so A is undone."""
    before = stored_timeouts(emulator)
    invoke("set", "15", "--category", ZENDESK, "--yes")
    first = last_run_id()
    invoke("set", "20", "--category", ZENDESK, "--yes")
    assert invoke("undo", last_run_id(), "--yes").exit_code == 0

    result = invoke("undo", first, "--yes")

    assert result.exit_code == 0, result.stderr
    assert "refused 0, failed 0" in result.stderr
    assert stored_timeouts(emulator) == before


def test_undo_goes_ahead_when_only_the_version_moved(
    emulator: RunningEmulator,
) -> None:
    """An action saved again unchanged since the run is still as the run left it."""
    invoke("set", "20", "ticket-create")
    run_id = last_run_id()
    action = emulator.state.stored_action("ticket-create")
    emulator.state.load_actions([{**action, "version": action["version"] + 1}])

    result = invoke("undo", run_id, "--yes")

    assert result.exit_code == 0, result.stderr
    assert stored_timeouts(emulator)["ticket-create"] == 30


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("name", "Create Ticket v2", "its name changed since"),
        ("category", ACME, "its category changed since"),
        (
            "requestTemplate",
            "{}",
            "its config changed since (request.requestTemplate)",
        ),
    ],
    ids=["name", "category", "template"],
)
def test_undo_refuses_an_action_whose_content_changed(
    emulator: RunningEmulator, field: str, value: str, reason: str
) -> None:
    """An action whose name, category or template changed since is refused, named."""
    invoke("set", "20", "ticket-create")
    run_id = last_run_id()
    action = emulator.state.stored_action("ticket-create")
    if field == "requestTemplate":
        action["config"]["request"][field] = value
    else:
        action[field] = value
    emulator.state.load_actions([{**action, "version": action["version"] + 1}])

    result = invoke("undo", run_id, "--yes")

    assert result.exit_code == 1
    assert f"changed by someone else since: {reason}" in result.stderr
    assert stored_timeouts(emulator)["ticket-create"] == 20


def planned_run(emulator: RunningEmulator, journal_path: Path, action_id: str) -> str:
    """Journal a `set 20` of one action killed once its plan was recorded."""
    action = emulator.state.stored_action(action_id)
    item = PlanItem(
        action_id,
        action["name"],
        action["category"],
        action["integrationId"],
        action["version"],
        timeout_of(action),
        20,
        "change",
    )
    with Journal.open(journal_path) as journal:
        run_id = journal.start_run(
            command="set",
            org=emulator.base_url,
            client_id=emulator.client_id,
            selectors={"ids": [action_id]},
            requested={"timeoutSeconds": 20},
        )
        journal.record_plan(run_id, [item])
    return run_id


def test_resume_refuses_a_planned_action_changed_since(
    emulator: RunningEmulator, journal_path: Path
) -> None:
    """A planned action someone else changed before the resume is refused and kept."""
    run_id = planned_run(emulator, journal_path, "ticket-create")
    edit_behind_our_back(emulator, "ticket-create", 45)

    result = invoke("resume", run_id)

    assert result.exit_code == 1
    assert "refused ticket-create: changed by someone else since" in result.stderr
    assert stored_timeouts(emulator)["ticket-create"] == 45
    assert history_items(run_id)["ticket-create"]["outcome"] == "refused"


def test_resume_refuses_an_edit_made_while_it_writes(
    emulator: RunningEmulator, journal_path: Path
) -> None:
    """An edit that makes resume's PATCH stale is found on the re-read and kept."""
    run_id = planned_run(emulator, journal_path, "ticket-create")
    change = {"config": {"timeoutSeconds": 45}}
    emulator.state.concurrent_edit("ticket-create", times=1, change=change)

    result = invoke("resume", run_id)

    assert result.exit_code == 1
    assert "refused ticket-create: changed by someone else since" in result.stderr
    assert stored_timeouts(emulator)["ticket-create"] == 45


@pytest.mark.parametrize("landed", [False, True], ids=["not-landed", "landed"])
def test_undo_of_an_unfinished_run_says_to_resume_it_first(
    emulator: RunningEmulator, journal_path: Path, landed: bool
) -> None:
    """Undo of a run with an intent left: one line saying to resume, exit 14."""
    run_id = killed_run(emulator, journal_path, ["order-lookup"], landed=False)
    if landed:
        edit_behind_our_back(emulator, "order-lookup", 20)
    requests_before = len(emulator.state.request_log())

    result = invoke("undo", run_id, "--yes")

    assert result.exit_code == 14
    [line] = result.stderr.splitlines()
    assert f"run `action-timeouts resume {run_id}` first" in line
    assert len(emulator.state.request_log()) == requests_before


def test_undo_of_an_unfinished_run_counts_sent_and_unattempted_apart(
    emulator: RunningEmulator, journal_path: Path
) -> None:
    """The refusal counts writes that may have been sent apart from unattempted ones."""
    from action_timeouts.cli.runs_command import unread_item

    run_id = killed_run(emulator, journal_path, ["order-lookup"], landed=False)
    with Journal.open(journal_path) as journal:
        journal.record_plan(
            run_id, [unread_item("sms-send", 20), unread_item("ticket-create", 20)]
        )

    result = invoke("undo", run_id, "--yes")

    assert result.exit_code == 14
    [line] = result.stderr.splitlines()
    assert "1 of its actions may or may not have been changed" in line
    assert "and 2 were never attempted" in line


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[httpx.URL]:
    """Record every request any httpx client of this process sends."""
    urls: list[httpx.URL] = []
    original = httpx.HTTPTransport.handle_request

    def recording(
        transport: httpx.HTTPTransport, request: httpx.Request
    ) -> httpx.Response:
        urls.append(request.url)
        return original(transport, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", recording)
    return urls


@pytest.mark.parametrize("command", ["resume", "undo"])
def test_a_run_of_another_org_is_not_resumed_or_undone(
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    sent: list[httpx.URL],
    command: str,
) -> None:
    """Settings pointing at another org than the run's: one line, exit 3, no request."""
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()
    monkeypatch.setenv("GENESYSCLOUD_REGION", "eu-west-1")
    sent.clear()

    result = invoke(command, run_id, *(["--yes"] if command == "undo" else []))

    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"error: run {run_id} was made on {emulator.base_url}; your settings point "
        f"at https://api.mypurecloud.ie: point them at the run's org (--region or "
        f"--profile) to {command} it"
    ]
    assert sent == []


def test_undo_takes_another_spelling_of_the_run_org(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """localhost:PORT and 127.0.0.1:PORT are one org: the undo goes ahead."""
    before = stored_timeouts(emulator)
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()
    port = emulator.base_url.rsplit(":", 1)[1]
    monkeypatch.setenv("GENESYSCLOUD_REGION", f"localhost:{port}")

    result = invoke("undo", run_id, "--yes")

    assert result.exit_code == 0, result.stderr
    assert stored_timeouts(emulator) == before


def test_undo_with_another_client_of_the_org_warns_and_goes_on(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another OAuth client of the run's org: a warning naming both, then the undo."""
    before = stored_timeouts(emulator)
    invoke("set", "20", "--all", "--yes")
    run_id = last_run_id()
    permissions = ["integrations:action:view", "integrations:action:edit"]
    emulator.state.add_client("second-client", "second-secret", permissions)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "second-client")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "second-secret")

    result = invoke("undo", run_id, "--yes")

    assert result.exit_code == 0, result.stderr
    assert (
        f"warning: run {run_id} was made with OAuth client {emulator.client_id}; "
        "your settings use second-client"
    ) in result.stderr
    assert stored_timeouts(emulator) == before


def test_a_run_records_its_oauth_client_id(
    emulator: RunningEmulator, journal_path: Path
) -> None:
    """The journal holds the id of the OAuth client a run used (never its secret)."""
    invoke("set", "20", "order-lookup")

    with Journal.open(journal_path) as journal:
        [run] = journal.runs()
    assert run.client_id == emulator.client_id


def test_resume_of_a_run_that_journaled_no_action_says_so(
    emulator: RunningEmulator, journal_path: Path, sent: list[httpx.URL]
) -> None:
    """A run stopped before its plan was journaled is failed, not finished: exit 1."""
    with Journal.open(journal_path) as journal:
        run_id = journal.start_run(
            command="set",
            org=emulator.base_url,
            client_id=emulator.client_id,
            selectors={"all": True},
            requested={"timeoutSeconds": 20},
        )
        journal.finish_run(run_id, "interrupted")

    result = invoke("resume", run_id)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: run {run_id} stopped before it journaled any action, so it changed "
        "none and there is nothing to resume; run the command again"
    ]
    assert run_status(run_id) == "failed"
    assert sent == []


@pytest.mark.parametrize("landed", [False, True], ids=["intent", "changed"])
def test_resume_verifies_in_full_not_the_timeout_alone(
    emulator: RunningEmulator, journal_path: Path, landed: bool
) -> None:
    """An action at the new timeout whose template differs is failed, not verified.

    Resume compares what it reads with the journal's copy with the change made,
    as a verification after the write does, and names the fields that differ.
    """
    run_id = killed_run(emulator, journal_path, ["ticket-create"], landed=landed)
    action = emulator.state.stored_action("ticket-create")
    action["config"]["timeoutSeconds"] = 20
    action["config"]["request"]["requestTemplate"] = "{}"
    emulator.state.load_actions([{**action, "version": action["version"] + 1}])

    result = invoke("resume", run_id)

    assert result.exit_code == 1
    item = history_items(run_id)["ticket-create"]
    assert item["outcome"] == "failed"
    assert "config.request.requestTemplate" in item["reason"]
    assert "failed ticket-create: " in result.stderr
    assert len(patches(emulator.state.request_log())) == 0


def single_set_stopped_before_its_read(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Run `set 20 ticket-create` with every read of the action dropped; its run id."""
    monkeypatch.setattr(RetryPolicy, "backoff", lambda _policy, _retry: 0.0)
    emulator.state.inject_drops(RetryPolicy().read_attempts, methods=["GET"])
    stopped = invoke("set", "20", "ticket-create")
    assert stopped.exit_code == 10, stopped.stderr
    return last_run_id()


def test_resume_finishes_a_single_set_stopped_before_its_first_read(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`set ID` journals the action before reading it, so resume makes the change."""
    run_id = single_set_stopped_before_its_read(emulator, monkeypatch)

    result = invoke("resume", run_id)

    assert result.exit_code == 0, result.stderr
    assert f"run {run_id}: 1 pending, 1 changed now" in result.stderr
    assert stored_timeouts(emulator)["ticket-create"] == 20
    item = history_items(run_id)["ticket-create"]
    assert (item["outcome"], item["old"], item["new"]) == ("changed", 30, 20)
    assert item["reason"] is None


def test_resume_records_an_unread_action_found_as_asked_unchanged(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An action the run never read, found at the new timeout, is unchanged at it."""
    run_id = single_set_stopped_before_its_read(emulator, monkeypatch)
    edit_behind_our_back(emulator, "ticket-create", 20)

    result = invoke("resume", run_id)

    assert result.exit_code == 0, result.stderr
    assert "1 pending, 0 changed now, 1 unchanged" in result.stderr
    assert patches(emulator.state.request_log()) == []
    item = history_items(run_id)["ticket-create"]
    assert (item["outcome"], item["old"], item["new"]) == ("unchanged", 20, 20)


def run_status(run_id: str) -> str:
    """Return the journaled status of one run, read through `history -o json`."""
    runs = json.loads(invoke("history", "-o", "json").stdout)
    return str(next(run["status"] for run in runs if run["id"] == run_id))


def use_client(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch, permissions: list[str]
) -> None:
    """Log in from now on as a client holding only `permissions`."""
    emulator.state.add_client("limited", "limited-secret-0123456789", permissions)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "limited")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "limited-secret-0123456789")


def test_resume_stops_at_a_write_refused_for_a_missing_permission(
    emulator: RunningEmulator, journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 403 on resume's first write stops it, exit 5, with what to fix and resume."""
    action_ids = ["order-lookup", "ticket-create", "sms-send"]
    run_id = killed_run(emulator, journal_path, action_ids, landed=False)
    use_client(emulator, monkeypatch, VIEW)

    result = invoke("resume", run_id)

    assert result.exit_code == 5, result.stderr
    assert result.stderr.splitlines()[-1].endswith(
        f"give the client integrations:action:edit, then "
        f"`action-timeouts resume {run_id}`"
    )
    assert len(patches(emulator.state.request_log())) == 1
    assert run_status(run_id) == "interrupted"


def test_resume_stops_at_a_read_refused_for_a_missing_permission(
    emulator: RunningEmulator, journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 403 on resume's first read stops it, exit 5, naming the view permission."""
    run_id = killed_run(emulator, journal_path, ["order-lookup"], landed=True)
    use_client(emulator, monkeypatch, [])

    result = invoke("resume", run_id)

    assert result.exit_code == 5, result.stderr
    assert result.stderr.splitlines()[-1].endswith(
        f"give the client integrations:action:view, then "
        f"`action-timeouts resume {run_id}`"
    )
    assert outcome(history_items(run_id)["order-lookup"]) == (
        "changed",
        "written, not verified yet",
    )
