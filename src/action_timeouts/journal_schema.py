"""The journal's SQLite schema: its tables, their upgrades, and the statements used.

`journal` opens, checks and writes the file; this module says what is in it. Each
schema version that adds to the tables has a migration from the version before,
and `ADDED_COLUMNS` names what it added, so a journal of an older version is
checked for what that version had before it is upgraded.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ADDED_COLUMNS",
    "INSERT_RUN",
    "ITEM_COLUMNS",
    "ITEM_STATES",
    "MIGRATIONS",
    "REQUIRED_COLUMNS",
    "RUN_COLUMNS",
    "RUN_STATUSES",
    "SCHEMA",
    "SCHEMA_VERSION",
    "UPSERT_ITEM",
]

SCHEMA_VERSION = 2
ITEM_STATES = (
    "planned",
    "intent",
    "sent",
    "changed",
    "unchanged",
    "skipped",
    "failed",
    "refused",
    "verified",
)
RUN_STATUSES = ("running", "finished", "interrupted", "failed")


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


SCHEMA = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    f"""CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        user TEXT NOT NULL,
        org TEXT NOT NULL,
        client_id TEXT,
        command TEXT NOT NULL,
        selectors TEXT NOT NULL,
        requested TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ({_quoted(RUN_STATUSES)})),
        undo_of TEXT REFERENCES runs (id)
    )""",
    f"""CREATE TABLE items (
        run_id TEXT NOT NULL REFERENCES runs (id),
        action_id TEXT NOT NULL,
        name TEXT,
        before TEXT,
        before_version INTEGER,
        old_timeout INTEGER,
        new_timeout INTEGER,
        state TEXT NOT NULL CHECK (state IN ({_quoted(ITEM_STATES)})),
        reason TEXT,
        after_version INTEGER,
        updated_at TEXT NOT NULL,
        category TEXT,
        integration_id TEXT,
        PRIMARY KEY (run_id, action_id)
    )""",
    "CREATE INDEX items_by_state ON items (run_id, state)",
    "CREATE INDEX runs_by_start ON runs (started_at)",
)

# Schema version -> statements that bring a journal of that version one step up.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "ALTER TABLE items ADD COLUMN category TEXT",
        "ALTER TABLE items ADD COLUMN integration_id TEXT",
    ),
}
# Schema version -> the columns it added to each table.
ADDED_COLUMNS: dict[int, dict[str, tuple[str, ...]]] = {
    2: {"items": ("category", "integration_id")},
}

INSERT_RUN = """
INSERT INTO runs (id, started_at, user, org, client_id, command, selectors,
                  requested, status, undo_of)
VALUES (:id, :started_at, :user, :org, :client_id, :command, :selectors,
        :requested, 'running', :undo_of)
"""

UPSERT_ITEM = """
INSERT INTO items (run_id, action_id, name, before, before_version, old_timeout,
                   new_timeout, state, reason, after_version, updated_at, category,
                   integration_id)
VALUES (:run_id, :action_id, :name, :before, :before_version, :old_timeout,
        :new_timeout, :state, :reason, :after_version, :updated_at, :category,
        :integration_id)
ON CONFLICT (run_id, action_id) DO UPDATE SET
    name = COALESCE(excluded.name, items.name),
    category = COALESCE(excluded.category, items.category),
    integration_id = COALESCE(excluded.integration_id, items.integration_id),
    before = COALESCE(excluded.before, items.before),
    before_version = COALESCE(excluded.before_version, items.before_version),
    old_timeout = CASE WHEN :set_timeouts THEN excluded.old_timeout
                       ELSE items.old_timeout END,
    new_timeout = CASE WHEN :set_timeouts THEN excluded.new_timeout
                       ELSE items.new_timeout END,
    state = excluded.state,
    reason = excluded.reason,
    after_version = COALESCE(excluded.after_version, items.after_version),
    updated_at = excluded.updated_at
"""

ITEM_COLUMNS = (
    "run_id, action_id, name, before, before_version, old_timeout, new_timeout, "
    "state, reason, after_version, updated_at, category, integration_id"
)
RUN_COLUMNS = (
    "id, started_at, finished_at, user, org, client_id, command, status, undo_of"
)
# The columns a journal must have for this release to read and write it.
REQUIRED_COLUMNS = {
    "runs": (*RUN_COLUMNS.split(", "), "selectors", "requested"),
    "items": tuple(ITEM_COLUMNS.split(", ")),
}
