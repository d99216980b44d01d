"""One output scheme: every format on stdout, the same field names, typed values."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import (
    ZENDESK,
    invoke,
    read_terminal,
    run_subprocess,
    web_action,
)

pytestmark = pytest.mark.usefixtures("credentials")

POLICY = f'[[rule]]\ncategory = "{ZENDESK}"\ntimeout = 30\n'
SHARED_FIELDS = {"id", "name", "category", "integration_id"}


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    """Write a policy that drifts from the small org and return its path."""
    path = tmp_path / "timeouts.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def run_command(arguments: list[str], policy_file: Path) -> Any:
    """Run a command line whose `POLICY` argument stands for the policy file."""
    return invoke(*[str(policy_file) if a == "POLICY" else a for a in arguments])


COMMANDS = [
    pytest.param(["show", "order-lookup"], id="show"),
    pytest.param(["list"], id="list"),
    pytest.param(["set", "20", "--all", "--dry-run"], id="bulk-dry-run"),
    pytest.param(["set", "20", "--all", "--yes"], id="bulk-run"),
    pytest.param(["set", "11", "order-lookup", "--dry-run"], id="one-dry-run"),
    pytest.param(["set", "12", "order-lookup"], id="one-run"),
    pytest.param(["plan", "-f", "POLICY"], id="plan"),
    pytest.param(["apply", "-f", "POLICY", "--yes"], id="apply"),
    pytest.param(["config", "show"], id="config-show"),
]


def parsed(output_format: str, text: str) -> list[Any]:
    """Parse stdout in the given format into a list of records."""
    if output_format == "json":
        value = json.loads(text)
        if isinstance(value, list):
            return value
        return value.get("items", [value])
    if output_format == "ndjson":
        return [json.loads(line) for line in text.splitlines()]
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("output_format", ["json", "ndjson", "csv"])
@pytest.mark.parametrize("arguments", COMMANDS)
def test_every_format_prints_records_on_stdout(
    emulator: RunningEmulator,
    policy_file: Path,
    arguments: list[str],
    output_format: str,
) -> None:
    """Each command that takes -o prints parseable records on stdout in each format."""
    result = run_command([*arguments, "-o", output_format], policy_file)

    assert result.exit_code == 0, result.stderr
    assert parsed(output_format, result.stdout)


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["set", "20", "--all", "--dry-run"], id="set-dry-run"),
        pytest.param(["plan", "-f", "POLICY"], id="plan"),
    ],
)
def test_ndjson_is_one_compact_object_per_line(
    emulator: RunningEmulator, policy_file: Path, arguments: list[str]
) -> None:
    """`-o ndjson` of a plan prints one JSON object per planned action, one a line."""
    result = run_command([*arguments, "-o", "ndjson"], policy_file)

    lines = result.stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert records
    assert all(isinstance(record, dict) and "status" in record for record in records)


def test_single_dry_run_json_prints_the_plan_on_stdout(
    emulator: RunningEmulator,
) -> None:
    """`set 11 ID --dry-run -o json` prints a plan of one action on stdout."""
    result = invoke("set", "11", "order-lookup", "--dry-run", "-o", "json")

    plan = json.loads(result.stdout)
    assert plan["requested"] == 11
    assert plan["counts"]["change"] == 1
    [item] = plan["items"]
    assert (item["id"], item["old"], item["new"], item["status"]) == (
        "order-lookup",
        5,
        11,
        "change",
    )


def test_single_run_csv_prints_the_outcome(emulator: RunningEmulator) -> None:
    """`set 12 ID -o csv` prints the action's outcome with numeric timeouts."""
    result = invoke("set", "12", "order-lookup", "-o", "csv")

    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert (row["id"], row["old"], row["new"], row["outcome"]) == (
        "order-lookup",
        "5",
        "12",
        "changed",
    )


@pytest.mark.parametrize("output_format", ["json", "ndjson", "csv"])
def test_bulk_run_prints_the_outcome_not_the_plan(
    emulator: RunningEmulator, output_format: str
) -> None:
    """A real bulk run prints each action's outcome in every machine format."""
    result = invoke("set", "20", "--all", "--yes", "-o", output_format)

    rows = {row["id"]: row for row in parsed(output_format, result.stdout)}
    assert rows["order-lookup"]["outcome"] == "changed"
    assert rows["weather-get"]["outcome"] == "unchanged"
    assert rows["function-1"]["outcome"] == "skipped"
    assert all("status" not in row for row in rows.values())


def test_dry_run_csv_writes_timeouts_as_numbers(emulator: RunningEmulator) -> None:
    """Plan CSV writes timeouts as numbers and an unset timeout as an empty cell."""
    result = invoke("set", "27", "--all", "--dry-run", "-o", "csv")

    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert (rows["order-lookup"]["old"], rows["order-lookup"]["new"]) == ("5", "27")
    assert rows["customer-lookup"]["old"] == ""


def test_csv_booleans_are_true_and_false(emulator: RunningEmulator) -> None:
    """`list -o csv` writes the secure flag as true/false."""
    result = invoke("list", "-o", "csv")

    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert rows["customer-lookup"]["secure"] == "true"
    assert rows["order-lookup"]["secure"] == "false"


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["list"], id="list"),
        pytest.param(["set", "20", "--all", "--dry-run"], id="plan"),
        pytest.param(["set", "20", "--all", "--yes"], id="outcome"),
    ],
)
def test_rows_share_the_field_names(
    emulator: RunningEmulator, arguments: list[str]
) -> None:
    """Lists, plans and outcomes name an action's fields the same way."""
    result = invoke(*arguments, "-o", "ndjson")

    first = json.loads(result.stdout.splitlines()[0])
    assert set(first) >= SHARED_FIELDS
    assert "action_id" not in first
    assert "integration" not in first


def test_undo_with_only_refusals_prints_them_as_refused(
    emulator: RunningEmulator,
) -> None:
    """An undo left nothing to change by refusals prints each as outcome "refused"."""
    assert invoke("set", "25", "ticket-create").exit_code == 0
    run_id = json.loads(invoke("history", "-o", "json").stdout)[0]["id"]
    action = emulator.state.stored_action("ticket-create")
    action["config"]["timeoutSeconds"] = 45
    action["version"] += 1
    emulator.state.load_actions([action])

    result = invoke("undo", run_id, "--yes", "-o", "json")

    assert result.exit_code == 1
    [row] = json.loads(result.stdout)["items"]
    assert (row["id"], row["outcome"]) == ("ticket-create", "refused")
    assert "changed by someone else" in row["reason"]


MARKUP_NAME = "Broken [/] name [v2] [bold]x"


@pytest.mark.usefixtures("credentials")
def test_names_with_markup_brackets_are_printed_literally(
    emulator: RunningEmulator,
) -> None:
    """An action name holding `[/]` or `[v2]` is shown as is, not read as markup."""
    emulator.state.load_actions([web_action("markup-1", MARKUP_NAME, timeout=3)])

    listed = invoke("list")
    planned = invoke("set", "9", "--all", "--dry-run")
    shown = invoke("show", "markup-1")

    assert listed.exit_code == 0, listed.stderr
    assert MARKUP_NAME in listed.stdout
    assert planned.exit_code == 0, planned.stderr
    assert MARKUP_NAME in planned.stdout
    assert shown.exit_code == 0, shown.stderr
    assert MARKUP_NAME in shown.stdout


# Messages and colour on stderr

ESCAPE = "\x1b["
WIDE = 200  # wide enough for every table to be drawn as a table
# Commands whose output is styled on a terminal: a table on stdout, bold headings.
STYLED = [
    pytest.param(["list"], id="list"),
    pytest.param(["set", "20", "--all", "--dry-run"], id="plan"),
    pytest.param(["demo", "--actions", "20"], id="demo"),
]


def process_environment(
    emulator: RunningEmulator, **changes: str | None
) -> dict[str, str]:
    """Return the environment of a real process of the command, pointed at the
    emulator, on a terminal that shows colour; a None value removes a variable."""
    variables = {
        **os.environ,
        "GENESYSCLOUD_OAUTHCLIENT_ID": emulator.client_id,
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": emulator.client_secret,
        "GENESYSCLOUD_REGION": emulator.base_url,
        "TERM": "xterm-256color",
    }
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        variables.pop(name, None)
    for name, value in changes.items():
        if value is None:
            variables.pop(name, None)
        else:
            variables[name] = value
    return variables


@pytest.mark.parametrize("arguments", STYLED)
def test_no_color_on_a_terminal_writes_no_escape_codes(
    emulator: RunningEmulator, arguments: list[str]
) -> None:
    """With NO_COLOR set, output to a real terminal has no colour and no bold."""
    env = process_environment(emulator, NO_COLOR="1")

    text = read_terminal(arguments, env, answer="n", columns=WIDE)

    assert "Lookup Order" in text or "[1]" in text, text
    assert ESCAPE not in text


@pytest.mark.parametrize("arguments", STYLED)
def test_a_terminal_without_no_color_gets_colour(
    emulator: RunningEmulator, arguments: list[str]
) -> None:
    """Without NO_COLOR, output to a real terminal is styled."""
    env = process_environment(emulator, NO_COLOR=None)

    text = read_terminal(arguments, env, answer="n", columns=WIDE)

    assert ESCAPE in text


@pytest.mark.parametrize("arguments", STYLED)
def test_a_pipe_gets_no_escape_codes(
    emulator: RunningEmulator, arguments: list[str]
) -> None:
    """Output into pipes is plain, NO_COLOR or not."""
    env = process_environment(emulator, NO_COLOR=None)

    completed = run_subprocess(arguments, env=env)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip()
    assert ESCAPE not in completed.stdout + completed.stderr


def test_verbose_adds_info_lines(emulator: RunningEmulator) -> None:
    """`-v` adds the library's INFO events, such as the verified change, to stderr."""
    plain = invoke("set", "10", "order-lookup")
    verbose = invoke("-v", "set", "11", "order-lookup")

    assert plain.exit_code == verbose.exit_code == 0, verbose.stderr
    assert not [line for line in plain.stderr.splitlines() if line.startswith("info:")]
    assert "info: verified order-lookup: timeout 10 s -> 11 s, version 2 -> 3" in (
        verbose.stderr.splitlines()
    )


def test_quiet_leaves_only_errors(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-q` drops warnings and messages: what is left on stderr is the error line."""
    monkeypatch.setenv("GENESYS_ENV_NAME", "eu-west-1")  # disagrees: a warning
    plain = invoke("set", "10", "no-such-action")

    quiet = invoke("-q", "set", "10", "no-such-action")

    assert plain.exit_code == quiet.exit_code == 6
    assert any(line.startswith("warning:") for line in plain.stderr.splitlines())
    [line] = quiet.stderr.splitlines()
    assert line.startswith("error: action no-such-action not found")


def test_a_plan_table_shows_the_new_timeout_of_an_unchanged_action(
    emulator: RunningEmulator,
) -> None:
    """An unchanged row shows its `new` timeout, as JSON has it."""
    result = invoke("set", "30", "--all", "--dry-run")

    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "ticket-create" in line)
    assert "unchanged" in row
    assert row.count("30 s") == 2


def test_a_server_error_says_to_try_again_later(emulator: RunningEmulator) -> None:
    """A 503 on a read ends in one line saying to try again, nothing changed."""
    emulator.state.set_error_rate(1.0, status=503)

    result = invoke("list")

    assert result.exit_code == 11
    [line] = result.stderr.splitlines()
    assert line.endswith("the server failed, try again later; nothing was changed")
