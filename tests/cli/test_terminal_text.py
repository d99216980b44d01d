"""Text from the org reaches people escaped: no control or bidi character is printed."""

from __future__ import annotations

import csv
import io
import json

import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import invoke, web_action

pytestmark = pytest.mark.usefixtures("credentials")

HOSTILE = "\u202eevil\x00name\x1b[31mRED\n2nd line\x7f\x9b"
ESCAPED = "\\u202eevil\\x00name\\x1b[31mRED\\n2nd line\\x7f\\x9b"
RAW = ("\x00", "\x1b", "\u202e", "\x7f", "\x9b", "\r")


@pytest.fixture
def hostile(emulator: RunningEmulator) -> str:
    """Store an action whose name holds control and bidi characters; return its id."""
    emulator.state.load_actions([web_action("hostile-1", HOSTILE, timeout=5)])
    return "hostile-1"


def assert_printable(text: str) -> None:
    """No control or bidi character, and no line but the ones the command wrote."""
    assert not any(character in text for character in RAW), repr(text)
    assert "2nd line" not in text.replace(ESCAPED, "")


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["show", "hostile-1"], id="show"),
        pytest.param(["list"], id="list"),
        pytest.param(["set", "20", "--all", "--dry-run"], id="plan"),
        pytest.param(["set", "20", "--all", "--yes"], id="run"),
    ],
)
def test_tables_escape_control_characters(hostile: str, arguments: list[str]) -> None:
    """A table shows a name's control and bidi characters as visible escapes."""
    result = invoke(*arguments)

    assert result.exit_code == 0, result.stderr
    assert ESCAPED in result.stdout
    assert_printable(result.stdout)


def test_status_lines_escape_control_characters(hostile: str) -> None:
    """The status line of a change names the action on one line, escaped."""
    result = invoke("set", "20", hostile)

    assert result.exit_code == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if hostile in line]
    assert ESCAPED in line
    assert_printable(result.stderr)


def test_json_keeps_the_exact_name(hostile: str) -> None:
    """JSON carries the name exactly as stored."""
    result = invoke("list", "-o", "json")

    assert result.exit_code == 0, result.stderr
    names = {row["id"]: row["name"] for row in json.loads(result.stdout)}
    assert names[hostile] == HOSTILE


def test_csv_keeps_the_exact_name_in_one_record(hostile: str) -> None:
    """CSV carries the name exactly, quoted, so its newline does not split the row."""
    result = invoke("list", "-o", "csv")

    assert result.exit_code == 0, result.stderr
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert rows[hostile]["name"] == HOSTILE
    assert rows[hostile]["timeout"] == "5"
