"""The `action-timeouts` command line.

Sub-commands live in their own modules and are imported only when they run, so
`action-timeouts --help` stays fast and never imports the emulator or uvicorn.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# name -> (module, attribute, one-line help shown by --help without importing it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "emulator": (
        "action_timeouts.cli.emulator_command",
        "emulator",
        "Run the local emulator of the data-actions API.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

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
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="action-timeouts")
def cli() -> None:
    """Change the execution timeout of Genesys Cloud data actions safely."""


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (the console-script entry point)."""
    return cli.main(args=argv, prog_name="action-timeouts")
