"""Help text, shell completion and a start-up that imports nothing heavy."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from action_timeouts.cli import COMMANDS

from .helpers import invoke, run_subprocess

SUB_COMMANDS = [*sorted(COMMANDS), "config show", "emulator serve"]
HEAVY_MODULES = (
    "uvicorn",
    "starlette",
    "action_timeouts.emulator",
    "rich",
    "sqlite3",
    "httpx",
)
# Runs the command line with argv in a fresh interpreter (no arguments: only import
# it), then reports on stderr which heavy modules ended up loaded.
IMPORT_PROBE = """
import json, sys
from action_timeouts.cli import main
if sys.argv[1:]:
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
heavy = [name for name in HEAVY if name in sys.modules]
print(json.dumps(heavy), file=sys.stderr)
"""


def test_top_level_help_lists_every_command() -> None:
    """`--help` exits 0 and lists every sub-command with its one-line help."""
    result = invoke("--help")

    assert result.exit_code == 0
    for name, (_module, _attribute, summary) in COMMANDS.items():
        assert name in result.stdout
        assert summary in result.stdout


def test_help_documents_the_exit_codes() -> None:
    """The top-level help states the exit codes scripts rely on."""
    result = invoke("-h")

    text = " ".join(result.stdout.split())
    assert "6 not found" in text
    assert "7 action refused" in text
    assert "12 verification failed" in text


@pytest.mark.parametrize("command", SUB_COMMANDS)
def test_every_sub_command_has_help(command: str) -> None:
    """Each sub-command answers `--help` with its usage line and exit code 0."""
    result = invoke(*command.split(), "--help")

    assert result.exit_code == 0, result.output
    assert f"Usage: action-timeouts {command}" in result.stdout


def test_set_help_names_its_selectors() -> None:
    """`set --help` documents every selector and the run options."""
    result = invoke("set", "--help")

    for option in (
        "--id",
        "--ids-file",
        "--name",
        "--category",
        "--integration",
        "--secure / --no-secure",
        "--below",
        "--all",
        "--unset",
        "--dry-run",
        "--yes",
        "--detailed-exitcode",
    ):
        assert option in result.stdout


def test_completion_bash_prints_a_completion_script() -> None:
    """`completion bash` prints a bash function bound to the command."""
    result = invoke("completion", "bash")

    assert result.exit_code == 0
    assert "_ACTION_TIMEOUTS_COMPLETE" in result.stdout
    assert "complete -o nosort -F" in result.stdout
    assert "action-timeouts" in result.stdout


def test_completion_bash_completes_sub_commands() -> None:
    """The bash completion protocol offers the lazily loaded sub-commands."""
    env = {
        **os.environ,
        "_ACTION_TIMEOUTS_COMPLETE": "bash_complete",
        "COMP_WORDS": "action-timeouts s",
        "COMP_CWORD": "1",
    }

    completed = run_subprocess([], env=env)

    assert completed.returncode == 0
    assert {"plain,show", "plain,set"} <= set(completed.stdout.split())


def test_unknown_shell_is_a_usage_error() -> None:
    """`completion` of an unsupported shell exits 2."""
    result = invoke("completion", "powershell")

    assert result.exit_code == 2


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param([], id="bare-import"),
        pytest.param(["--help"], id="help"),
        pytest.param(["set", "--help"], id="set-help"),
        pytest.param(["list", "--help"], id="list-help"),
        pytest.param(["history", "--help"], id="history-help"),
    ],
)
def test_start_up_imports_nothing_heavy(arguments: list[str]) -> None:
    """Importing the CLI and printing help load no server, rich, sqlite3 or httpx."""
    probe = f"HEAVY = {HEAVY_MODULES!r}\n{IMPORT_PROBE}"
    completed = subprocess.run(
        [sys.executable, "-c", probe, *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stderr.strip().splitlines()[-1]) == []


def test_installed_command_prints_help() -> None:
    """The installed `action-timeouts` command starts and prints its help."""
    completed = run_subprocess(["--help"])

    assert completed.returncode == 0, completed.stderr
    assert "Usage: action-timeouts" in completed.stdout


def test_python_dash_m_runs_the_command() -> None:
    """`python -m action_timeouts` runs the same command line."""
    completed = subprocess.run(
        [sys.executable, "-m", "action_timeouts", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert "0.1.0" in completed.stdout


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["completion"], id="missing-choice"),
        pytest.param(["completion", "powershell"], id="bad-choice"),
        pytest.param(["plan"], id="missing-option"),
        pytest.param(["list", "--bogus"], id="unknown-option"),
        pytest.param(["history", "a", "b"], id="extra-argument"),
        pytest.param(["set", "10", "--all", "--below", "ten"], id="bad-number"),
    ],
)
def test_usage_errors_are_one_line(arguments: list[str]) -> None:
    """Every click usage error is one `error:` line on stderr, exit 2."""
    result = invoke(*arguments)

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["set", "12", "order-lookup", "-v"], id="set"),
        pytest.param(["list", "-v"], id="list"),
        pytest.param(["history", "--quiet"], id="history"),
    ],
)
def test_global_option_after_the_command_says_where_it_goes(
    arguments: list[str],
) -> None:
    """-v or -q after the command exits 2 saying global options go before it."""
    result = invoke(*arguments)

    assert result.exit_code == 2
    assert "global options such as" in result.stderr
    assert f"go before the command: `action-timeouts {arguments[-1]} " in result.stderr


@pytest.mark.parametrize(
    ("command", "says"),
    [
        pytest.param("demo", "A number that seeds the generated org", id="demo"),
        pytest.param("emulator serve", "A directory: serve the actions", id="serve"),
    ],
)
def test_seed_options_say_what_they_take(command: str, says: str) -> None:
    """`--seed` is a number for demo and a directory for serve; each help says so."""
    result = invoke(*command.split(), "--help")

    assert says in " ".join(result.stdout.split())
