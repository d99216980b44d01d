"""Commands that change actions: `set`, and `history`, `undo`, `resume` of runs."""

from __future__ import annotations

import difflib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import click

from action_timeouts.actions import (
    ActionsApi,
    ChangeResult,
    describe_timeout,
    is_function_action,
    refusal_reason,
    set_timeout,
    validate_timeout,
)
from action_timeouts.cli.actions_command import complete_listing
from action_timeouts.cli.common import (
    Connection,
    confirm_or_refuse,
    connection_from,
    connection_options,
    handle_errors,
    open_api,
    output_option,
    print_rows,
    say,
)
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
    from action_timeouts.plan import Plan, Selector

PLAN_COLUMNS = ("id", "name", "old", "new", "status", "reason")
EXIT_PENDING = 2


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
            "--integration", "integrations", multiple=True, help="Integration id."
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
            "--workers", default=8, show_default=True, help="Parallel writes."
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
    clearing = unset and not (arguments and _looks_numeric(arguments[0]))
    seconds, action_id = parse_set_arguments(arguments, clearing=clearing)
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


def parse_set_arguments(
    arguments: Sequence[str], *, clearing: bool
) -> tuple[int | None, str | None]:
    """Split SECONDS and ACTION_ID; with --unset and no number, only an id."""
    refuse_unknown_options(arguments)
    if len(arguments) > 2:
        raise UsageError("too many arguments: give SECONDS and at most one ACTION_ID")
    if clearing:
        if len(arguments) > 1:
            raise UsageError("with --unset and no SECONDS, give at most one ACTION_ID")
        return None, arguments[0] if arguments else None
    if not arguments:
        raise UsageError("give the new timeout in SECONDS (1-60), or --unset")
    seconds = validate_timeout(arguments[0])
    return seconds, arguments[1] if len(arguments) == 2 else None


def refuse_unknown_options(arguments: Sequence[str]) -> None:
    """Refuse an argument that is a mistyped option rather than SECONDS or an id.

    `set` keeps unknown options as arguments so that `-1` reaches the timeout
    check; anything else that starts with `-` is an option `set` does not have.
    """
    for argument in arguments:
        if argument.startswith("-") and not _looks_numeric(argument):
            known = [name for param in set_command.params for name in param.opts]
            close = difflib.get_close_matches(argument, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            message = (
                f"no such option: {argument} ({hint}see `action-timeouts set --help`)"
            )
            raise UsageError(message)


def require_selection(selector: Selector) -> None:
    """Refuse a run that names no action, before anything is sent."""
    if selector.is_empty():
        message = (
            "give an ACTION_ID (or set GENESYS_ACTION_ID), or choose actions with "
            "--id, --ids-file, --name, --category, --integration, "
            "--secure/--no-secure, --below or --unset, or --all for every action"
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
            say(
                f"{action_id}: {describe_timeout(result.old)} -> "
                f"{describe_timeout(seconds)} ({result.outcome}; nothing sent)"
            )
            _exit_for_plan(options, pending=result.outcome == "planned")
            return
        journal = open_journal()
        facts = run_facts(client, "set", {"ids": [action_id]}, seconds)
        with journal.started_run(**facts) as run_id:
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
    if options["output_format"] in ("json", "ndjson"):
        click.echo(json.dumps(result_json(result, run_id), ensure_ascii=False))


def _set_journaled(
    api: ActionsApi, journal: Journal, run_id: str, action_id: str, seconds: int | None
) -> ChangeResult:
    """Run the safe procedure for one action with its intent and outcome journaled."""
    try:
        result = set_timeout(
            api, action_id, seconds, before_write=intent_recorder(journal, run_id)
        )
    except TransportError:
        # The write may or may not have landed: leave the item pending for resume.
        journal.finish_run(run_id, "interrupted")
        say(f"`action-timeouts resume {run_id}` finds out and finishes the change")
        raise
    except ActionTimeoutsError as error:
        journal.record_outcome(run_id, action_id, "failed", reason=str(error))
        journal.finish_run(run_id, "failed")
        raise
    state = "verified" if result.outcome == "changed" else "unchanged"
    journal.record_outcome(run_id, action_id, state, after_version=result.version_after)
    journal.finish_run(run_id, "finished")
    return result


def result_json(result: ChangeResult, run_id: str) -> dict[str, Any]:
    """The outcome of a single-action change as printed with `-o json`."""
    return {
        "id": result.action_id,
        "name": result.name,
        "old": result.old,
        "new": result.new,
        "outcome": result.outcome,
        "version_before": result.version_before,
        "version_after": result.version_after,
        "run": run_id,
    }


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
    from action_timeouts.plan import api_filters, build_plan

    with open_api(connection) as (api, client):
        listing = complete_listing(api, api_filters(selector))
        plan = build_plan(listing.actions, selector, seconds, total=listing.total)
        if not plan.selected:
            say(
                "warning: no action matches these selectors (categories are "
                "compared exactly, case included; `action-timeouts list` shows them)"
            )
        listed = {str(action["id"]): action for action in listing.actions}
        execute_plan(
            api, client, plan, listed, options, command="set", selector=selector
        )


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
        api, client, plan, changes, options, command=command, selector=selector
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
) -> None:
    """Show the plan; unless a dry run, confirm, journal, apply and report.

    `refused` names actions the plan already refuses (undo); any makes the exit 1.
    """
    json_output = options["output_format"] in ("json", "ndjson")
    dry_run = options["dry_run"] or not plan.to_change
    show_plan(plan, options["output_format"] if dry_run or not json_output else None)
    if dry_run:
        _exit_for_plan(options, pending=bool(plan.to_change))
        _exit_if_refused(refused)
        return
    confirm_or_refuse(f"Change {len(plan.to_change)} actions?", options["assume_yes"])
    journal = open_journal()
    facts = run_facts(client, command, selector_summary(selector), plan.requested)
    with journal.started_run(**facts, undo_of=undo_of) as run_id:
        journal.record_plan(run_id, plan.items)
        report = run_changes(api, journal, run_id, changes, options)
    report.refused.update(refused or {})
    if json_output:
        click.echo(json.dumps(run_result(plan, report), indent=2, ensure_ascii=False))
    summarise(plan, report)


def _exit_if_refused(refused: Mapping[str, str] | None) -> None:
    if refused:
        for action_id, reason in sorted(refused.items()):
            say(f"  refused {action_id}: {reason}")
        raise SystemExit(1)


def run_result(plan: Plan, report: RunReport) -> dict[str, Any]:
    """What a run did, for `-o json`: the run id, counts and each action's outcome."""
    outcomes = report.outcomes()
    items = [
        {
            "id": item.action_id,
            "name": item.name,
            "old": item.old,
            "new": item.new,
            "outcome": outcomes.get(item.action_id, item.status),
            "reason": report.failed.get(item.action_id)
            or report.refused.get(item.action_id)
            or item.reason,
        }
        for item in plan.items
    ]
    counts: dict[str, int] = {}
    for entry in items:
        counts[str(entry["outcome"])] = counts.get(str(entry["outcome"]), 0) + 1
    return {"run": report.run_id, "counts": counts, "items": items}


def run_changes(
    api: ActionsApi,
    journal: Journal,
    run_id: str,
    changes: list[Change],
    options: Mapping[str, Any],
) -> RunReport:
    """Apply changes with a progress bar on a terminal; journal the run's end."""
    from action_timeouts.bulk import Runner

    with ProgressBar(len(changes)) as advance:
        runner = Runner(
            api, journal, run_id, workers=options["workers"], progress=advance
        )
        try:
            report = runner.run(changes)
        except KeyboardInterrupt:
            journal.finish_run(run_id, "interrupted")
            interrupted(run_id)
    journal.finish_run(run_id, "finished" if report.ok else "failed")
    return report


def interrupted(run_id: str) -> NoReturn:
    """Stop at once on Ctrl-C, saying how to finish the run.

    Workers may be waiting out a rate-limit pause; the journal already holds every
    intent, so leaving without them is as safe as a crash, and `resume` finishes.
    """
    click.echo(
        f"error: interrupted; `action-timeouts resume {run_id}` finishes the run",
        err=True,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_CODES["interrupted"])


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
                console=Console(stderr=True),
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
    """Print the run's counts on stderr; exit 1 if any action failed or was refused."""
    say(
        f"run {report.run_id}: found {plan.found}, selected {len(plan.selected)}, "
        f"changed {len(report.changed)}, "
        f"unchanged {len(plan.unchanged) + len(report.unchanged)}, "
        f"skipped {len(plan.skipped)}, refused {len(report.refused)}, "
        f"failed {len(report.failed)}"
    )
    for action_id, reason in sorted(report.failed.items()):
        say(f"  failed {action_id}: {reason}")
    for action_id, reason in sorted(report.refused.items()):
        say(f"  refused {action_id}: {reason}")
    if report.not_attempted:
        say(
            f"  {len(report.not_attempted)} not attempted: `action-timeouts resume "
            f"{report.run_id}` finishes them"
        )
    if not report.ok or report.refused:
        raise SystemExit(1)


def show_plan(plan: Plan, output_format: str | None) -> None:
    """Print the plan on stdout (None: no plan) and its counts on stderr."""
    if output_format in ("json", "ndjson"):
        click.echo(json.dumps(plan.to_json(), indent=2, ensure_ascii=False))
    elif output_format is not None:
        rows = [plan_row(item) for item in plan.items]
        print_rows(rows, PLAN_COLUMNS, output_format)
    total = "" if plan.total is None else f" (API total {plan.total})"
    say(
        f"found {plan.found}{total}, selected {len(plan.selected)}: "
        f"{len(plan.to_change)} to change, {len(plan.unchanged)} unchanged, "
        f"{len(plan.skipped)} skipped"
    )


def plan_row(item: Any) -> dict[str, Any]:
    """One plan row for people."""
    return {
        "id": item.action_id,
        "name": item.name,
        "old": describe_timeout(item.old),
        "new": describe_timeout(item.new) if item.status == "change" else "",
        "status": item.status,
        "reason": item.reason or "",
    }


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


def _looks_numeric(text: str) -> bool:
    """Tell whether an argument is meant as a number of seconds."""
    return text.strip().lstrip("-+").replace(".", "", 1).isdigit()
