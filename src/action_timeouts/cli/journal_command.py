"""Commands over recorded runs: `history`, `undo` and `resume`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import click

from action_timeouts.actions import (
    ActionsApi,
    current_timeout,
    describe_timeout,
    invalid_timeout,
    stored_timeout,
)
from action_timeouts.cli.actions_command import complete_listing
from action_timeouts.cli.common import (
    WORKERS,
    Connection,
    connection_from,
    connection_options,
    fail,
    handle_errors,
    open_api,
    output_option,
    print_rows,
    say,
)
from action_timeouts.cli.interrupts import holding, interrupts_end_run, resume_command
from action_timeouts.cli.output import (
    JOURNAL_OUTCOMES,
    OUTCOME_FIELDS,
    OUTCOME_TABLE,
    PENDING,
    emit,
    outcome_document,
    people_cells,
)
from action_timeouts.cli.runs_command import (
    apply_planned,
    open_journal,
    run_changes,
    run_options,
    stop_message,
)

if TYPE_CHECKING:
    from action_timeouts.actions import ActionsApi
    from action_timeouts.bulk import Change
    from action_timeouts.guard import Expectation
    from action_timeouts.http import ApiClient
    from action_timeouts.journal import Journal, JournalItem, RunSummary
    from action_timeouts.plan import PlanItem

RUN_COLUMNS = ("id", "started", "user", "org", "command", "status", "undo_of", "counts")
JSON_FORMATS = ("json", "ndjson")
# How the journal's state of an action reads as the outcome every command prints.
ITEM_OUTCOMES = {
    "verified": "changed",
    "changed": "changed",
    "unchanged": "unchanged",
    "skipped": "skipped",
    "refused": "refused",
    "failed": "failed",
    "planned": "not attempted",
    "intent": PENDING,
    "sent": PENDING,
}
UNFINISHED = ("not attempted", PENDING)
# What the outcome alone does not say about the journal's state.
ITEM_NOTES = {
    "changed": "written, not verified yet",
    "intent": "may have been written: the run stopped before it learned",
    "sent": "may have been written: the run stopped before it learned",
}


@click.command()
@click.argument("run_id", required=False)
@output_option
@handle_errors
def history(run_id: str | None, output_format: str) -> None:
    """List recent runs, or with RUN_ID show every action of one run.

    Each action of a run is printed as every run prints it, with its outcome:
    changed, unchanged, skipped, refused, failed, not attempted, or pending (a
    write the run may have sent without learning whether it landed).
    """
    journal = open_journal()
    if run_id is None:
        rows = [run_row(summary, output_format) for summary in journal.runs()]
        if not rows:
            say("no runs recorded yet")
        print_rows(rows, RUN_COLUMNS, output_format)
        return
    detail = journal.run(run_id)
    run = detail.run
    say(
        f"run {run.id}: {run.command} by {run.user} on {run.org}, {run.status}, "
        f"started {run.started_at}"
    )
    rows = [item_row(item) for item in detail.items]
    if run.status != "running" and any(r["outcome"] in UNFINISHED for r in rows):
        say(f"`{resume_command(run.id)}` finishes the run")
    emit_items(run.id, detail.items, output_format)


def emit_items(run_id: str, items: Sequence[JournalItem], output_format: str) -> None:
    """Print each action of a run as the journal has it, as `history RUN` does."""
    if output_format == "table":
        cells = [item_cells(item) for item in items]
        emit(cells, OUTCOME_FIELDS, output_format, table=OUTCOME_TABLE, people=False)
        return
    rows = [item_row(item) for item in items]
    document = outcome_document(run_id, rows, JOURNAL_OUTCOMES)
    emit(rows, OUTCOME_FIELDS, output_format, document=document)


def print_run_so_far(journal: Journal, run_id: str, output_format: str) -> None:
    """Print what an interrupted run did so far, in the fields `history RUN` uses."""
    emit_items(run_id, journal.run(run_id).items, output_format)


def run_row(summary: RunSummary, output_format: str = "table") -> dict[str, Any]:
    """One row of `history`: the counts per outcome, an object but in a table."""
    outcomes = dict.fromkeys(JOURNAL_OUTCOMES, 0)
    for state, number in summary.counts.items():
        outcome = ITEM_OUTCOMES.get(state, state)
        outcomes[outcome] = outcomes.get(outcome, 0) + number
    counts: Any = outcomes
    if output_format == "table":
        counts = ", ".join(f"{key} {value}" for key, value in outcomes.items() if value)
    return {
        "id": summary.id,
        "started": summary.started_at,
        "user": summary.user,
        "org": summary.org,
        "command": summary.command,
        "status": summary.status,
        "undo_of": summary.undo_of,
        "counts": counts,
    }


def item_row(item: JournalItem) -> dict[str, Any]:
    """One action of `history RUN`, in the fields and values every run prints."""
    before = item.before or {}
    return {
        "id": item.action_id,
        "name": item.name,
        "category": item.category or before.get("category"),
        "integration_id": item.integration_id or before.get("integrationId"),
        "old": journaled_old(item),
        "new": item.new_timeout,
        "outcome": ITEM_OUTCOMES.get(item.state, item.state),
        "reason": item.reason or ITEM_NOTES.get(item.state),
    }


def journaled_old(item: JournalItem) -> object:
    """Return an item's timeout before the run, as the run showed it.

    A skipped item's invalid stored timeout (`"30"`, `true`) is read from its
    journaled document, since the timeout column holds whole seconds only.
    """
    from action_timeouts.actions import stored_timeout

    if item.state == "skipped" and item.old_timeout is None and item.before:
        return stored_timeout(item.before)
    return item.old_timeout


def item_cells(item: JournalItem) -> dict[str, Any]:
    """The table cells of one action: timeouts in words, none that is not known."""
    cells = people_cells(item_row(item))
    if item.state == "planned" and item.before_version is None:
        cells["old"] = ""  # not read yet: its timeout is not known
    return cells


@click.command()
@click.argument("run_id")
@run_options
@output_option
@connection_options
@handle_errors
def undo(run_id: str, **kwargs: Any) -> None:
    """Put back the timeouts RUN changed (unset included), action by action.

    The plan is made from the org as it is now: an action that is no longer as RUN
    left it (its timeout, config, templates, name or category changed by anyone
    since) is shown as refused, with what differs, and left as it is; one already
    back is unchanged. The check is made again on every read while undoing. A run
    that did not finish must be resumed first.

    An action the run recorded failed after its write was sent is put back only
    when it is exactly as the run meant to leave it; otherwise it is listed as not
    undone, for a person to check.
    """
    from action_timeouts.plan import Plan

    connection = connection_from(kwargs)
    journal = open_journal()
    run_id = journal.resolve_run_id(run_id)
    with holding(journal.holding_run(run_id, "being undone")):
        refuse_unfinished(journal, run_id)
        items = journal.changed_items(run_id) + written_but_failed(journal, run_id)
        with open_api(connection) as (api, client):
            same_org_or_refuse(journal.run(run_id).run, client, "undo")
            listed = {str(a["id"]): a for a in complete_listing(api, {}).actions}
            plan_items, changes, refused = undo_plan(api, items, listed)
            plan = Plan(plan_items, found=len(items), total=None, requested=None)
            apply_planned(
                api,
                client,
                plan,
                changes,
                kwargs,
                command="undo",
                selector={"run": run_id},
                undo_of=run_id,
                refused=refused,
            )


def same_org_or_refuse(run: RunSummary, client: ApiClient, verb: str) -> None:
    """Refuse, before anything is sent, to work on a run made on another org.

    Orgs are compared by their API base URL, spelled one way. A different OAuth
    client of the same org only gets a warning: an org can have several.
    """
    from action_timeouts.errors import ConfigurationError
    from action_timeouts.regions import org_identity

    current = client.endpoint.api_base
    if org_identity(run.org) != org_identity(current):
        message = (
            f"run {run.id} was made on {run.org}; your settings point at {current}: "
            f"point them at the run's org (--region or --profile) to {verb} it"
        )
        raise ConfigurationError(message)
    client_id = getattr(client, "client_id", None)
    if run.client_id and client_id and run.client_id != client_id:
        say(
            f"warning: run {run.id} was made with OAuth client {run.client_id}; "
            f"your settings use {client_id} (going on: an org can have several)"
        )


def refuse_unfinished(journal: Journal, run_id: str) -> None:
    """Refuse the undo of a run with actions whose write may have landed unrecorded.

    An interrupted run leaves actions planned or with an intent: only `resume`
    learns which of them were changed, so undo would miss some.
    """
    from action_timeouts.errors import UnfinishedRunError

    pending = journal.pending_items(run_id)
    if pending:
        never = sum(item.state == "planned" for item in pending)
        sent = len(pending) - never
        parts = []
        if sent:
            parts.append(
                f"{sent} of its actions may or may not have been changed (the write "
                "may have been sent)"
            )
        if never:
            parts.append(f"{never} {'was' if never == 1 else 'were'} never attempted")
        message = (
            f"run {run_id} did not finish: {' and '.join(parts)}; run "
            f"`{resume_command(run_id)}` first, then undo it (nothing was "
            "changed)"
        )
        raise UnfinishedRunError(message)


def undo_plan(
    api: ActionsApi,
    items: Sequence[JournalItem],
    listed: Mapping[str, Mapping[str, Any]],
) -> tuple[list[PlanItem], list[Change], dict[str, str]]:
    """Plan the undo of each changed item against the action as it is now.

    Each action to change is guarded by what the run left, so that a re-read
    during the undo refuses it if someone else has changed it meanwhile.
    """
    from action_timeouts.bulk import Change
    from action_timeouts.guard import guarded_by
    from action_timeouts.plan import PlanItem

    plan_items: list[PlanItem] = []
    changes: list[Change] = []
    refused: dict[str, str] = {}
    for item in items:
        action = listed.get(item.action_id)
        expected = undo_expectation(item)
        status, reason = undo_verdict(api, item, action, expected)
        if item.state == "failed" and status == "skip":
            reason = failed_reason(item)
        now = stored_timeout(action) if action is not None else item.new_timeout
        plan_items.append(
            PlanItem(
                action_id=item.action_id,
                name=item.name or "",
                category=action.get("category") if action else None,
                integration_id=action.get("integrationId") if action else None,
                version=action.get("version") if action else None,
                old=now,
                new=item.old_timeout,
                status=status,
                reason=reason,
            )
        )
        if status == "change":
            guard = guarded_by(api, expected)
            changes.append(
                Change(
                    item.action_id, item.old_timeout, known=action, still_wanted=guard
                )
            )
        elif reason is not None and status == "skip":
            refused[item.action_id] = reason
    return plan_items, changes, refused


def written_but_failed(journal: Journal, run_id: str) -> list[JournalItem]:
    """Return the items the run recorded failed after their write was sent.

    Such a write may have landed. Each has the journal's copy of the action as read
    before the write, so undo can tell whether it is exactly as the run meant it.
    """
    items = journal.run(run_id).items
    return [item for item in items if item.state == "failed" and item.before]


def failed_reason(item: JournalItem) -> str:
    """Why an action the run recorded failed is not undone, and what to do."""
    return (
        f"not undone: the run recorded it failed: {item.reason}; check it with "
        f"`action-timeouts show {item.action_id}` and set its timeout by hand"
    )


def undo_expectation(item: JournalItem) -> Expectation:
    """What an action must still be for the undo of `item` to go ahead.

    The version a failed item recorded is that of an action found not as meant, so
    it proves nothing: the action is compared in full.
    """
    from action_timeouts.guard import Expectation, left_by_run

    version = None if item.state == "failed" else item.after_version
    return Expectation(
        target=item.old_timeout, version=version, content=left_by_run(item)
    )


def undo_verdict(
    api: ActionsApi,
    item: JournalItem,
    action: Mapping[str, Any] | None,
    expected: Expectation,
) -> tuple[Any, str | None]:
    """Decide whether one action can be put back, and why not."""
    from action_timeouts.bulk import FATAL_ERRORS
    from action_timeouts.errors import ActionTimeoutsError
    from action_timeouts.guard import refusal

    if action is None:
        return "skip", "no longer exists"
    problem = invalid_timeout(action)
    if problem is not None:
        return "skip", problem
    if current_timeout(action) == item.old_timeout:
        return "unchanged", None
    try:
        reason = refusal(api, action, expected)
    except FATAL_ERRORS:
        raise
    except ActionTimeoutsError as error:
        reason = f"cannot be compared with what the run left: {error}"
    if reason is not None:
        return "skip", reason
    return "change", None


@click.command()
@click.argument("run_id")
@click.option(
    "--workers", type=WORKERS, default=8, show_default=True, help="Parallel writes."
)
@connection_options
@handle_errors
def resume(run_id: str, workers: int, **kwargs: Any) -> None:
    """Finish an interrupted run: reconcile each pending action, never apply twice.

    Actions changed but not yet verified are read back and verified too, and
    actions reported failed after their write was sent are read again and recorded
    as verified when the write landed. An action changed by someone else since the
    run is refused, one that cannot be read is recorded failed, and the others are
    finished. The run stays failed while any action in it is failed or refused.
    """
    journal = open_journal()
    run_id = journal.resolve_run_id(run_id)
    with holding(journal.holding_run(run_id, "being resumed")):
        finish(journal, run_id, workers, connection_from(kwargs))


def finish(journal: Journal, run_id: str, workers: int, connection: Connection) -> None:
    """Reconcile and finish one run whose lock this process holds.

    An error every action would meet (authentication, a missing permission)
    stops the resume as it stops a run: nothing more is sent, the rest is left
    pending, and the last line says what to fix before resuming again. Ctrl-C or
    SIGTERM at any moment marks the run interrupted, as for a run.
    """
    from action_timeouts.bulk import FATAL_ERRORS, RunReport

    detail = journal.run(run_id)
    if not detail.items and detail.run.status != "finished":
        refuse_empty(journal, run_id)
    pending = journal.pending_items(run_id)
    unverified = [item for item in detail.items if item.state == "changed"]
    attempted = [
        item
        for item in detail.items
        if item.state == "failed" and item.before is not None
    ]
    with open_api(connection) as (api, client):
        same_org_or_refuse(detail.run, client, "resume")
        with interrupts_end_run(journal, run_id):
            try:
                failed = verify_changed(api, journal, run_id, unverified)
                landed = recheck_failed(api, journal, run_id, attempted)
                found = reconcile_pending(api, journal, run_id, pending)
            except FATAL_ERRORS as error:
                end_resume(journal, run_id)
                fail(stop_message(RunReport(run_id, stopped_by=error)), error.exit_code)
        report = run_changes(api, journal, run_id, found.changes, {"workers": workers})
    left = end_resume(journal, run_id)
    say(
        f"run {run_id}: {len(pending)} pending, {len(report.changed)} changed "
        f"now, {len(report.unchanged) + found.unchanged} unchanged, "
        f"{found.landed} had already landed, "
        f"{len(unverified) - failed} verified after the fact, "
        f"{landed} reported failed had landed, "
        f"{len(report.failed) + failed + found.failed} failed, "
        f"{len(report.refused)} refused; {len(left)} failed or refused in the run"
    )
    for action_id, reason in sorted({**report.failed, **report.refused}.items()):
        state = "refused" if action_id in report.refused else "failed"
        say(f"  {state} {action_id}: {reason}")
    if report.stopped_by is not None:
        fail(stop_message(report), report.stopped_by.exit_code)
    if left or failed or found.failed or not report.ok or report.refused:
        raise SystemExit(1)


def refuse_empty(journal: Journal, run_id: str) -> NoReturn:
    """End a run that stopped before it journaled any action: it changed none.

    Its plan was never recorded, so there is nothing to finish: the run is
    recorded failed (not finished, which would say it did what was asked).
    """
    from action_timeouts.errors import EXIT_CODES

    journal.finish_run(run_id, "failed")
    message = (
        f"run {run_id} stopped before it journaled any action, so it changed none "
        "and there is nothing to resume; run the command again"
    )
    fail(message, EXIT_CODES["failure"])


def end_resume(journal: Journal, run_id: str) -> list[JournalItem]:
    """Journal how the run stands now; return its actions failed or refused.

    Actions that failed before this resume still count. A run with actions still
    pending is interrupted, whatever this resume did. A journal that can no longer
    be written keeps the run as last journaled, for a later resume.
    """
    from action_timeouts.journal import PENDING_STATES

    items = journal.run(run_id).items
    left = [item for item in items if item.state in ("failed", "refused")]
    status = "failed" if left else "finished"
    if any(item.state in PENDING_STATES for item in items):
        status = "interrupted"
    if journal.broken is None:
        journal.finish_run(run_id, status)
    return left


def recheck_failed(
    api: ActionsApi, journal: Journal, run_id: str, items: Sequence[JournalItem]
) -> int:
    """Re-read failed actions whose write was sent; record those that landed.

    A write whose answer was lost and whose re-reads failed too is reported failed
    although it may have landed. An action now at the new timeout is verified in
    full against the journal's copy (templates byte for byte) before it is
    recorded as verified; the others stay failed. Return how many had landed.
    """
    from action_timeouts.actions import verify, with_timeout
    from action_timeouts.bulk import FATAL_ERRORS
    from action_timeouts.errors import ActionTimeoutsError

    landed = 0
    for item in items:
        before = item.before or {}
        if not isinstance(before.get("config"), Mapping):
            continue
        try:
            action = api.get(item.action_id)
            if current_timeout(action) != item.new_timeout:
                continue
            intended = with_timeout(before["config"], item.new_timeout)
            verify(api, before, action, intended)
        except FATAL_ERRORS:
            raise
        except ActionTimeoutsError as error:
            journal.record_outcome(run_id, item.action_id, "failed", reason=str(error))
            continue
        journal.record_outcome(
            run_id, item.action_id, "verified", after_version=action["version"]
        )
        landed += 1
    return landed


def verify_changed(
    api: ActionsApi, journal: Journal, run_id: str, items: Sequence[JournalItem]
) -> int:
    """Read back actions changed but never verified; return how many are wrong.

    Each is compared in full with what the run meant to leave (see
    `departure`): a difference is recorded failed, naming the fields.
    """
    wrong = 0
    for item in items:
        action = read_or_fail(api, journal, run_id, item.action_id)
        if action is None:
            wrong += 1
            continue
        if not record_verdict(
            journal, run_id, item, departure(api, item, action), action
        ):
            wrong += 1
    return wrong


def departure(
    api: ActionsApi, item: JournalItem, action: Mapping[str, Any]
) -> str | None:
    """Say how an action read back differs from what the run meant to leave, or None.

    What the run meant to leave is the journal's copy of the action with the
    change made (`guard.left_by_run`): its config with the templates is compared
    byte for byte, and every other field but the version, as a verification
    after the write would.
    """
    from action_timeouts.actions import verify
    from action_timeouts.bulk import FATAL_ERRORS
    from action_timeouts.errors import ActionTimeoutsError
    from action_timeouts.guard import left_by_run

    if current_timeout(action) != item.new_timeout:
        return f"read back as {describe_timeout(current_timeout(action))}"
    left = left_by_run(item)
    if left is None or item.before is None:
        return "the journal holds no copy of the action to verify it against"
    try:
        verify(api, item.before, action, left["config"])
    except FATAL_ERRORS:
        raise
    except ActionTimeoutsError as error:
        return str(error)
    return None


@dataclass
class Reconciled:
    """What reading a run's pending actions found, and the changes left to make."""

    changes: list[Change] = field(default_factory=list)
    landed: int = 0
    """Writes found landed, and verified in full."""
    failed: int = 0
    """Actions that could not be read, or differ from what the run meant to leave."""
    unchanged: int = 0
    """Actions the run had not read yet, found already as it asked."""


def reconcile_pending(
    api: ActionsApi, journal: Journal, run_id: str, pending: Sequence[JournalItem]
) -> Reconciled:
    """Read each pending action; record those that landed, return the rest to apply.

    A write found at the new timeout is verified in full against the journal's
    copy (`departure`) before it is recorded verified; a difference is recorded
    failed, naming the fields. Each change to apply expects the action at the
    version the run read (an intent) or planned from (never attempted), so an
    action someone else has changed since is refused rather than overwritten. An
    action that cannot be read is recorded failed with the reason, and the
    others are reconciled all the same.
    """
    from action_timeouts.bulk import Change

    found = Reconciled()
    for item in pending:
        if item.state == "planned":
            expected = item.before_version
            if expected is None:
                expected = read_unread(api, journal, run_id, item, found)
            if expected is not None:
                found.changes.append(
                    Change(item.action_id, item.new_timeout, expected_version=expected)
                )
            continue
        action = read_or_fail(api, journal, run_id, item.action_id)
        if action is None:
            found.failed += 1
        elif current_timeout(action) != item.new_timeout:
            expected = item.before_version
            found.changes.append(
                Change(item.action_id, item.new_timeout, expected_version=expected)
            )
        elif record_verdict(
            journal, run_id, item, departure(api, item, action), action
        ):
            found.landed += 1
        else:
            found.failed += 1
    return found


def read_unread(
    api: ActionsApi,
    journal: Journal,
    run_id: str,
    item: JournalItem,
    found: Reconciled,
) -> int | None:
    """Read an action the run planned before it read it, and journal what it is.

    Return the version to change it at, or None when there is nothing to change:
    it could not be read (recorded failed), or it is already as the run asked
    (recorded unchanged, with the timeout it has).
    """
    from action_timeouts.cli.runs_command import planned_from

    action = read_or_fail(api, journal, run_id, item.action_id)
    if action is None:
        found.failed += 1
        return None
    planned = planned_from(action, item.new_timeout)
    journal.record_plan(run_id, [planned])
    if planned.status == "unchanged":
        found.unchanged += 1
        return None
    return planned.version


def record_verdict(
    journal: Journal,
    run_id: str,
    item: JournalItem,
    reason: str | None,
    action: Mapping[str, Any],
) -> bool:
    """Record an action read back verified, or failed for `reason`; tell which."""
    if reason is None:
        journal.record_outcome(
            run_id, item.action_id, "verified", after_version=action["version"]
        )
        return True
    journal.record_outcome(run_id, item.action_id, "failed", reason=reason)
    say(f"  failed {item.action_id}: {reason}")
    return False


def read_or_fail(
    api: ActionsApi, journal: Journal, run_id: str, action_id: str
) -> dict[str, Any] | None:
    """Read one action of the run; when it cannot be read, record it failed.

    A deleted action "no longer exists". An error that would stop every read the
    same way (authentication, permission) stops the resume instead.
    """
    from action_timeouts.bulk import FATAL_ERRORS
    from action_timeouts.errors import ActionTimeoutsError, NotFoundError

    try:
        return api.get(action_id)
    except FATAL_ERRORS:
        raise
    except NotFoundError:
        reason = "no longer exists"
    except ActionTimeoutsError as error:
        reason = str(error)
    journal.record_outcome(run_id, action_id, "failed", reason=reason)
    say(f"  failed {action_id}: {reason}")
    return None
