"""The `action-timeouts` command line.

Sub-commands live in their own modules and are imported only when they run, so
`action-timeouts --help` stays fast and never imports the emulator or uvicorn.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

ACTIONS = "action_timeouts.cli.actions_command"
RUNS = "action_timeouts.cli.runs_command"
JOURNAL = "action_timeouts.cli.journal_command"
POLICY = "action_timeouts.cli.policy_command"
MISC = "action_timeouts.cli.misc_command"
GLOBAL_OPTION = re.compile(r"-v+|-q|--verbose|--quiet")
RAW_ARGUMENTS = "action_timeouts.arguments"  # the command line as typed, in ctx.meta

# name -> (module, attribute, one-line help shown by --help without importing it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "show": (ACTIONS, "show", "Show one action and its timeout."),
    "list": (ACTIONS, "list_actions", "List actions with their timeouts."),
    "set": (RUNS, "set_command", "Set the timeout of one action or a selection."),
    "history": (JOURNAL, "history", "List past runs, or show one."),
    "undo": (JOURNAL, "undo", "Put back the timeouts a run changed."),
    "resume": (JOURNAL, "resume", "Finish an interrupted run."),
    "plan": (POLICY, "plan", "Show what a policy file would change."),
    "apply": (POLICY, "apply", "Change the org to match a policy file."),
    "check": (POLICY, "check", "Exit 2 when the org drifts from a policy file."),
    "demo": (MISC, "demo", "Walk through a change on a local emulator."),
    "config": (MISC, "config", "Show the settings in force and where they came from."),
    "completion": (MISC, "completion", "Print the shell completion script."),
    "emulator": (
        "action_timeouts.cli.emulator_command",
        "emulator",
        "Run the local emulator of the data-actions API.",
    ),
}


# A group called with no sub-command shows its help through this usage error (click
# 8.2 and later); it stays as click prints it.
_SHOWN_AS_HELP: tuple[type[click.UsageError], ...] = tuple(
    getattr(click.exceptions, name)
    for name in ("NoArgsIsHelpError",)
    if hasattr(click.exceptions, name)
)


class OneLineUsageError(click.UsageError):
    """A usage error shown as the CLI shows every error: one line on stderr."""

    def show(self, file: IO[Any] | None = None) -> None:
        """Print `error: ...` and where to read the usage, on one line."""
        from action_timeouts.cli.common import printable

        where = f" (see `{self.ctx.command_path} --help`)" if self.ctx else ""
        message = printable(" ".join(self.format_message().split(" ")))
        click.echo(f"error: {message}{where}", file=file, err=True)


_LEFT_AS_THEY_ARE: tuple[type[click.UsageError], ...] = (
    OneLineUsageError,
    *_SHOWN_AS_HELP,
)


@contextmanager
def one_line_usage_errors() -> Iterator[None]:
    """Turn click's usage errors (unknown option, bad value) into one-line errors.

    A closed stdout (help piped into `head -1`) ends the command quietly.
    """
    try:
        yield
    except _LEFT_AS_THEY_ARE:
        raise
    except click.UsageError as error:
        message = tool_style(error.format_message())
        if isinstance(error, click.NoSuchOption):
            message = no_such_option(error)
        raise OneLineUsageError(message, error.ctx) from None
    except BrokenPipeError:
        from action_timeouts.cli.common import leave_quietly

        leave_quietly()


def tool_style(message: str) -> str:
    """Write one of click's messages as the tool writes its own: lower case, no stop.

    `Invalid value for '--below': 'x' is not a valid integer.` reads `invalid
    value for '--below': 'x' is not a valid integer`.
    """
    message = " ".join(message.split()).rstrip(".")
    if len(message) > 1 and message[0].isupper() and not message[1].isupper():
        message = message[0].lower() + message[1:]
    return message.replace(". Did you mean", "; did you mean")


def no_such_option(error: click.NoSuchOption) -> str:
    """Say which option is unknown, with the nearest one or where it belongs."""
    option, ctx = error.option_name, error.ctx
    hint = global_option_hint(option, ctx) or command_option_hint(option, ctx)
    if not hint and error.possibilities:
        hint = f" (did you mean {', '.join(sorted(error.possibilities))}?)"
    return f"no such option: {option}{hint}"


def command_option_hint(option: str, ctx: click.Context | None) -> str:
    """Say that a command's option such as --profile goes after the command."""
    if ctx is None or ctx.parent is not None:
        return ""
    arguments = ctx.meta.get(RAW_ARGUMENTS, [])
    name = next((word for word in arguments if word in COMMANDS), None)
    group = ctx.command
    if name is not None and isinstance(group, click.Group):
        command = group.get_command(ctx, name)
        params = command.params if command else []
        known = [opt for param in params for opt in param.opts]
        if option.partition("=")[0] in known:
            return (
                f"; options of a command go after it: `action-timeouts {name} "
                f"{option} ...`"
            )
    return f"; options of a command go after it: `action-timeouts COMMAND {option} ...`"


def global_option_hint(option: str, ctx: click.Context | None) -> str:
    """Say where a global option such as -v goes, when one was given too late."""
    if not GLOBAL_OPTION.fullmatch(option) or ctx is None or ctx.parent is None:
        return ""
    return (
        f"; global options such as {option} go before the command: "
        f"`action-timeouts {option} {ctx.info_name} ...`"
    )


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use.

    Usage errors of the group and of every sub-command are printed as one line.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with one_line_usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            ctx.meta[RAW_ARGUMENTS] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        with one_line_usage_errors():
            return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attribute, _ = COMMANDS[cmd_name]
            command: click.Command = getattr(
                importlib.import_module(module_name), attribute
            )
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(
        self,
        ctx: click.Context,  # noqa: ARG002 - click passes it; the rows need none
        formatter: click.HelpFormatter,
    ) -> None:
        rows = [(name, COMMANDS[name][2]) for name in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="action-timeouts")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv: debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Change the execution timeout of Genesys Cloud data actions safely.

    Data goes to stdout, messages to stderr. Exit codes: 0 success, 1 some actions
    failed, 2 bad input, 3 configuration, 4 authentication, 5 permission, 6 not
    found, 7 action refused, 8 version conflict, 9 rate limited, 10 network,
    11 server error, 12 verification failed, 13 run or journal in use by another
    process, 14 run unfinished (resume it first), 130 interrupted (Ctrl-C), 141
    stdout closed early, 143 terminated (SIGTERM).
    """
    from action_timeouts.cli.common import configure_logging

    if quiet and verbose:
        message = "-q and -v contradict each other: give one of them"
        raise click.UsageError(message, ctx)
    ctx.meta["quiet"] = quiet
    configure_logging(verbose, quiet)


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (the console-script entry point)."""
    from action_timeouts.cli.interrupts import install

    install()
    return cli.main(args=argv, prog_name="action-timeouts")
