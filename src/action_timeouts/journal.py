"""A SQLite journal of runs: what each run meant to change, and what happened.

One row per run, one row per action in the run. Before each PATCH the caller
records an intent holding the whole action as read (templates inline); the row is
committed to disk before `record_intent` returns, so after a crash the journal
tells which actions may have been written. Undo restores timeouts from it.

The file is created private (mode 0600) because action documents can hold header
values and templates; directories the journal creates get mode 0700, existing
ones are left as they are. No secret or token is ever stored, only the client id.
The database runs in WAL mode with full sync, so every commit is durable and a
second process can read the journal while a run writes it.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from action_timeouts.errors import (
    ActionTimeoutsError,
    ConfigurationError,
    InUseError,
    JournalWriteError,
    UsageError,
)
from action_timeouts.journal_files import (
    STATE_DIR_ENV,
    cannot_open,
    default_journal_path,
    prepare_file,
    restrict_side_files,
)
from action_timeouts.journal_schema import (
    ADDED_COLUMNS,
    INSERT_RUN,
    ITEM_COLUMNS,
    ITEM_STATES,
    MIGRATIONS,
    REQUIRED_COLUMNS,
    RUN_COLUMNS,
    RUN_STATUSES,
    SCHEMA,
    SCHEMA_VERSION,
    UPSERT_ITEM,
)
from action_timeouts.plan import PlanItem, is_whole_seconds
from action_timeouts.runlock import RunLock

__all__ = [
    "CHANGED_STATES",
    "ITEM_COLUMNS",
    "ITEM_STATES",
    "NOT_READ",
    "OUTCOME_STATES",
    "PENDING_STATES",
    "RUN_COLUMNS",
    "RUN_STATUSES",
    "STATE_DIR_ENV",
    "Journal",
    "JournalItem",
    "RunDetail",
    "RunSummary",
    "default_journal_path",
]

logger = logging.getLogger(__name__)

OUTCOME_STATES = ITEM_STATES[2:]
PENDING_STATES = ("planned", "intent", "sent")
CHANGED_STATES = ("changed", "verified")
PLAN_STATES = {"change": "planned", "unchanged": "unchanged", "skip": "skipped"}
# The reason of a planned item whose action was not read yet (a single `set`):
# its name, version and timeout are not known.
NOT_READ = "not read yet"
RUNS_HINT = "list the recorded runs with `action-timeouts history`"
RUN_ID_ATTEMPTS = 20
# How long a write waits for another process that holds the journal's write lock.
BUSY_SECONDS = 10.0


@dataclass(frozen=True)
class RunSummary:
    """One run as listed: who ran what, against which org, and how it ended."""

    id: str
    started_at: str
    finished_at: str | None
    user: str
    org: str
    client_id: str | None
    command: str
    status: str
    undo_of: str | None
    counts: dict[str, int]


@dataclass(frozen=True)
class JournalItem:
    """One action in a run; `new_timeout` None means unset, `before` the action read.

    `category` and `integration_id` are None for an action not read yet, and for
    items journaled before the journal kept them.
    """

    run_id: str
    action_id: str
    name: str | None
    before: dict[str, Any] | None
    before_version: int | None
    old_timeout: int | None
    new_timeout: int | None
    state: str
    reason: str | None
    after_version: int | None
    updated_at: str
    category: str | None = None
    integration_id: str | None = None


@dataclass(frozen=True)
class RunDetail:
    """One run with its selection, its requested change and every item."""

    run: RunSummary
    selectors: dict[str, Any]
    requested: dict[str, Any]
    items: list[JournalItem]

    @property
    def counts(self) -> dict[str, int]:
        """Count the run's items per state."""
        return self.run.counts


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _current_user() -> str:
    """Return the login name of the person running the tool, or 'unknown'."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _connect(path: Path) -> sqlite3.Connection:
    """Open the database in autocommit mode; nothing is written yet."""
    connection = sqlite3.connect(
        path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
    )
    connection.row_factory = sqlite3.Row
    return connection


def _apply_settings(connection: sqlite3.Connection) -> None:
    """Switch a sound journal to durable WAL mode with foreign keys checked."""
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")


def _is_busy(error: sqlite3.Error) -> bool:
    """Tell whether SQLite gave up waiting for a lock another process holds."""
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and (
        "locked" in text or "busy" in text
    )


def _locked(path: Path, run_id: str | None = None) -> str:
    """Say that another process holds the journal, and what to do."""
    then = ""
    if run_id is not None:
        then = f", then `action-timeouts resume {run_id}` finishes the run"
    return (
        f"the journal {path} is locked by another process (waited {BUSY_SECONDS:g} s)"
        f": nothing more was sent; close the program that holds it{then}"
    )


def _unusable(path: Path, problem: str) -> str:
    """Say that a journal file cannot be used, and what to do; it is left as it is."""
    return (
        f"the journal {path} cannot be used ({problem}): move it aside, and a new "
        "journal is started at the next run; the file was not modified"
    )


def _json_or_none(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _item_from_row(row: sqlite3.Row) -> JournalItem:
    """Build a JournalItem from an `items` row."""
    values = dict(row)
    values["before"] = _json_or_none(values["before"])
    return JournalItem(**values)


class Journal:
    """The journal file, shared by the worker threads of one run."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._connection = connection
        self._lock = threading.Lock()
        self._clock = clock
        self._broken: ActionTimeoutsError | None = None
        self._held: dict[str, RunLock] = {}
        self.path = path

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> Journal:
        """Open (creating if needed) the journal at `path` or the default place.

        An existing file is checked before anything is written to it: a file that
        is not a journal, or one whose tables are damaged, is refused and left
        exactly as it is.
        """
        target = Path(path) if path is not None else default_journal_path()
        try:
            prepare_file(target)
            journal = cls(_connect(target), target, clock or _utc_now)
        except (OSError, sqlite3.Error) as error:
            raise ConfigurationError(cannot_open(target, error)) from None
        try:
            journal._migrate()
            restrict_side_files(target)
        except sqlite3.DatabaseError as error:
            journal._connection.close()
            if _is_busy(error):
                raise InUseError(_locked(target)) from None
            raise ConfigurationError(_unusable(target, str(error))) from None
        except BaseException:
            journal._connection.close()
            raise
        logger.debug("journal open at %s", target)
        return journal

    @property
    def broken(self) -> ActionTimeoutsError | None:
        """The error that stopped every write to the journal, or None while it works.

        After one write SQLite could not make, no later write is tried: a caller
        that meets this error stops sending, and leaves the run to `resume`.
        """
        return self._broken

    def close(self) -> None:
        """Close the database connection and let go of any run lock still held."""
        for run_id in list(self._held):
            self.release_run(run_id)
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _migrate(self) -> None:
        """Create the schema in a new file, or bring an older one up to date.

        The checks only read, so a refused file is never modified; the durable
        settings (WAL) are applied to a journal found sound.
        """
        with self._lock:
            version = self._schema_version()
            if version is not None and version > SCHEMA_VERSION:
                message = (
                    f"the journal {self.path} was written by a newer action-timeouts "
                    f"(schema {version}); upgrade to read it"
                )
                raise ConfigurationError(message)
            if version is not None:
                self._check_tables(version)
            _apply_settings(self._connection)
            if version is None:
                with self._transaction():
                    self._run_statements(SCHEMA)
                    self._execute(
                        "INSERT INTO schema_version VALUES (?)", SCHEMA_VERSION
                    )
            elif version < SCHEMA_VERSION:
                with self._transaction():
                    self._upgrade(version)
                self._check_tables(SCHEMA_VERSION)

    def _run_statements(self, statements: Iterable[str]) -> None:
        for statement in statements:
            self._execute(statement)

    def _schema_version(self) -> int | None:
        """Return the stored schema version, or None for an empty file."""
        tables = self._table_names()
        if not tables:
            return None
        if "schema_version" not in tables:
            raise self._damaged("it has no schema_version table")
        rows = self._execute("SELECT version FROM schema_version").fetchall()
        if len(rows) != 1:
            found = "empty" if not rows else f"holding {len(rows)} rows"
            raise self._damaged(f"its schema_version table is {found}")
        version = rows[0][0]
        if not isinstance(version, int) or not (
            version in MIGRATIONS or version >= SCHEMA_VERSION
        ):
            problem = f"schema version {version!r} is not one this tool wrote"
            raise self._damaged(problem)
        return version

    def _table_names(self) -> set[str]:
        rows = self._execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(row[0]) for row in rows}

    def _check_tables(self, version: int) -> None:
        """Refuse a journal whose tables lack a column its schema `version` has.

        Those are the columns this release reads or writes, less the ones that
        later versions added (an upgrade adds them).
        """
        for table, columns in REQUIRED_COLUMNS.items():
            rows = self._execute(f"PRAGMA table_info({table})").fetchall()
            if not rows:
                raise self._damaged(f"it has no {table} table")
            later = {
                column
                for step, added in ADDED_COLUMNS.items()
                if step > version
                for column in added.get(table, ())
            }
            expected = set(columns) - later
            missing = sorted(expected - {str(row["name"]) for row in rows})
            if missing:
                raise self._damaged(f"its {table} table lacks {', '.join(missing)}")

    def _damaged(self, problem: str) -> ConfigurationError:
        return ConfigurationError(_unusable(self.path, problem))

    def _upgrade(self, version: int) -> None:
        """Apply the migrations from `version` to the current schema."""
        for step in range(version, SCHEMA_VERSION):
            self._run_statements(MIGRATIONS[step])
            self._execute("UPDATE schema_version SET version = ?", step + 1)
            logger.info("journal schema upgraded to version %d", step + 1)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """Run the block as one immediate transaction (the caller holds the lock)."""
        self._execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._execute("ROLLBACK")
            raise
        self._execute("COMMIT")

    @contextmanager
    def _writing(self, run_id: str | None, *, started: bool = True) -> Iterator[None]:
        """Hold the lock for a write, and turn a failed write into a clear error.

        A write naming an unknown run is a usage error. A write SQLite cannot make
        (another process holds the journal locked, the disk is full) stops every
        later write at once, so no PATCH goes out whose intent is not on disk.
        `started` says whether `run_id` names a run that exists (resume finishes it).
        """
        with self._lock:
            if self._broken is not None:
                raise type(self._broken)(str(self._broken))
            try:
                yield
            except sqlite3.IntegrityError as error:
                if "FOREIGN KEY" not in str(error):
                    raise
                message = f"no run {run_id!r} in the journal {self.path}; {RUNS_HINT}"
                raise UsageError(message) from None
            except sqlite3.Error as error:
                self._broken = self._write_problem(error, run_id if started else None)
                raise self._broken from None

    def _write_problem(
        self, error: sqlite3.Error, run_id: str | None
    ) -> ActionTimeoutsError:
        """Describe a write the journal could not make."""
        logger.debug("journal write failed: %s", error)
        if _is_busy(error):
            return InUseError(_locked(self.path, run_id))
        then = f", then `action-timeouts resume {run_id}` finishes the run"
        message = (
            f"cannot write the journal {self.path} ({error}): nothing more was sent; "
            f"make room on its disk or make it writable{then if run_id else ''}"
        )
        return JournalWriteError(message)

    def _execute(self, sql: str, *parameters: Any) -> sqlite3.Cursor:
        if len(parameters) == 1 and isinstance(parameters[0], dict):
            return self._connection.execute(sql, parameters[0])
        return self._connection.execute(sql, parameters)

    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat(timespec="milliseconds")

    def start_run(
        self,
        *,
        command: str,
        org: str,
        client_id: str | None,
        selectors: Mapping[str, Any],
        requested: Mapping[str, Any],
        undo_of: str | None = None,
        user: str | None = None,
        hold_as: str | None = None,
    ) -> str:
        """Record a new run as running and return its id (e.g. 20261203-183301-ab12).

        `org` is the API base URL the run talks to; `client_id` is the OAuth
        client's id, never its secret. `undo_of` names the run this one reverts.
        With `hold_as` the run's lock is taken before the run is recorded and held
        until `release_run`; `started_run` does both around a block.
        """
        started = self._clock().astimezone(UTC)
        values = {
            "started_at": started.isoformat(timespec="milliseconds"),
            "user": user or _current_user(),
            "org": org,
            "client_id": client_id,
            "command": command,
            "selectors": json.dumps(dict(selectors), ensure_ascii=False),
            "requested": json.dumps(dict(requested), ensure_ascii=False),
            "undo_of": undo_of,
        }
        run_id, lock = self._insert_run(f"{started:%Y%m%d-%H%M%S}", values, hold_as)
        if lock is not None:
            self._held[run_id] = lock
        logger.info("run %s started: %s on %s", run_id, command, org)
        return run_id

    @contextmanager
    def started_run(self, **facts: Any) -> Iterator[str]:
        """Start a run as `start_run` does and hold its lock while the block runs.

        So `resume` or `undo` of the run are refused for as long as it is alive.
        """
        run_id = self.start_run(**facts, hold_as="running")
        try:
            yield run_id
        finally:
            self.release_run(run_id)

    def release_run(self, run_id: str) -> None:
        """Let go of the lock of a run this journal started with `hold_as`."""
        lock = self._held.pop(run_id, None)
        if lock is not None:
            lock.release()

    def holding_run(self, run_id: str, role: str) -> RunLock:
        """Return the lock of a recorded run, to hold with `with` while working on it.

        Entering raises InUseError, before anything is done, when another process
        holds it: the run is alive, or being resumed or undone. `role` says what
        this process does, for anyone refused ("being resumed").
        """
        lock_file = self.path.with_name(f"{self.path.name}.{run_id}.lock")
        return RunLock(lock_file, run_id, role)

    def _insert_run(
        self, stamp: str, values: dict[str, Any], role: str | None
    ) -> tuple[str, RunLock | None]:
        """Insert a run row under a fresh id, drawing again on a collision."""
        for _ in range(RUN_ID_ATTEMPTS):
            run_id = f"{stamp}-{secrets.token_hex(2)}"
            lock = None if role is None else self.holding_run(run_id, role)
            try:
                if lock is not None:
                    lock.acquire()
            except InUseError:
                continue
            try:
                with self._writing(values["undo_of"], started=False):
                    self._execute(INSERT_RUN, {**values, "id": run_id})
            except BaseException as error:
                if lock is not None:
                    lock.release()
                if not isinstance(error, sqlite3.IntegrityError):
                    raise
                logger.debug("run id %s is taken; drawing another", run_id)
                continue
            return run_id, lock
        raise ConfigurationError(f"no unused run id left for {stamp} in {self.path}")

    def record_plan(
        self,
        run_id: str,
        plan_items: Iterable[PlanItem],
        listed: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Record every item of a plan as planned, unchanged or skipped.

        Record an item again only before its intent: recording a plan resets the
        state of the items it names (an action planned before it was read is
        recorded again with what the read found). `listed` holds the actions as
        listed, by id: a skipped item whose stored timeout is invalid keeps its
        document as `before`, the one place the value survives as it was sent.
        """
        listed = listed or {}
        rows = [
            self._plan_row(run_id, item, listed.get(item.action_id))
            for item in plan_items
        ]
        with self._writing(run_id), self._transaction():
            self._connection.executemany(UPSERT_ITEM, rows)
        noun = "item" if len(rows) == 1 else "items"
        logger.debug("run %s: recorded %d planned %s", run_id, len(rows), noun)

    def _plan_row(
        self, run_id: str, item: PlanItem, document: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Turn a plan item into the parameters of an item upsert."""
        # An invalid stored timeout is kept in the before document, not in
        # old_timeout: SQLite would turn "30" or true into a number.
        invalid = item.old is not None and not is_whole_seconds(item.old)
        before = (
            json.dumps(dict(document), ensure_ascii=False)
            if invalid and document is not None
            else None
        )
        return self._row(
            run_id,
            item.action_id,
            state=PLAN_STATES[item.status],
            name=item.name or None,
            category=item.category,
            integration_id=item.integration_id,
            old_timeout=item.old if is_whole_seconds(item.old) else None,
            new_timeout=item.new,
            reason=item.reason,
            before=before,
            before_version=item.version,
            set_timeouts=True,
        )

    def _row(self, run_id: str, action_id: str, **values: Any) -> dict[str, Any]:
        """Return item upsert parameters with every column not given left empty."""
        row: dict[str, Any] = dict.fromkeys(ITEM_COLUMNS.split(", "))
        row.update(run_id=run_id, action_id=action_id, updated_at=self._now())
        row.update({"set_timeouts": False, **values})
        return row

    def record_intent(
        self,
        run_id: str,
        action_id: str,
        before: Mapping[str, Any],
        old: int | None,
        new: int | None,
    ) -> None:
        """Record, durably, that `action_id` is about to be changed from `old` to `new`.

        `before` is the whole action as read, templates inline. The row is on disk
        when this returns, so the caller may send its PATCH.
        """
        row = self._row(
            run_id,
            action_id,
            state="intent",
            name=before.get("name"),
            category=before.get("category"),
            integration_id=before.get("integrationId"),
            before=json.dumps(dict(before), ensure_ascii=False),
            before_version=before.get("version"),
            old_timeout=old,
            new_timeout=new,
            set_timeouts=True,
        )
        with self._writing(run_id):
            self._execute(UPSERT_ITEM, row)
        logger.debug("run %s: intent %s %s -> %s", run_id, action_id, old, new)

    def record_outcome(
        self,
        run_id: str,
        action_id: str,
        state: str,
        *,
        reason: str | None = None,
        after_version: int | None = None,
    ) -> None:
        """Record what happened to one action: one of `OUTCOME_STATES`."""
        if state not in OUTCOME_STATES:
            message = f"unknown outcome {state!r}; expected one of {OUTCOME_STATES}"
            raise ValueError(message)
        row = self._row(
            run_id, action_id, state=state, reason=reason, after_version=after_version
        )
        with self._writing(run_id):
            self._execute(UPSERT_ITEM, row)
        logger.debug("run %s: %s is %s", run_id, action_id, state)

    def finish_run(self, run_id: str, status: str) -> None:
        """Mark a run finished, interrupted or failed, with the time it ended."""
        if status not in RUN_STATUSES[1:]:
            message = f"unknown run status {status!r}; expected one of {RUN_STATUSES}"
            raise ValueError(message)
        with self._writing(run_id):
            updated = self._execute(
                "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                status,
                self._now(),
                run_id,
            ).rowcount
        if updated == 0:
            message = f"no run {run_id!r} in the journal {self.path}; {RUNS_HINT}"
            raise UsageError(message)
        logger.info("run %s %s", run_id, status)

    def runs(self, limit: int = 50) -> list[RunSummary]:
        """Return the most recent runs, newest first."""
        with self._lock:
            rows = self._execute(
                f"SELECT {RUN_COLUMNS} FROM runs "
                "ORDER BY started_at DESC, id DESC LIMIT ?",
                limit,
            ).fetchall()
            counts = self._counts([row["id"] for row in rows])
        return [
            RunSummary(**dict(row), counts=counts.get(row["id"], {})) for row in rows
        ]

    def _counts(self, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Count items per state for each run (the caller holds the lock)."""
        marks = ", ".join("?" for _ in run_ids)
        rows = self._execute(
            "SELECT run_id, state, COUNT(*) FROM items "
            f"WHERE run_id IN ({marks}) GROUP BY run_id, state",
            *run_ids,
        ).fetchall()
        counts: dict[str, dict[str, int]] = {}
        for run_id, state, number in rows:
            counts.setdefault(run_id, {})[state] = number
        return counts

    def resolve_run_id(self, prefix: str) -> str:
        """Return the one run id that is `prefix` or starts with it."""
        with self._lock:
            rows = self._execute(
                "SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6",
                len(prefix),
                prefix,
            ).fetchall()
        found = [str(row[0]) for row in rows]
        if prefix in found:
            return prefix
        if len(found) == 1 and prefix:
            return found[0]
        raise UsageError(self._lookup_problem(prefix, found))

    def _lookup_problem(self, prefix: str, found: Sequence[str]) -> str:
        """Explain why a run id or prefix does not name exactly one run."""
        if not prefix or not found:
            return f"no run {prefix!r} in the journal {self.path}; {RUNS_HINT}"
        return (
            f"run id {prefix!r} is ambiguous ({', '.join(found)}, ...); "
            "give more of the id"
        )

    def run(self, run_id: str) -> RunDetail:
        """Return one run, named by its id or a unique prefix, with all its items."""
        full_id = self.resolve_run_id(run_id)
        with self._lock:
            row = self._execute(
                f"SELECT {RUN_COLUMNS}, selectors, requested FROM runs WHERE id = ?",
                full_id,
            ).fetchone()
            counts = self._counts([full_id]).get(full_id, {})
            items = self._items(full_id, ITEM_STATES)
        values = dict(row)
        selectors = json.loads(values.pop("selectors"))
        requested = json.loads(values.pop("requested"))
        return RunDetail(
            RunSummary(**values, counts=counts), selectors, requested, items
        )

    def _items(self, run_id: str, states: Sequence[str]) -> list[JournalItem]:
        """Return a run's items in `states`, in the order they were first written."""
        marks = ", ".join("?" for _ in states)
        rows = self._execute(
            f"SELECT {ITEM_COLUMNS} FROM items "
            f"WHERE run_id = ? AND state IN ({marks}) ORDER BY rowid",
            run_id,
            *states,
        ).fetchall()
        return [_item_from_row(row) for row in rows]

    def pending_items(self, run_id: str) -> list[JournalItem]:
        """Return the items with no outcome yet: planned, intent or sent."""
        full_id = self.resolve_run_id(run_id)
        with self._lock:
            return self._items(full_id, PENDING_STATES)

    def changed_items(self, run_id: str) -> list[JournalItem]:
        """Return the items the run changed (changed or verified), for undo."""
        full_id = self.resolve_run_id(run_id)
        with self._lock:
            return self._items(full_id, CHANGED_STATES)
