"""Commands that change actions: `set`, and `history`, `undo`, `resume` of runs."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import click

from action_timeouts.actions import (
    ActionsApi,
    ChangeResult,
    describe_timeout,
    is_function_action,
    refusal_reason,
    set_timeout,
)
from action_timeouts.cli.actions_command import (
    check_integrations,
    complete_listing,
    integration_names_for,
)
from action_timeouts.cli.common import (
    WORKERS,
    Connection,
    colour_system,
    confirm_or_refuse,
    connection_from,
    connection_options,
    fail,
    handle_errors,
    is_quiet,
    open_api,
    output_option,
    say,
)
from action_timeouts.cli.interrupts import (
    interrupts_end_run,
    journaled_run,
    resume_command,
)
from action_timeouts.cli.output import (
    MISSING,
    OUTCOME_FIELDS,
    OUTCOME_TABLE,
    OUTCOMES,
    PLAN_FIELDS,
    PLAN_TABLE,
    emit,
    outcome_document,
    outcome_rows,
    people_cells,
    plan_document,
    plan_row,
    print_table,
    result_row,
)
from action_timeouts.cli.output import count as count_rows
from action_timeouts.cli.set_arguments import looks_numeric, parse_set_arguments
from action_timeouts.errors import (
    EXIT_CODES,
    ActionRefusedError,
    ActionTimeoutsError,
    TransportError,
    UsageError,
)

if TYPE_CHECKING:
    from action_timeouts.bulk import Change, RunReport
    from action_timeouts.http import ApiClient
    from action_timeouts.journal import Journal
    from action_timeouts.plan import Plan, PlanItem, Selector

EXIT_PENDING = 2
MISSING_SHOWN = 5
NOT_ATTEMPTED = "not attempted"


def selector_options(function: Any) -> Any:
    """Add the options that choose which actions a run touches."""
    options = [
        click.option("--id", "ids", multiple=True, help="An action id (repeatable)."),
        click.option(
            "--ids-file", type=click.Path(dir_okay=False), help="Ids, one a line."
        ),
        click.option("--name", "names", multiple=True, help="Name glob, any case."),
        click.option("--category", "categories", multiple=True, help="Category."),
        click.option(
            "--integration",
            "integrations",
            multiple=True,
            help="Integration id or name, any case.",
        ),
        click.option(
            "--secure/--no-secure", default=None, help="Only secure (or not)."
        ),
        click.option(
            "--below", type=int, help="Only actions whose timeout is below N s."
        ),
        click.option(
            "--all", "select_all", is_flag=True, help="Every action of the org."
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def run_options(function: Any) -> Any:
    """Add the options every mutating command shares."""
    options = [
        click.option("--dry-run", is_flag=True, help="Show the plan and stop."),
        click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask."),
        click.option(
            "--detailed-exitcode",
            is_flag=True,
            help="0 no changes, 2 changes pending (with --dry-run), 1 errors.",
        ),
        click.option(
            "--workers",
            type=WORKERS,
            default=8,
            show_default=True,
            help="Parallel writes.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("arguments", nargs=-1, metavar="[SECONDS] [ACTION_ID]")
@click.option(
    "--unset",
    is_flag=True,
    help="Without SECONDS: clear the timeout (platform default 60 s). "
    "With SECONDS: only actions that have no explicit timeout.",
)
@selector_options
@run_options
@output_option
@connection_options
@handle_errors
def set_command(arguments: tuple[str, ...], unset: bool, **kwargs: Any) -> None:
    """Set the timeout of one action, or of every action the selectors choose.

    \b
      action-timeouts set 10 ACTION_ID          one action, no question asked
      action-timeouts set --unset ACTION_ID     back to the platform default (60 s)
      action-timeouts set 10 --below 10 --category "Acme Web Services"
      action-timeouts set 8 --name 'lookup*' --dry-run -o json
    """
    connection = connection_from(kwargs)
    clearing = unset and not (arguments and looks_numeric(arguments[0]))
    seconds, action_id = parse_set_arguments(
        arguments, set_command.params, clearing=clearing
    )
    only_unset = unset and seconds is not None
    selector = make_selector(kwargs, only_unset)
    if action_id is None and selector.is_empty():
        action_id = connection.settings().action_id
    if action_id is not None and not selector.is_empty():
        raise UsageError("give either an ACTION_ID or selectors, not both")
    if action_id is not None:
        set_one(connection, action_id, seconds, kwargs)
        return
    require_selection(selector)
    run_selection(connection, selector, seconds, kwargs)


def require_selection(selector: Selector) -> None:
    """Refuse a run that names no action, before anything is sent."""
    from action_timeouts.plan import SELECTOR_OPTIONS

    if selector.is_empty():
        message = (
            "give an ACTION_ID (or set GENESYS_ACTION_ID), or choose actions with "
            f"{SELECTOR_OPTIONS}, or --all for every action"
        )
        raise UsageError(message)


def make_selector(options: dict[str, Any], only_unset: bool) -> Selector:
    """Build the selector from the command's options (ids file read here)."""
    from action_timeouts.plan import Selector, read_ids_file

    ids = tuple(options.pop("ids"))
    ids_file = options.pop("ids_file")
    if ids_file:
        ids += read_ids_file(ids_file)
    return Selector(
        ids=ids,
        name_globs=tuple(options.pop("names")),
        categories=tuple(options.pop("categories")),
        integrations=tuple(options.pop("integrations")),
        secure=options.pop("secure"),
        below=options.pop("below"),
        only_unset=only_unset,
        all=options.pop("select_all"),
    )


def set_one(
    connection: Connection, action_id: str, seconds: int | None, options: dict[str, Any]
) -> None:
    """Change one named action: journaled, verified, no confirmation needed."""
    from action_timeouts.plan import validate_action_id

    validate_action_id(action_id)
    reason = refusal_reason(action_id)
    if reason is not None and not reason.startswith("function"):
        message = f"action {action_id} cannot take a timeout: {reason}"
        raise ActionRefusedError(message, action_id=action_id, reason=reason)
    with open_api(connection) as (api, client):
        if options["dry_run"]:
            result = set_timeout(api, action_id, seconds, dry_run=True)
            pending = result.outcome == "planned"
            verdict = "would change" if pending else "unchanged"
            say(
                f"{action_id} ({result.name}): {describe_timeout(result.old)} -> "
                f"{describe_timeout(seconds)}: {verdict}; nothing sent (dry run)"
            )
            show_plan(single_plan(result, pending=pending), options["output_format"])
            _exit_for_plan(options, pending=pending)
            return
        journal = open_journal()
        facts = run_facts(client, "set", {"ids": [action_id]}, seconds)
        with journaled_run(
            journal,
            lambda: journal.start_run(**facts, hold_as="running"),
            so_far_printer(journal, options),
        ) as run_id:
            result = _set_journaled(api, journal, run_id, action_id, seconds)
    outcome = (
        f"{result.outcome}, verified" if result.outcome == "changed" else "unchanged"
    )
    say(
        f"{action_id} ({result.name}): {describe_timeout(result.old)} -> "
        f"{describe_timeout(seconds)}: {outcome} (run {run_id})"
    )
    if is_function_action(result.before):
        say(
            "note: a function action also stops at its function's own timeout "
            "(1-15 s), which this tool does not change"
        )
    rows = [result_row(result)]
    emit(
        rows,
        OUTCOME_FIELDS,
        options["output_format"],
        table=OUTCOME_TABLE,
        document=outcome_document(run_id, rows),
    )


def single_plan(result: ChangeResult, *, pending: bool) -> Plan:
    """The plan of a single-action dry run: one item, changed or unchanged."""
    from action_timeouts.plan import Plan, PlanItem

    before = result.before
    item = PlanItem(
        action_id=result.action_id,
        name=result.name,
        category=before.get("category"),
        integration_id=before.get("integrationId"),
        version=result.version_before,
        old=result.old,
        new=result.new,
        status="change" if pending else "unchanged",
    )
    mode: Any = "unset" if result.new is None else "set"
    selection = {"ids": [result.action_id]}
    return Plan([item], 1, None, result.new, mode, selection)


def _set_journaled(
    api: ActionsApi, journal: Journal, run_id: str, action_id: str, seconds: int | None
) -> ChangeResult:
    """Run the safe procedure for one action with its intent and outcome journaled.

    The action is journaled as planned before it is first read, and again with
    what that read found, so a run stopped at any point leaves it for `resume`.
    """
    journal.record_plan(run_id, [unread_item(action_id, seconds)])
    try:
        action = api.get(action_id)
        journal.record_plan(run_id, [planned_from(action, seconds)])
        result = set_timeout(
            api,
            action_id,
            seconds,
            known=action,
            before_write=intent_recorder(journal, run_id),
        )
    except TransportError:
        # The write may or may not have landed: leave the item pending for resume.
        journal.finish_run(run_id, "interrupted")
        say(f"`{resume_command(run_id)}` finds out and finishes the change")
        raise
    except ActionTimeoutsError as error:
        journal.record_outcome(run_id, action_id, "failed", reason=str(error))
        journal.finish_run(run_id, "failed")
        raise
    state = "verified" if result.outcome == "changed" else "unchanged"
    journal.record_outcome(run_id, action_id, state, after_version=result.version_after)
    journal.finish_run(run_id, "finished")
    return result


def unread_item(action_id: str, seconds: int | None) -> PlanItem:
    """Plan a change of an action not read yet: name, version and timeout unknown."""
    from action_timeouts.journal import NOT_READ
    from action_timeouts.plan import PlanItem

    return PlanItem(action_id, "", None, None, None, None, seconds, "change", NOT_READ)


def planned_from(action: Mapping[str, Any], seconds: int | None) -> PlanItem:
    """Plan setting `seconds` on an action as just read: a change, or unchanged."""
    from action_timeouts.actions import current_timeout
    from action_timeouts.plan import PlanItem

    old = current_timeout(action)
    return PlanItem(
        action_id=str(action["id"]),
        name=str(action.get("name") or ""),
        category=action.get("category"),
        integration_id=action.get("integrationId"),
        version=action.get("version"),
        old=old,
        new=seconds,
        status="unchanged" if old == seconds else "change",
    )


def intent_recorder(journal: Journal, run_id: str) -> Any:
    """Return the hook that journals each write before it is sent."""
    from action_timeouts.actions import current_timeout

    def record(action: dict[str, Any], body: dict[str, Any]) -> None:
        new = body["config"].get("timeoutSeconds")
        journal.record_intent(
            run_id, action["id"], action, current_timeout(action), new
        )

    return record


def run_selection(
    connection: Connection,
    selector: Selector,
    seconds: int | None,
    options: dict[str, Any],
) -> None:
    """Plan a change over the selected actions, show it, confirm, apply, report."""
    from action_timeouts.cli.hints import explain_empty_selection
    from action_timeouts.plan import api_filters, build_plan

    with open_api(connection) as (api, client):
        values = {"": selector.integrations}
        names = integration_names_for(api.client, values)
        filters = api_filters(selector)
        listing = complete_listing(api, filters)
        check_integrations(values, names, listing.actions)
        plan = build_plan(
            listing.actions,
            selector,
            seconds,
            total=listing.total,
            integration_names=names,
        )
        if plan.missing:
            refuse_missing(plan, options["output_format"])
        if not plan.selected:
            hint = explain_empty_selection(
                listing.actions,
                selector,
                filtered=bool(filters),
                list_all=lambda: complete_listing(api, {}).actions,
                integration_names=names,
            )
            say(f"warning: nothing selected: {hint}")
        listed = {str(action["id"]): action for action in listing.actions}
        execute_plan(
            api, client, plan, listed, options, command="set", selector=selector
        )


def refuse_missing(plan: Plan, output_format: str) -> NoReturn:
    """Stop before any write when requested ids are not in the org, naming them.

    A mistyped id or a stale ids file must not half-apply: the ids found are left
    alone too. The plan is printed with the missing ids marked "not found".
    """
    show_plan(plan, output_format)
    missing = [item.action_id for item in plan.missing]
    shown = ", ".join(missing[:MISSING_SHOWN])
    more = (
        f" and {len(missing) - MISSING_SHOWN} more"
        if len(missing) > MISSING_SHOWN
        else ""
    )
    noun = "id is" if len(missing) == 1 else "ids are"
    message = (
        f"{len(missing)} requested {noun} not in the org: {shown}{more}; nothing was "
        "changed (check --id and --ids-file; `action-timeouts list` shows the ids)"
    )
    fail(message, EXIT_CODES["not-found"])


def execute_plan(
    api: ActionsApi,
    client: ApiClient,
    plan: Plan,
    listed: Mapping[str, Mapping[str, Any]],
    options: dict[str, Any],
    *,
    command: str,
    selector: Any,
) -> None:
    """Show a plan, stop on --dry-run, else confirm, apply, journal and report."""
    from action_timeouts.bulk import changes_from_plan

    changes = changes_from_plan(plan, listed)
    apply_planned(
        api,
        client,
        plan,
        changes,
        options,
        command=command,
        selector=selector,
        listed=listed,
    )


def apply_planned(
    api: ActionsApi,
    client: ApiClient,
    plan: Plan,
    changes: list[Change],
    options: dict[str, Any],
    *,
    command: str,
    selector: Any,
    undo_of: str | None = None,
    refused: Mapping[str, str] | None = None,
    listed: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Show the plan; unless a dry run, confirm, journal, apply and report.

    `refused` names actions the plan already refuses (undo); any makes the exit 1.
    `listed` holds the actions the plan was made from, by id, for the journal.
    """
    output_format = options["output_format"]
    if options["dry_run"]:
        show_plan(plan, output_format, refused=refused)
        _exit_for_plan(options, pending=bool(plan.to_change))
        _exit_if_refused(refused)
        return
    say_plan_counts(plan, refused=refused)
    if not plan.to_change:
        print_outcome(plan, None, output_format, refused=refused)
        _exit_if_refused(refused)
        return
    if not options["assume_yes"]:
        show_plan_to_confirm(plan)
    number = len(plan.to_change)
    noun = "action" if number == 1 else "actions"
    confirm_or_refuse(f"Change {number} {noun}?", options["assume_yes"])
    journal = open_journal()
    facts = run_facts(client, command, selector_summary(selector), plan.requested)
    with journaled_run(
        journal,
        lambda: journal.start_run(**facts, undo_of=undo_of, hold_as="running"),
        so_far_printer(journal, options),
    ) as run_id:
        journal.record_plan(run_id, plan.items, listed)
        for action_id, reason in (refused or {}).items():
            journal.record_outcome(run_id, action_id, "refused", reason=reason)
        report = run_changes(api, journal, run_id, changes, options, refused=refused)
    print_outcome(plan, report, output_format)
    summarise(plan, report)


def print_outcome(
    plan: Plan,
    report: RunReport | None,
    output_format: str,
    *,
    refused: Mapping[str, str] | None = None,
) -> None:
    """Print what a run did to each action on stdout (no report: nothing to do).

    `refused` names actions the plan refused before any run (undo).
    """
    rows = outcome_rows(plan, report, refused=refused)
    run_id = None if report is None else report.run_id
    emit(
        rows,
        OUTCOME_FIELDS,
        output_format,
        table=OUTCOME_TABLE,
        document=outcome_document(run_id, rows),
    )


def _exit_if_refused(refused: Mapping[str, str] | None) -> None:
    if refused:
        for action_id, reason in sorted(refused.items()):
            say(f"  refused {action_id}: {reason}")
        raise SystemExit(1)


def run_changes(
    api: ActionsApi,
    journal: Journal,
    run_id: str,
    changes: list[Change],
    options: Mapping[str, Any],
    *,
    refused: Mapping[str, str] | None = None,
) -> RunReport:
    """Apply changes with a progress bar on a terminal; journal the run's end.

    `refused` names actions the plan refused (undo): they count in the report and
    in how the run ended, as the runner's own refusals do.
    """
    from action_timeouts.bulk import Runner

    # The progress bar stops before an interrupt ends the run, so the terminal
    # is left as it was.
    so_far = so_far_printer(journal, options)
    with (
        interrupts_end_run(
            journal, run_id, so_far and functools.partial(so_far, run_id)
        ),
        ProgressBar(len(changes)) as advance,
    ):
        runner = Runner(
            api,
            journal,
            run_id,
            workers=options["workers"],
            progress=advance,
            first_alone=True,
        )
        report = runner.run(changes)
    report.refused.update(refused or {})
    if journal.broken is None:
        journal.finish_run(run_id, run_status(report))
    return report


def so_far_printer(
    journal: Journal, options: Mapping[str, Any]
) -> Callable[[str], None] | None:
    """Return what prints an interrupted run's actions so far, in the output format.

    None when the command prints no rows (`resume`).
    """
    output_format = options.get("output_format")
    if output_format is None:
        return None

    def print_so_far(run_id: str) -> None:
        from action_timeouts.cli.journal_command import print_run_so_far

        print_run_so_far(journal, run_id, output_format)

    return print_so_far


def run_status(report: RunReport) -> str:
    """How a run ended: stopped with changes left pending is interrupted.

    A run with an action failed or refused has failed, as `resume` records it.
    """
    if report.stopped_by is not None and not report.failed:
        return "interrupted"
    return "finished" if report.ok and not report.refused else "failed"


def stop_message(report: RunReport) -> str:
    """Say why a run stopped early and what to fix before resuming it."""
    from action_timeouts.bulk import JOURNAL_ERRORS
    from action_timeouts.errors import PermissionDeniedError, TimeoutNotClearedError

    error = report.stopped_by
    if isinstance(error, JOURNAL_ERRORS):
        return str(error)  # it says what was sent, what to fix and how to resume
    if isinstance(error, TimeoutNotClearedError):
        return (
            f"{error}; the run stopped there and sent nothing more: set 60 instead, "
            "the timeout an unset action gets"
        )
    if isinstance(error, PermissionDeniedError):
        # A read needs the view permission, a write the edit permission.
        needed = "view" if str(error).startswith("GET ") else "edit"
        fix = f"give the client integrations:action:{needed}"
    else:
        fix = "check the client id, secret and region"
    return (
        f"{error}; the run stopped there and sent nothing more: {fix}, then "
        f"`{resume_command(str(report.run_id))}`"
    )


class ProgressBar:
    """A rich progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressBar:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                rate_column(),
                TimeRemainingColumn(),
                console=Console(stderr=True, color_system=colour_system()),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("apply", total=self.total)
        return self

    def __call__(self, _action_id: str, _outcome: str) -> None:
        """Count one action as done."""
        if self._progress is not None:
            self._progress.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def rate_column() -> Any:
    """A progress column showing actions per second."""
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.speed or 0:.1f}/s")

    return RateColumn()


def summarise(plan: Plan, report: RunReport) -> None:
    """Print the run's counts on stderr; exit 1 if any action failed or was refused.

    Each action counts once, under the outcome its row and the journal give it. A
    run stopped by an error every change would meet exits with that error's code.
    """
    counts = count_rows(outcome_rows(plan, report), "outcome", OUTCOMES)
    shown = ("changed", "unchanged", "skipped", "refused", "failed")
    parts = [f"{outcome} {counts[outcome]}" for outcome in shown]
    for outcome in (NOT_ATTEMPTED, MISSING):
        if counts[outcome]:
            parts.append(f"{outcome} {counts[outcome]}")
    say(
        f"run {report.run_id}: found {plan.found}, selected {len(plan.selected)}, "
        + ", ".join(parts)
    )
    failed = {**report.failed, **report.refused_by_server()}
    for action_id, reason in sorted(failed.items()):
        say(f"  failed {action_id}: {reason}")
    for action_id, reason in sorted(report.refused.items()):
        say(f"  refused {action_id}: {reason}")
    if counts[NOT_ATTEMPTED]:
        say(
            f"  {counts[NOT_ATTEMPTED]} not attempted: "
            f"`{resume_command(str(report.run_id))}` finishes them"
        )
    if report.stopped_by is not None:
        fail(stop_message(report), report.stopped_by.exit_code)
    if not report.ok or report.refused:
        raise SystemExit(1)


def show_plan(
    plan: Plan, output_format: str, *, refused: Mapping[str, str] | None = None
) -> None:
    """Print the plan on stdout and its counts on stderr (`refused`: as for undo)."""
    rows = [plan_row(item) for item in plan.items]
    emit(
        rows,
        PLAN_FIELDS,
        output_format,
        table=PLAN_TABLE,
        document=plan_document(plan),
    )
    say_plan_counts(plan, refused=refused)


def show_plan_to_confirm(plan: Plan) -> None:
    """Print the plan as a table on stderr, beside the question it is asked for."""
    if is_quiet():
        return
    rows = [people_cells(plan_row(item)) for item in plan.items]
    print_table(rows, PLAN_TABLE, stream=sys.stderr)


def say_plan_counts(plan: Plan, *, refused: Mapping[str, str] | None = None) -> None:
    """Say on stderr what the plan found and what it would do.

    `refused` names skipped items that are refusals (undo), counted apart.
    """
    total = "" if plan.total is None else f" (API total {plan.total})"
    missing = len(plan.missing)
    refusals = len(refused or {})
    skipped = len(plan.skipped) - missing - refusals
    also = f", {refusals} refused" if refusals else ""
    also += f", {missing} not found" if missing else ""
    say(
        f"found {plan.found}{total}, selected {len(plan.selected)}: "
        f"{len(plan.to_change)} to change, {len(plan.unchanged)} unchanged, "
        f"{skipped} skipped{also}"
    )


def _exit_for_plan(options: Mapping[str, Any], *, pending: bool) -> None:
    if options.get("detailed_exitcode") and pending:
        raise SystemExit(EXIT_PENDING)


def open_journal() -> Journal:
    """Open the journal in the user state directory."""
    from action_timeouts.journal import Journal

    return Journal.open()


def run_facts(
    client: ApiClient, command: str, selectors: Any, requested: int | None
) -> dict[str, Any]:
    """The facts a run is journaled with (never a secret)."""
    client_id = getattr(client, "client_id", None)
    return {
        "command": command,
        "org": client.endpoint.api_base,
        "client_id": client_id,
        "selectors": selectors,
        "requested": {"timeoutSeconds": requested},
    }


def selector_summary(selector: Any) -> Any:
    """A JSON-able summary of what was selected."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(selector) and not isinstance(selector, type):
        return asdict(selector)
    return selector
