"""Usage errors: one lower-case line that says what to type instead, exit 2."""

from __future__ import annotations

import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import invoke

pytestmark = pytest.mark.usefixtures("credentials")


def only_line(stderr: str) -> str:
    """Return the one line of an error, failing when there are more."""
    [line] = stderr.splitlines()
    return line


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["set", "10", "order-lookup", "--workers", "0"], id="set-0"),
        pytest.param(["set", "10", "--all", "--workers", "-3"], id="set-negative"),
        pytest.param(["resume", "20261203-1847", "--workers", "0"], id="resume"),
        pytest.param(["undo", "20261203-1847", "--workers", "999"], id="undo-large"),
    ],
)
def test_workers_outside_the_range_is_a_usage_error(
    emulator: RunningEmulator, arguments: list[str]
) -> None:
    """`--workers` takes 1 to 64; anything else is exit 2 with nothing sent."""
    result = invoke(*arguments)

    assert result.exit_code == 2
    assert "--workers" in only_line(result.stderr)
    assert "1<=x<=64" in result.stderr
    assert emulator.state.request_log() == []


def test_an_option_after_the_separator_is_named_as_an_argument(
    emulator: RunningEmulator,
) -> None:
    """`set -- 10 ID --dry-run` says --dry-run after `--` is an argument."""
    result = invoke("set", "--", "10", "order-lookup", "--dry-run")

    assert result.exit_code == 2
    line = only_line(result.stderr)
    assert "--dry-run after `--` is taken as an argument" in line
    assert "put options before `--`" in line
    assert "did you mean" not in line
    assert emulator.state.request_log() == []


def test_swapped_arguments_hint_keeps_every_option(emulator: RunningEmulator) -> None:
    """The hint for ID before SECONDS is the whole command line, put right."""
    result = invoke(
        "-v", "set", "order-lookup", "--name", "a b", "-o", "json", "10", "--dry-run"
    )

    assert result.exit_code == 2
    expected = "`action-timeouts -v set 10 --name 'a b' -o json order-lookup --dry-run`"
    assert expected in only_line(result.stderr)


def test_a_command_option_before_the_command_says_where_it_goes() -> None:
    """`action-timeouts --profile X list` says command options go after `list`."""
    result = invoke("--profile", "X", "list")

    assert result.exit_code == 2
    line = only_line(result.stderr)
    assert line.startswith("error: no such option: --profile;")
    assert "`action-timeouts list --profile ...`" in line


@pytest.mark.parametrize(
    ("arguments", "start"),
    [
        pytest.param(
            ["list", "--bogus"], "error: no such option: --bogus", id="option"
        ),
        pytest.param(
            ["list", "-o", "yaml"],
            "error: invalid value for '--output' / '-o': 'yaml' is not one of",
            id="value",
        ),
    ],
)
def test_click_messages_read_in_the_tool_style(
    arguments: list[str], start: str
) -> None:
    """Click's own usage errors are lower case, one line, with no full stop."""
    result = invoke(*arguments)

    assert result.exit_code == 2
    line = only_line(result.stderr)
    assert line.startswith(start)
    assert ". (see" not in line


def test_quiet_and_verbose_together_are_a_usage_error(
    emulator: RunningEmulator,
) -> None:
    """`-q -v` contradict each other: exit 2, nothing sent."""
    result = invoke("-q", "-v", "list")

    assert result.exit_code == 2
    assert "-q and -v" in only_line(result.stderr)
    assert emulator.state.request_log() == []


def test_an_empty_name_pattern_is_quoted_not_a_python_tuple(
    emulator: RunningEmulator,
) -> None:
    """An empty --name is named as '' in the error, nothing sent."""
    result = invoke("set", "10", "--name", "", "--dry-run")

    assert result.exit_code == 2
    line = only_line(result.stderr)
    assert line.startswith("error: empty or non-text name pattern in the selection: ''")
    assert "(''," not in line
    assert emulator.state.request_log() == []
