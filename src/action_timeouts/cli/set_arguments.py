"""The arguments of `set`: SECONDS and ACTION_ID, told apart from mistyped options."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import click

from action_timeouts.actions import validate_timeout
from action_timeouts.errors import UsageError


def parse_set_arguments(
    arguments: Sequence[str], params: Sequence[click.Parameter], *, clearing: bool
) -> tuple[int | None, str | None]:
    """Split SECONDS and ACTION_ID; with --unset and no number, only an id.

    `params` are the options of `set`, to tell a mistyped option from an argument.
    """
    refuse_unknown_options(arguments, params)
    if len(arguments) > 2:
        raise UsageError("too many arguments: give SECONDS and at most one ACTION_ID")
    if clearing:
        if len(arguments) > 1:
            raise UsageError("with --unset and no SECONDS, give at most one ACTION_ID")
        return None, arguments[0] if arguments else None
    if not arguments:
        raise UsageError("give the new timeout in SECONDS (1-60), or --unset")
    if len(arguments) == 2 and _swapped(*arguments):
        message = (
            f"SECONDS comes first, then the ACTION_ID: "
            f"`{corrected_command_line(params)}`"
        )
        raise UsageError(message)
    seconds = validate_timeout(arguments[0])
    return seconds, arguments[1] if len(arguments) == 2 else None


def _swapped(first: str, second: str) -> bool:
    """Tell whether `set ID SECONDS` was typed for `set SECONDS ID`."""
    from action_timeouts.plan import ACTION_ID_PATTERN

    if looks_numeric(first) or not ACTION_ID_PATTERN.fullmatch(first):
        return False
    try:
        validate_timeout(second)
    except UsageError:
        return False
    return True


def corrected_command_line(params: Sequence[click.Parameter]) -> str:
    """Return the command line as typed, with SECONDS and ACTION_ID swapped back."""
    import shlex

    from action_timeouts.cli import RAW_ARGUMENTS

    context = click.get_current_context(silent=True)
    typed = list(context.meta.get(RAW_ARGUMENTS, [])) if context else []
    if "set" not in typed:
        return "action-timeouts set SECONDS ACTION_ID"
    start = typed.index("set") + 1
    positions = [start + at for at in _argument_positions(typed[start:], params)]
    if len(positions) == 2:
        first, second = positions
        typed[first], typed[second] = typed[second], typed[first]
    return shlex.join(["action-timeouts", *typed])


def _argument_positions(
    words: Sequence[str], params: Sequence[click.Parameter]
) -> list[int]:
    """Return where the arguments of `set` are among its words, options skipped."""
    taking_value = {
        name
        for param in params
        if isinstance(param, click.Option) and not param.is_flag and not param.count
        for name in param.opts
    }
    positions: list[int] = []
    skip_next = after_separator = False
    for position, word in enumerate(words):
        if skip_next:
            skip_next = False
        elif after_separator or not word.startswith("-") or looks_numeric(word):
            positions.append(position)
        elif word == "--":
            after_separator = True
        else:
            skip_next = word in taking_value
    return positions


def refuse_unknown_options(
    arguments: Sequence[str], params: Sequence[click.Parameter]
) -> None:
    """Refuse an argument that is a mistyped option rather than SECONDS or an id.

    `set` keeps unknown options as arguments so that `-1` reaches the timeout
    check; anything else that starts with `-` is an option `set` does not have,
    or one of its options given after `--`, which makes it an argument.
    """
    from action_timeouts.cli import GLOBAL_OPTION

    known = [name for param in params for name in param.opts]
    for argument in arguments:
        if argument.partition("=")[0] in known:
            message = (
                f"{argument} after `--` is taken as an argument; put options before "
                "`--` (see `action-timeouts set --help`)"
            )
            raise UsageError(message)
        if argument.startswith("-") and not looks_numeric(argument):
            close = difflib.get_close_matches(argument, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            if GLOBAL_OPTION.fullmatch(argument):
                hint = (
                    f"global options such as {argument} go before the command: "
                    f"`action-timeouts {argument} set ...`; "
                )
            message = (
                f"no such option: {argument} ({hint}see `action-timeouts set --help`)"
            )
            raise UsageError(message)


def looks_numeric(text: str) -> bool:
    """Tell whether an argument is meant as a number of seconds."""
    return text.strip().lstrip("-+").replace(".", "", 1).isdigit()
