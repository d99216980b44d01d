"""The SQLite journal of runs, intents and outcomes."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest

import action_timeouts.journal as journal_module
from action_timeouts.errors import (
    ConfigurationError,
    InUseError,
    JournalWriteError,
    UsageError,
)
from action_timeouts.journal import (
    STATE_DIR_ENV,
    Journal,
    default_journal_path,
)
from action_timeouts.plan import PlanItem

ORG = "https://api.mypurecloud.com"
RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{4}")


def ticking_clock(start: datetime) -> Callable[[], datetime]:
    """Return a clock that moves one second forward at each call."""
    moments = iter(start + timedelta(seconds=n) for n in range(10_000))
    return lambda: next(moments)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where the test journal lives, under folders that do not exist yet."""
    return tmp_path / "state" / "nested" / "journal.sqlite3"


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    """An open journal with a clock that ticks one second per call."""
    clock = ticking_clock(datetime(2026, 12, 3, 18, 33, 1, tzinfo=UTC))
    with Journal.open(path, clock=clock) as opened:
        yield opened


START_FACTS: dict[str, Any] = {
    "command": "set",
    "org": ORG,
    "client_id": "client-123",
    "selectors": {"below": 30},
    "requested": {"timeoutSeconds": 30},
}


def start(journal: Journal, command: str = "set", **extra: Any) -> str:
    """Start a run with ordinary facts."""
    return journal.start_run(**{**START_FACTS, "command": command, **extra})


def action(action_id: str, timeout: int | None = 10) -> dict[str, Any]:
    """An action as read before a change, templates inline."""
    config: dict[str, Any] = {"request": {"requestTemplate": "${input.rawRequest}"}}
    if timeout is not None:
        config["timeoutSeconds"] = timeout
    return {
        "id": action_id,
        "name": f"Action {action_id}",
        "version": 4,
        "config": config,
    }


def plan_item(
    action_id: str, status: Literal["change", "unchanged", "skip"], reason: str = ""
) -> PlanItem:
    """A plan item changing 10 s to 30 s."""
    name = f"Action {action_id}"
    return PlanItem(action_id, name, "C", "i", 4, 10, 30, status, reason or None)


def mode(target: Path) -> int:
    """Return the permission bits of a file or folder."""
    return stat.S_IMODE(target.stat().st_mode)


# Files and places ----------------------------------------------------------------


def test_journal_file_is_private(journal: Journal, path: Path) -> None:
    """The journal file and SQLite's side files are readable by the owner only."""
    record_one_intent(journal)

    sides = list(path.parent.glob(path.name + "-*"))
    assert mode(path) == 0o600
    assert sides
    assert {side.name: mode(side) for side in sides} == {
        side.name: 0o600 for side in sides
    }


def test_created_folders_are_private(journal: Journal, path: Path) -> None:
    """Folders the journal creates are mode 0700."""
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700


def test_existing_file_is_made_private(tmp_path: Path) -> None:
    """A journal file found readable by others is made private; its folder is kept."""
    target = tmp_path / "journal.sqlite3"
    target.touch()
    target.chmod(0o644)
    folder_mode = mode(tmp_path)

    Journal.open(target).close()

    assert mode(target) == 0o600
    assert mode(tmp_path) == folder_mode


@pytest.mark.parametrize("folder_mode", [0o755, 0o750, 0o701], ids=oct)
def test_an_existing_shared_folder_is_kept_and_warned_of(
    tmp_path: Path, folder_mode: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A folder the journal did not create keeps its mode; one that the group or
    others may use gets one warning naming it and the command that makes it private."""
    folder = tmp_path / "shared state"
    folder.mkdir()
    folder.chmod(folder_mode)

    with caplog.at_level(logging.WARNING, logger="action_timeouts"):
        Journal.open(folder / "journal.sqlite3").close()

    assert mode(folder) == folder_mode
    assert mode(folder / "journal.sqlite3") == 0o600
    (record,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    message = record.getMessage()
    assert str(folder) in message
    assert f"`chmod 700 '{folder}'`" in message
    assert "\n" not in message


def test_an_existing_private_folder_gets_no_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A folder that only its owner may use is opened without a warning."""
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)

    with caplog.at_level(logging.WARNING, logger="action_timeouts"):
        Journal.open(folder / "journal.sqlite3").close()

    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_state_dir_variable_moves_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ACTION_TIMEOUTS_STATE_DIR decides where the default journal lives."""
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "custom"))

    with Journal.open() as opened:
        assert opened.path == tmp_path / "custom" / "journal.sqlite3"
    assert opened.path.exists()


def test_default_path_is_the_user_state_dir() -> None:
    """Without the variable the journal sits in the platform's state folder."""
    default = default_journal_path({})

    assert default.name == "journal.sqlite3"
    assert "action-timeouts" in default.parts


def test_reopening_keeps_runs(path: Path) -> None:
    """Runs survive closing and opening the journal again."""
    with Journal.open(path) as first:
        run_id = start(first)

    with Journal.open(path) as second:
        assert [run.id for run in second.runs()] == [run_id]


def test_newer_schema_is_refused(path: Path) -> None:
    """A journal written by a newer release is refused, not rewritten."""
    Journal.open(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE schema_version SET version = 99")
    connection.close()

    with pytest.raises(ConfigurationError, match="newer action-timeouts"):
        Journal.open(path)


# The schema of the first release, as a journal it wrote holds it.
FIRST_SCHEMA = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version VALUES (1)",
    """CREATE TABLE runs (id TEXT PRIMARY KEY, started_at TEXT NOT NULL,
        finished_at TEXT, user TEXT NOT NULL, org TEXT NOT NULL, client_id TEXT,
        command TEXT NOT NULL, selectors TEXT NOT NULL, requested TEXT NOT NULL,
        status TEXT NOT NULL, undo_of TEXT REFERENCES runs (id))""",
    """CREATE TABLE items (run_id TEXT NOT NULL REFERENCES runs (id),
        action_id TEXT NOT NULL, name TEXT, before TEXT, before_version INTEGER,
        old_timeout INTEGER, new_timeout INTEGER, state TEXT NOT NULL, reason TEXT,
        after_version INTEGER, updated_at TEXT NOT NULL,
        PRIMARY KEY (run_id, action_id))""",
    """INSERT INTO runs VALUES ('20261201-120000-ab12', '2026-12-01T12:00:00Z',
        '2026-12-01T12:00:05Z', 'ops', 'https://api.mypurecloud.ie', 'client-1',
        'set', '{}', '{}', 'finished', NULL)""",
    """INSERT INTO items VALUES ('20261201-120000-ab12', 'a1', 'Action a1', NULL, 4,
        10, 30, 'verified', NULL, 5, '2026-12-01T12:00:05Z')""",
)


def test_a_journal_of_the_first_schema_is_upgraded_keeping_its_runs(
    tmp_path: Path,
) -> None:
    """A first-schema journal gains the category columns; its runs stay as they were."""
    path = tmp_path / "journal.sqlite3"
    connection = sqlite3.connect(path)
    for statement in FIRST_SCHEMA:
        connection.execute(statement)
    connection.commit()
    connection.close()

    with Journal.open(path) as opened:
        [item] = opened.run("20261201-120000-ab12").items
        run_id = start(opened)
        read = {**action("a1"), "category": "Acme", "integrationId": "int-1"}
        opened.record_intent(run_id, "a1", read, 10, 30)
        [recorded] = opened.run(run_id).items

    assert (item.state, item.old_timeout, item.new_timeout) == ("verified", 10, 30)
    assert (item.category, item.integration_id) == (None, None)
    assert (recorded.category, recorded.integration_id) == ("Acme", "int-1")
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT version FROM schema_version").fetchall() == [(2,)]
    check.close()


def test_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    """A file that is not SQLite is a configuration error naming it."""
    target = tmp_path / "journal.sqlite3"
    target.write_bytes(b"this is not a database, just text " * 100)

    with pytest.raises(ConfigurationError, match=r"not a database.*move it aside"):
        Journal.open(target)


def test_a_directory_where_the_journal_should_be_says_what_to_do(
    tmp_path: Path,
) -> None:
    """A directory in the journal file's place: move it aside or choose another."""
    target = tmp_path / "journal.sqlite3"
    target.mkdir()

    with pytest.raises(ConfigurationError) as caught:
        Journal.open(target)

    assert str(caught.value) == (
        f"cannot open the journal {target}: it is a directory: move it aside, or "
        "point ACTION_TIMEOUTS_STATE_DIR at another directory; nothing was changed"
    )


JOURNAL_FILES = ["journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"]
AS_ROOT = pytest.mark.skipif(
    getattr(os, "geteuid", lambda: -1)() != 0, reason="needs root to chown"
)
NOBODY = 65534


def planted(path: Path) -> Path:
    """Plant a file of another's beside `path` and a symbolic link to it there."""
    victim = path.with_name("victim")
    victim.write_text("kept")
    victim.chmod(0o644)
    path.symlink_to(victim)
    return victim


def unsafe_refusal(path: Path, what: str, reason: str) -> str:
    return (
        f"the {what} {path} {reason}: remove it, or point ACTION_TIMEOUTS_STATE_DIR "
        "at a private directory; nothing was changed"
    )


@pytest.mark.parametrize("name", JOURNAL_FILES)
def test_a_symbolic_link_in_the_journals_place_is_refused(
    tmp_path: Path, name: str
) -> None:
    """A link where the journal or a side file goes is not followed: nothing is
    written, neither the journal nor the file the link points to."""
    victim = planted(tmp_path / name)
    target = tmp_path / "journal.sqlite3"

    with pytest.raises(ConfigurationError) as caught:
        Journal.open(target)

    assert str(caught.value) == unsafe_refusal(
        tmp_path / name, "journal file", "is a symbolic link"
    )
    assert (victim.read_text(), mode(victim)) == ("kept", 0o644)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "victim"])


def test_a_dangling_symbolic_link_creates_nothing(tmp_path: Path) -> None:
    """A link to a file that does not exist yet is refused, not created through."""
    target = tmp_path / "journal.sqlite3"
    target.symlink_to(tmp_path / "elsewhere")

    with pytest.raises(ConfigurationError, match="is a symbolic link: remove it"):
        Journal.open(target)

    assert not (tmp_path / "elsewhere").exists()


@AS_ROOT
@pytest.mark.parametrize("name", JOURNAL_FILES)
def test_a_journal_file_of_another_user_is_refused(tmp_path: Path, name: str) -> None:
    """A journal or side file another user made first (who could read it whatever
    its mode) is refused and left as it is."""
    foreign = tmp_path / name
    foreign.touch()
    foreign.chmod(0o644)
    os.chown(foreign, NOBODY, NOBODY)

    with pytest.raises(ConfigurationError) as caught:
        Journal.open(tmp_path / "journal.sqlite3")

    reason = f"belongs to another user (uid {NOBODY})"
    assert str(caught.value) == unsafe_refusal(foreign, "journal file", reason)
    assert (foreign.stat().st_size, mode(foreign)) == (0, 0o644)
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_symbolic_link_in_a_run_locks_place_is_refused(
    journal: Journal, path: Path
) -> None:
    """A run lock file is never opened through a link."""
    run_id = start(journal)
    lock_file = path.with_name(f"{path.name}.{run_id}.lock")
    victim = planted(lock_file)

    with pytest.raises(ConfigurationError) as caught:
        journal.holding_run(run_id, "being resumed").acquire()

    assert str(caught.value) == unsafe_refusal(
        lock_file, "run lock file", "is a symbolic link"
    )
    assert (victim.read_text(), mode(victim)) == ("kept", 0o644)


@AS_ROOT
def test_a_run_lock_of_another_user_is_refused(journal: Journal, path: Path) -> None:
    """A run lock file another user made first is refused and left as it is."""
    run_id = start(journal)
    lock_file = path.with_name(f"{path.name}.{run_id}.lock")
    lock_file.touch()
    os.chown(lock_file, NOBODY, NOBODY)

    with pytest.raises(ConfigurationError, match="belongs to another user"):
        journal.holding_run(run_id, "being resumed").acquire()

    assert lock_file.stat().st_size == 0


DAMAGED_SCHEMAS = [
    pytest.param(
        ["CREATE TABLE schema_version (version INTEGER)"],
        "its schema_version table is empty",
        id="empty-schema-version",
    ),
    pytest.param(
        [
            "CREATE TABLE schema_version (version INTEGER)",
            "INSERT INTO schema_version VALUES (1)",
        ],
        "it has no runs table",
        id="no-runs-table",
    ),
    pytest.param(
        [
            "CREATE TABLE schema_version (version INTEGER)",
            "INSERT INTO schema_version VALUES (0)",
        ],
        "schema version 0 is not one this tool wrote",
        id="schema-version-0",
    ),
    pytest.param(
        [
            "CREATE TABLE schema_version (version INTEGER)",
            "INSERT INTO schema_version VALUES (1)",
            "INSERT INTO schema_version VALUES (1)",
        ],
        "holding 2 rows",
        id="two-versions",
    ),
    pytest.param(
        ["CREATE TABLE notes (text TEXT)"],
        "it has no schema_version table",
        id="another-database",
    ),
    pytest.param(
        [
            "CREATE TABLE schema_version (version INTEGER)",
            "INSERT INTO schema_version VALUES (1)",
            "CREATE TABLE runs (id TEXT)",
            "CREATE TABLE items (run_id TEXT)",
        ],
        "its runs table lacks client_id, command",
        id="missing-columns",
    ),
]


@pytest.mark.parametrize(("statements", "problem"), DAMAGED_SCHEMAS)
def test_damaged_journal_is_refused_and_left_as_it_is(
    tmp_path: Path, statements: list[str], problem: str
) -> None:
    """A journal with damaged tables is refused, saying what to do; its bytes stay."""
    target = tmp_path / "journal.sqlite3"
    connection = sqlite3.connect(target)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    content = target.read_bytes()

    with pytest.raises(ConfigurationError) as caught:
        Journal.open(target)

    assert problem in str(caught.value)
    assert str(target) in str(caught.value)
    assert "move it aside" in str(caught.value)
    assert target.read_bytes() == content
    assert sorted(item.name for item in tmp_path.iterdir()) == ["journal.sqlite3"]


# Runs ------------------------------------------------------------------------------


def test_run_ids_are_short_and_sortable(journal: Journal) -> None:
    """Run ids read as UTC date, time and a random suffix, and sort by start."""
    first, second = start(journal), start(journal)

    assert RUN_ID.fullmatch(first)
    assert first.startswith("20261203-1833")
    assert first < second


def test_start_run_records_who_and_what(journal: Journal) -> None:
    """A run keeps its command, org, client id, user, selection and request."""
    run_id = start(journal, user="alice")

    detail = journal.run(run_id)

    assert (detail.run.command, detail.run.org, detail.run.client_id) == (
        "set",
        ORG,
        "client-123",
    )
    assert (detail.run.user, detail.run.status, detail.run.finished_at) == (
        "alice",
        "running",
        None,
    )
    assert detail.selectors == {"below": 30}
    assert detail.requested == {"timeoutSeconds": 30}


def test_user_defaults_to_the_login_name(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a user given, the login name is recorded."""
    monkeypatch.setattr("getpass.getuser", lambda: "operator")

    run_id = start(journal)

    assert journal.run(run_id).run.user == "operator"


def test_schema_has_no_place_for_secrets(path: Path, journal: Journal) -> None:
    """No column could hold a client secret or a token."""
    with sqlite3.connect(path) as connection:
        columns = [
            row[1]
            for table in ("runs", "items")
            for row in connection.execute(f"PRAGMA table_info({table})")
        ]
    connection.close()

    assert "client_id" in columns
    assert not [c for c in columns if re.search("secret|token|password", c)]


def test_finish_run_records_status_and_time(journal: Journal) -> None:
    """Finishing a run stores its status and end time."""
    run_id = start(journal)

    journal.finish_run(run_id, "interrupted")

    summary = journal.run(run_id).run
    assert summary.status == "interrupted"
    assert summary.finished_at is not None
    assert summary.finished_at > summary.started_at


def test_finish_run_rejects_unknown_status_and_run(journal: Journal) -> None:
    """A status outside the list is a programming error; an unknown run a usage one."""
    run_id = start(journal)

    with pytest.raises(ValueError, match="unknown run status"):
        journal.finish_run(run_id, "done")
    with pytest.raises(UsageError, match="no run 'nope'"):
        journal.finish_run("nope", "finished")


def test_runs_lists_newest_first_with_counts(journal: Journal) -> None:
    """`runs` lists the newest first, limited, with item counts per state."""
    older, newer, newest = start(journal), start(journal), start(journal, "apply")
    journal.record_plan(newer, [plan_item("a", "change"), plan_item("b", "skip", "x")])

    runs = journal.runs(limit=2)

    assert [run.id for run in runs] == [newest, newer]
    assert runs[1].counts == {"planned": 1, "skipped": 1}
    assert runs[0].counts == {}
    assert older not in [run.id for run in runs]


def test_undo_run_names_the_run_it_reverts(journal: Journal) -> None:
    """An undo run points at the run it undoes; an unknown one is refused."""
    original = start(journal)

    undo = start(journal, "undo", undo_of=original)

    assert journal.run(undo).run.undo_of == original
    with pytest.raises(UsageError, match="no run 'missing'"):
        start(journal, "undo", undo_of="missing")


# Looking runs up -------------------------------------------------------------------


def test_run_accepts_a_unique_prefix(journal: Journal) -> None:
    """A run can be named by the start of its id when only one run has it."""
    run_id = start(journal)

    assert journal.run(run_id[:10]).run.id == run_id
    assert journal.resolve_run_id(run_id) == run_id


def test_ambiguous_prefix_is_refused(journal: Journal) -> None:
    """A prefix shared by several runs is refused, listing them."""
    first, second = start(journal), start(journal)

    with pytest.raises(UsageError, match="ambiguous") as caught:
        journal.run("20261203")

    assert first in str(caught.value)
    assert second in str(caught.value)


@pytest.mark.parametrize("run_id", ["20991231-000000-ffff", "zzz", ""])
def test_unknown_run_says_how_to_list_runs(journal: Journal, run_id: str) -> None:
    """An unknown id is a usage error pointing at the history command."""
    start(journal)

    with pytest.raises(UsageError, match=r"no run .*action-timeouts history"):
        journal.run(run_id)


# Items -----------------------------------------------------------------------------


def record_one_intent(journal: Journal) -> str:
    """Start a run and record one intent in it; return the run id."""
    run_id = start(journal)
    journal.record_intent(run_id, "a1", action("a1"), 10, 30)
    return run_id


def test_record_plan_maps_verdicts_to_states(journal: Journal) -> None:
    """Plan verdicts are journaled as planned, unchanged and skipped."""
    run_id = start(journal)

    journal.record_plan(
        run_id,
        [
            plan_item("a", "change"),
            plan_item("b", "unchanged"),
            plan_item("c", "skip", "built-in action (not updatable)"),
        ],
    )

    items = journal.run(run_id).items
    assert [(i.action_id, i.state, i.reason) for i in items] == [
        ("a", "planned", None),
        ("b", "unchanged", None),
        ("c", "skipped", "built-in action (not updatable)"),
    ]
    assert (items[0].old_timeout, items[0].new_timeout, items[0].before_version) == (
        10,
        30,
        4,
    )


def test_intent_is_on_disk_when_recorded(journal: Journal, path: Path) -> None:
    """Another connection reads the intent as soon as record_intent returns."""
    run_id = start(journal)
    before = action("a1")

    journal.record_intent(run_id, "a1", before, 10, None)

    reader = sqlite3.connect(path)
    row = reader.execute(
        "SELECT state, before, before_version, old_timeout, new_timeout FROM items "
        "WHERE run_id = ? AND action_id = 'a1'",
        (run_id,),
    ).fetchone()
    reader.close()
    assert row[0] == "intent"
    assert json.loads(row[1]) == before
    assert row[2:] == (4, 10, None)


def test_intent_after_plan_keeps_the_row(journal: Journal) -> None:
    """An intent updates the planned row and stores the action as read."""
    run_id = start(journal)
    journal.record_plan(run_id, [plan_item("a1", "change")])

    journal.record_intent(run_id, "a1", action("a1", timeout=12), 12, 30)

    [item] = journal.run(run_id).items
    assert (item.state, item.old_timeout, item.new_timeout) == ("intent", 12, 30)
    assert item.before == action("a1", timeout=12)
    assert item.name == "Action a1"


def test_outcomes_update_state_reason_and_version(journal: Journal) -> None:
    """Outcomes move an item on and keep the timeouts of the intent."""
    run_id = record_one_intent(journal)

    journal.record_outcome(run_id, "a1", "sent")
    journal.record_outcome(run_id, "a1", "changed", after_version=5)
    journal.record_outcome(run_id, "a1", "verified")

    [item] = journal.run(run_id).items
    assert (item.state, item.after_version, item.reason) == ("verified", 5, None)
    assert (item.old_timeout, item.new_timeout) == (10, 30)


def test_outcome_without_a_row_creates_one(journal: Journal) -> None:
    """A refusal recorded for an action never planned still appears."""
    run_id = start(journal)

    journal.record_outcome(run_id, "customAuth_-_x", "refused", reason="custom auth")

    [item] = journal.run(run_id).items
    assert (item.action_id, item.state, item.reason) == (
        "customAuth_-_x",
        "refused",
        "custom auth",
    )


def test_bad_outcomes_are_refused(journal: Journal) -> None:
    """Unknown states and unknown runs are refused."""
    run_id = start(journal)

    with pytest.raises(ValueError, match="unknown outcome 'done'"):
        journal.record_outcome(run_id, "a", "done")
    with pytest.raises(ValueError, match="unknown outcome 'intent'"):
        journal.record_outcome(run_id, "a", "intent")
    with pytest.raises(UsageError, match="no run 'nope'"):
        journal.record_outcome("nope", "a", "failed")
    with pytest.raises(UsageError, match="no run 'nope'"):
        journal.record_intent("nope", "a", action("a"), 10, 30)


def test_pending_and_changed_items(journal: Journal) -> None:
    """Pending items have no outcome yet; changed items are what undo restores."""
    run_id = start(journal)
    states = ["planned", "intent", "sent", "changed", "verified", "failed"]
    journal.record_plan(run_id, [plan_item(s, "change") for s in states])
    journal.record_plan(run_id, [plan_item("same", "unchanged")])
    for state in states[1:]:
        journal.record_intent(run_id, state, action(state), 10, 30)
        if state != "intent":
            journal.record_outcome(run_id, state, state)

    pending = journal.pending_items(run_id[:12])
    changed = journal.changed_items(run_id)

    assert [item.action_id for item in pending] == ["planned", "intent", "sent"]
    assert [item.action_id for item in changed] == ["changed", "verified"]
    assert changed[0].before == action("changed")


def test_concurrent_writers_lose_nothing(journal: Journal, path: Path) -> None:
    """Eight threads journaling at once leave every intent and outcome recorded."""
    run_id = start(journal)
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            for index in range(25):
                action_id = f"w{number}-{index}"
                journal.record_intent(run_id, action_id, action(action_id), 10, 30)
                journal.record_outcome(run_id, action_id, "changed", after_version=5)
                journal.runs(limit=1)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert journal.run(run_id).counts == {"changed": 200}
    assert len(journal.changed_items(run_id)) == 200


# Another process holding the journal ----------------------------------------------


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a write wait a tenth of a second for a lock another process holds."""
    monkeypatch.setattr(journal_module, "BUSY_SECONDS", 0.1)


@contextmanager
def held_elsewhere(path: Path) -> Iterator[None]:
    """Hold the journal's write lock from another connection for the block."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.usefixtures("short_wait")
def test_locked_journal_refuses_the_write_and_every_later_one(path: Path) -> None:
    """A write kept waiting by another process is refused, and so is every later one."""
    with Journal.open(path) as opened:
        run_id = start(opened)
        with held_elsewhere(path), pytest.raises(InUseError) as caught:
            opened.record_intent(run_id, "a1", action("a1"), 10, 30)

        with pytest.raises(InUseError):
            opened.record_intent(run_id, "a2", action("a2"), 10, 30)
        assert opened.run(run_id).items == []
    assert "locked by another process" in str(caught.value)
    assert f"`action-timeouts resume {run_id}`" in str(caught.value)


def test_a_full_journal_refuses_the_write_saying_what_to_do(path: Path) -> None:
    """A write SQLite finds no room for is refused: make room, then resume the run."""
    with Journal.open(path) as opened:
        run_id = start(opened)
        # SQLite's own cap on the file's size stands in for a full disk.
        connection = opened._connection
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        large = {**action("a1"), "description": "x" * 100_000}
        with pytest.raises(JournalWriteError) as caught:
            opened.record_intent(run_id, "a1", large, 10, 30)

    assert "make room on its disk or make it writable" in str(caught.value)
    assert str(caught.value).endswith(
        f"then `action-timeouts resume {run_id}` finishes the run"
    )
    assert opened.broken is caught.value


# Run locks -------------------------------------------------------------------------


def test_a_started_run_is_locked_while_its_block_runs(journal: Journal) -> None:
    """While a run is alive nobody else may work on it; once it ends anyone may."""
    with (
        journal.started_run(**START_FACTS) as run_id,
        pytest.raises(InUseError) as caught,
    ):
        journal.holding_run(run_id, "being resumed").acquire()

    with journal.holding_run(run_id, "being resumed"):
        pass
    assert str(caught.value) == (
        f"run {run_id} is still running in process {os.getpid()}; "
        "wait for it or stop it"
    )


def test_a_held_run_names_what_its_holder_does(journal: Journal) -> None:
    """A run being resumed is refused to others with the holder's role."""
    run_id = start(journal)

    with (
        journal.holding_run(run_id, "being resumed"),
        pytest.raises(InUseError, match="is being resumed in process"),
    ):
        journal.holding_run(run_id, "being undone").acquire()


def test_lock_files_are_removed_when_let_go(journal: Journal, path: Path) -> None:
    """No lock file stays beside the journal once its run is over."""
    with journal.started_run(**START_FACTS) as run_id:
        assert list(path.parent.glob("*.lock")) != []
    with journal.holding_run(run_id, "being undone"):
        pass

    assert list(path.parent.glob("*.lock")) == []


HOLD_A_RUN = """
import sys, time
from action_timeouts.journal import Journal
journal = Journal.open(sys.argv[1])
with journal.started_run(command="set", org="o", client_id=None, selectors={},
                         requested={}) as run_id:
    print(run_id, flush=True)
    time.sleep(600)
"""


def test_a_killed_run_lets_go_of_its_lock(path: Path) -> None:
    """A run killed with SIGKILL no longer holds its lock, though its file stays."""
    Journal.open(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_RUN, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    run_id = holder.stdout.readline().strip()
    with Journal.open(path) as journal:
        with pytest.raises(InUseError, match=f"process {holder.pid}"):
            journal.holding_run(run_id, "being resumed").acquire()

        holder.send_signal(signal.SIGKILL)
        holder.wait(10)

        with journal.holding_run(run_id, "being resumed"):
            assert journal.run(run_id).run.status == "running"
