"""Commands around the tool itself: `config show`, `completion`, `demo`."""

from __future__ import annotations

from typing import Any

import click

from action_timeouts.cli.common import (
    connection_from,
    connection_options,
    handle_errors,
    output_option,
    print_rows,
)

SHELLS = ("bash", "zsh", "fish")


@click.group()
def config() -> None:
    """Inspect the settings in force."""


@config.command("show")
@output_option
@connection_options
@handle_errors
def config_show(output_format: str, **kwargs: Any) -> None:
    """Print each setting, masked when secret, and where it came from."""
    from action_timeouts.settings import describe_settings

    settings = connection_from(kwargs).settings()
    rows = [
        {"setting": name, "value": value, "source": source}
        for name, value, source in describe_settings(settings)
    ]
    print_rows(rows, ("setting", "value", "source"), output_format)


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script; e.g. `eval "$(action-timeouts completion bash)"`."""
    from click.shell_completion import get_completion_class

    from action_timeouts.cli import cli

    completion_class = get_completion_class(shell)
    if completion_class is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"no completion for {shell}")
    variable = "_ACTION_TIMEOUTS_COMPLETE"
    script = completion_class(cli, {}, "action-timeouts", variable).source()
    click.echo(script)


@click.command()
@click.option(
    "--actions",
    "action_count",
    default=40,
    show_default=True,
    help="How many actions the generated org has.",
)
@click.option(
    "--seed",
    "random_seed",
    default=7,
    show_default=True,
    help="A number that seeds the generated org: the same number, the same org "
    "(not a directory, unlike `emulator serve --seed DIR`).",
)
@handle_errors
def demo(action_count: int, random_seed: int) -> None:
    """Walk through a safe change on a local emulator: no account, no network."""
    from action_timeouts.cli.demo import run_demo

    run_demo(action_count, random_seed)
