"""The one output scheme every command prints with: field names, values, formats.

Rows use the same field names everywhere: `id`, `name`, `category`,
`integration_id`, `timeout` (lists) or `old` and `new` (plans and outcomes),
`status` (a plan's verdict) or `outcome` (what a run did; `history RUN` adds
`pending` for a write the run may have sent without learning whether it landed),
and `reason`. A timeout
is a number, or null in JSON and empty in CSV when unset; a table writes it for
people ("10 s", "unset (60 s)"). Booleans are `true`/`false` in JSON and CSV.

- `json`: one document: a list of rows, or for plans and run outcomes an object
  with the counts and the rows under `items`;
- `ndjson`: one row per line, nothing else;
- `csv`: a header, then one row per line;
- `table`: for people, timeouts in words, control and bidi characters escaped
  (`printable`); the machine formats keep every value exact.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

import click

from action_timeouts.actions import describe_timeout
from action_timeouts.cli.common import printable, write_text
from action_timeouts.plan import NOT_FOUND

if TYPE_CHECKING:
    from action_timeouts.actions import ChangeResult
    from action_timeouts.bulk import RunReport
    from action_timeouts.plan import Plan, PlanItem

PLAN_FIELDS = (
    "id",
    "name",
    "category",
    "integration_id",
    "version",
    "old",
    "new",
    "status",
    "reason",
    "rule",
)
PLAN_TABLE = ("id", "name", "old", "new", "status", "reason")
OUTCOME_FIELDS = (
    "id",
    "name",
    "category",
    "integration_id",
    "old",
    "new",
    "outcome",
    "reason",
)
OUTCOME_TABLE = ("id", "name", "old", "new", "outcome", "reason")
TIMEOUT_FIELDS = frozenset({"timeout", "old", "new"})
MISSING = "not found"
OUTCOMES = (
    "changed",
    "unchanged",
    "skipped",
    "refused",
    "failed",
    "not attempted",
    MISSING,
)
PENDING = "pending"
JOURNAL_OUTCOMES = (*OUTCOMES, PENDING)

UNBOUNDED_WIDTH = 10_000


def emit(
    rows: Sequence[Mapping[str, Any]],
    fields: Sequence[str],
    output_format: str,
    *,
    table: Sequence[str] | None = None,
    document: Mapping[str, Any] | None = None,
    people: bool = True,
) -> None:
    """Print rows on stdout in `output_format`.

    `table` names the columns a table shows (default: every field); `document` is
    what `json` prints instead of the bare list, with the rows under `items`. With
    `people`, a table writes timeouts in words; without, cells are shown as given.
    """
    if output_format == "json":
        value: Any = list(rows) if document is None else {**document, "items": rows}
        write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    elif output_format == "ndjson":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    elif output_format == "csv":
        write_text(csv_text(rows, fields))
    else:
        columns = list(table or fields)
        shown = [people_cells(row) for row in rows] if people else rows
        print_table(shown, columns)


def csv_text(rows: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
    """Return rows as CSV: a header, empty cells for null, true/false for booleans."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(value) for key, value in row.items()})
    return buffer.getvalue()


def csv_cell(value: object) -> object:
    """Write a value the way CSV readers expect: true/false, empty for null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def people_cells(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a row as a table shows it: timeouts in words, none where none apply.

    A requested id the org lacks shows no timeout: it has none to change.
    """
    verdict = row.get("status", row.get("outcome"))
    cells = dict(row)
    for name in TIMEOUT_FIELDS & cells.keys():
        unused = name in ("old", "new") and verdict == MISSING
        cells[name] = "" if unused else describe_timeout(cells[name])
    return cells


def print_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    stream: IO[str] | None = None,
) -> None:
    """Print rows as a table on stdout (or `stream`), plain when it is no terminal."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from action_timeouts.cli.common import colour_system

    stream = sys.stdout if stream is None else stream
    terminal = stream.isatty()
    console = Console(
        file=stream,
        color_system=colour_system(stream),
        width=None if terminal else UNBOUNDED_WIDTH,
    )
    table = Table(box=_box() if terminal else None)
    for column in columns:
        # Ids stay on one line so they can be copied from a narrow terminal.
        table.add_column(column, no_wrap=column == "id")
    for row in rows:
        # Text, not str: names like "Lookup [v2]" or "[/]" are data, not markup.
        table.add_row(*[Text(cell_text(row.get(column))) for column in columns])
    if terminal and _too_wide(console, table):
        write_text(records_text(rows, columns, console.width), stream)
        return
    with console.capture() as captured:
        console.print(table)
    write_text(captured.get(), stream)


def _too_wide(console: Any, table: Any) -> bool:
    """Tell whether the table would have to wrap its cells to fit the terminal."""
    from rich.measure import Measurement

    unbounded = console.options.update(max_width=UNBOUNDED_WIDTH)
    return bool(Measurement.get(console, unbounded, table).maximum > console.width)


def records_text(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], width: int
) -> str:
    """Write rows for a narrow terminal: the first column, then `column: value` pairs.

    Pairs are packed on indented lines and never split unless one alone is wider
    than the terminal, and then only between words, so names stay readable.
    """
    lines: list[str] = []
    for row in rows:
        lines.append(cell_text(row.get(columns[0])))
        pairs = [
            f"{column}: {cell_text(row.get(column))}"
            for column in columns[1:]
            if cell_text(row.get(column))
        ]
        lines.extend(_packed(pairs, width))
    return "".join(f"{line}\n" for line in lines)


def _packed(pairs: Sequence[str], width: int, indent: str = "  ") -> list[str]:
    """Pack `pairs` on lines of at most `width` characters, each indented."""
    import textwrap

    lines: list[str] = []
    current = ""
    for pair in pairs:
        joined = f"{current}   {pair}" if current else pair
        if len(indent + joined) <= width:
            current = joined
            continue
        if current:
            lines.append(indent + current)
        current = pair
        if len(indent + pair) > width:
            wrapped = textwrap.wrap(
                pair,
                width - len(indent),
                break_long_words=False,
                break_on_hyphens=False,
            )
            lines.extend(indent + part for part in wrapped[:-1])
            current = wrapped[-1]
    if current:
        lines.append(indent + current)
    return lines


def _box() -> Any:
    from rich import box

    return box.SIMPLE


def cell_text(value: object) -> str:
    """Write one table cell: empty for none, yes/no for booleans, printable."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return printable(str(value))


def plan_row(item: PlanItem) -> dict[str, Any]:
    """One planned action; a requested id the org lacks has status "not found"."""
    missing = item.reason == NOT_FOUND
    return {
        "id": item.action_id,
        "name": item.name,
        "category": item.category,
        "integration_id": item.integration_id,
        "version": item.version,
        "old": None if missing else item.old,
        "new": item.new,
        "status": MISSING if missing else item.status,
        "reason": None if missing else item.reason,
        "rule": item.rule,
    }


def plan_document(plan: Plan) -> dict[str, Any]:
    """What `-o json` prints for a plan besides its rows: what was asked, the counts."""
    return {
        "mode": plan.mode,
        "requested": plan.requested,
        "selection": plan.selection,
        "found": plan.found,
        "total": plan.total,
        "counts": plan.counts(),
    }


def outcome_rows(
    plan: Plan,
    report: RunReport | None,
    *,
    refused: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """What a run did to each planned action (no report: nothing was sent).

    `refused` names actions refused before the run, with the reason.
    """
    outcomes = dict.fromkeys(refused or {}, "refused")
    reasons = dict(refused or {})
    if report is not None:
        outcomes.update(report.outcomes())
        reasons.update(report.reasons())
    rows = []
    for item in plan.items:
        row = plan_row(item)
        del row["version"], row["status"], row["rule"]
        row["outcome"] = _outcome(item, outcomes)
        row["reason"] = reasons.get(item.action_id, row["reason"])
        rows.append(row)
    return rows


def _outcome(item: PlanItem, outcomes: Mapping[str, str]) -> str:
    if item.reason == NOT_FOUND:
        return MISSING
    if item.action_id in outcomes:
        return outcomes[item.action_id]
    return {"skip": "skipped", "unchanged": "unchanged"}.get(
        item.status, "not attempted"
    )


def outcome_document(
    run_id: str | None,
    rows: Sequence[Mapping[str, Any]],
    known: Sequence[str] = OUTCOMES,
) -> dict[str, Any]:
    """What `-o json` prints for a run: its id (null: nothing to do) and counts."""
    return {"run": run_id, "counts": count(rows, "outcome", known)}


def result_row(result: ChangeResult) -> dict[str, Any]:
    """The outcome row of a single-action change."""
    before = result.before or {}
    return {
        "id": result.action_id,
        "name": result.name,
        "category": before.get("category"),
        "integration_id": before.get("integrationId"),
        "old": result.old,
        "new": result.new,
        "outcome": result.outcome,
        "reason": None,
    }


def count(
    rows: Sequence[Mapping[str, Any]], field: str, known: Sequence[str]
) -> dict[str, int]:
    """Count rows by a field's value, every known value present (zero or more)."""
    counts = dict.fromkeys(known, 0)
    for row in rows:
        value = str(row[field])
        counts[value] = counts.get(value, 0) + 1
    return counts
