"""`set`: one action or a selection, validation, plans, dry runs and confirmation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pytest

from action_timeouts.cli.runs_command import set_command
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.errors import UsageError
from action_timeouts.plan import Selector, build_plan

from .helpers import (
    SKIPPED_IDS,
    STANDARD_IDS,
    ZENDESK,
    all_but_timeout,
    invoke,
    patches,
    stored_timeouts,
    timeout_of,
)

pytestmark = pytest.mark.usefixtures("credentials")

SKIP_REASONS = {
    "customAuth_-_int-acme": "custom auth action (timeout not supported)",
    "static_builtin-1": "built-in action (not updatable)",
    "function-1": "function action",
}


def plan_of(*args: str) -> dict[str, Any]:
    """Run `set ... --dry-run -o json` and return the plan it prints."""
    result = invoke("set", *args, "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    plan: dict[str, Any] = json.loads(result.stdout)
    return plan


def statuses(plan: dict[str, Any]) -> dict[str, str]:
    """Map each planned action id to its status."""
    return {item["id"]: item["status"] for item in plan["items"]}


def test_set_one_action_changes_and_verifies(emulator: RunningEmulator) -> None:
    """`set 10 ID` changes only that action's timeout and bumps its version once."""
    before = emulator.state.stored_action("order-lookup")

    result = invoke("set", "10", "order-lookup")

    assert result.exit_code == 0, result.stderr
    after = emulator.state.stored_action("order-lookup")
    assert timeout_of(after) == 10
    assert after["version"] == before["version"] + 1
    assert all_but_timeout(after) == all_but_timeout(before)
    assert "verified" in result.stderr
    assert len(patches(emulator.state.request_log())) == 1


def test_set_same_value_sends_no_patch(emulator: RunningEmulator) -> None:
    """Setting the timeout an action already has sends no PATCH."""
    result = invoke("set", "20", "weather-get")

    assert result.exit_code == 0, result.stderr
    assert "unchanged" in result.stderr
    assert patches(emulator.state.request_log()) == []


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["0", "order-lookup"], id="zero"),
        pytest.param(["61", "order-lookup"], id="sixty-one"),
        pytest.param(["--", "-1", "order-lookup"], id="minus-one"),
        pytest.param(["-1", "order-lookup"], id="minus-one-as-option"),
        pytest.param(["1.5", "order-lookup"], id="fraction"),
        pytest.param(["ten", "order-lookup"], id="word"),
        pytest.param(["", "order-lookup"], id="empty"),
        pytest.param(["0", "--all"], id="zero-for-a-selection"),
        pytest.param(["61", "--all", "--yes"], id="sixty-one-with-yes"),
    ],
)
def test_invalid_timeout_exits_2_and_sends_nothing(
    emulator: RunningEmulator, arguments: list[str]
) -> None:
    """An invalid timeout exits 2 before any request reaches the org."""
    result = invoke("set", *arguments)

    assert result.exit_code == 2
    assert emulator.state.request_log() == []


def test_invalid_timeout_message_says_the_range(emulator: RunningEmulator) -> None:
    """The message for an invalid timeout names the value and the 1-60 range."""
    result = invoke("set", "61", "order-lookup")

    assert "invalid timeout '61'" in result.stderr
    assert "1 to 60" in result.stderr


@pytest.mark.parametrize(
    ("action_id", "reason"),
    [
        ("customAuth_-_int-acme", "custom auth"),
        ("static_builtin-1", "built-in"),
    ],
)
def test_refused_kinds_exit_7_and_send_nothing(
    emulator: RunningEmulator, action_id: str, reason: str
) -> None:
    """Custom-auth and built-in ids exit 7 with the reason, before any request."""
    result = invoke("set", "10", action_id)

    assert result.exit_code == 7
    assert reason in result.stderr
    assert emulator.state.request_log() == []


def test_unset_clears_the_timeout(emulator: RunningEmulator) -> None:
    """`set --unset ID` removes the explicit timeout (back to the default 60 s)."""
    result = invoke("set", "--unset", "ticket-create")

    assert result.exit_code == 0, result.stderr
    stored = emulator.state.stored_action("ticket-create")
    assert "timeoutSeconds" not in stored["config"]
    assert "unset (60 s)" in result.stderr


def test_unset_without_id_uses_genesys_action_id(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`set --unset` with no id clears the action named by GENESYS_ACTION_ID."""
    monkeypatch.setenv("GENESYS_ACTION_ID", "order-lookup")

    result = invoke("set", "--unset")

    assert result.exit_code == 0, result.stderr
    assert timeout_of(emulator.state.stored_action("order-lookup")) is None


def test_unknown_action_exits_6(emulator: RunningEmulator) -> None:
    """`set` of an id the org does not hold exits 6 naming it, with nothing changed."""
    result = invoke("set", "10", "no-such-action")

    assert result.exit_code == 6
    assert "no-such-action" in result.stderr
    assert patches(emulator.state.request_log()) == []


def test_no_action_and_no_selector_is_a_usage_error(emulator: RunningEmulator) -> None:
    """`set 10` naming no action exits 2 before sending any request."""
    result = invoke("set", "10")

    assert result.exit_code == 2
    assert "--all" in result.stderr
    assert emulator.state.request_log() == []


def set_options() -> set[str]:
    """Return every option name the `set` command accepts."""
    return {
        name
        for parameter in set_command.params
        if isinstance(parameter, click.Option)
        for name in (*parameter.opts, *parameter.secondary_opts)
    }


def test_the_selection_refusals_name_only_real_options(
    emulator: RunningEmulator,
) -> None:
    """Each option the "choose actions with ..." messages name (the library's and
    the command line's) is an option of `set`."""
    with pytest.raises(UsageError) as library:
        build_plan([], Selector(), 10)
    cli = invoke("set", "10")

    for message in (str(library.value), cli.stderr):
        named = set(re.findall(r"--[a-z][a-z-]*", message))
        assert {"--id", "--no-secure", "--unset", "--all"} <= named, message
        assert named - set_options() == set(), message


def test_id_and_selectors_together_are_refused(emulator: RunningEmulator) -> None:
    """An ACTION_ID together with selectors exits 2."""
    result = invoke("set", "10", "order-lookup", "--category", ZENDESK)

    assert result.exit_code == 2
    assert patches(emulator.state.request_log()) == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        pytest.param(
            ["20", "--id", "order-lookup", "--id", "weather-get"],
            {"order-lookup": "change", "weather-get": "unchanged"},
            id="ids",
        ),
        pytest.param(
            ["20", "--name", "LOOKUP*"],
            {"order-lookup": "change", "customer-lookup": "change"},
            id="name-glob",
        ),
        pytest.param(
            ["20", "--category", ZENDESK],
            {"ticket-create": "change", "sms-send": "change"},
            id="category",
        ),
        pytest.param(
            ["25", "--integration", "int-web"],
            {"weather-get": "change"},
            id="integration",
        ),
        pytest.param(["20", "--secure"], {"customer-lookup": "change"}, id="secure"),
        pytest.param(
            ["20", "--no-secure", "--category", ZENDESK],
            {"ticket-create": "change", "sms-send": "change"},
            id="no-secure",
        ),
        pytest.param(
            ["25", "--below", "25"],
            {
                "order-lookup": "change",
                "weather-get": "change",
                "static_builtin-1": "skip",
                "function-1": "skip",
            },
            id="below",
        ),
        pytest.param(
            ["25", "--unset"],
            {"customer-lookup": "change", "customAuth_-_int-acme": "skip"},
            id="only-unset",
        ),
        pytest.param(
            ["--unset", "--category", ZENDESK],
            {"ticket-create": "change", "sms-send": "change"},
            id="unset-a-selection",
        ),
        pytest.param(
            ["20", "--all"],
            {
                "order-lookup": "change",
                "customer-lookup": "change",
                "ticket-create": "change",
                "sms-send": "change",
                "weather-get": "unchanged",
                "customAuth_-_int-acme": "skip",
                "static_builtin-1": "skip",
                "function-1": "skip",
            },
            id="all",
        ),
    ],
)
def test_selectors_choose_the_planned_actions(
    emulator: RunningEmulator, arguments: list[str], expected: dict[str, str]
) -> None:
    """Each selector plans exactly the actions it describes."""
    assert statuses(plan_of(*arguments)) == expected


def test_ids_file_selects_the_listed_ids(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """`--ids-file` reads one id a line, ignoring comments and blank lines."""
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("# to raise\norder-lookup\n\nticket-create  # zendesk\n")

    plan = plan_of("40", "--ids-file", str(ids_file))

    assert statuses(plan) == {"order-lookup": "change", "ticket-create": "change"}


def test_bad_ids_file_is_a_usage_error(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """An ids file holding something that is not an id exits 2 naming the line."""
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("order-lookup\nnot an id!\n")

    result = invoke("set", "40", "--ids-file", str(ids_file), "--dry-run")

    assert result.exit_code == 2
    assert "line 2" in result.stderr


def test_plan_lists_skipped_actions_with_reasons(emulator: RunningEmulator) -> None:
    """The plan table gives every skipped action with the reason it is left alone."""
    result = invoke("set", "20", "--all", "--dry-run")

    assert result.exit_code == 0, result.stderr
    rows = {
        line.split()[0]: line for line in result.stdout.splitlines() if line.strip()
    }
    for action_id, reason in SKIP_REASONS.items():
        assert "skip" in rows[action_id]
        assert reason in rows[action_id]
    assert "unset (60 s)" in rows["customer-lookup"]
    assert "20 s" in rows["customer-lookup"]


def test_plan_json_has_counts_and_items(emulator: RunningEmulator) -> None:
    """`-o json` prints the plan with its counts, old and new values and reasons."""
    plan = plan_of("20", "--all")

    assert plan["requested"] == 20
    assert plan["found"] == plan["total"] == 8
    assert plan["counts"] == {
        "selected": 8,
        "change": 4,
        "unchanged": 1,
        "skip": 3,
        "not found": 0,
    }
    items = {item["id"]: item for item in plan["items"]}
    assert items["customer-lookup"]["old"] is None
    assert items["customer-lookup"]["new"] == 20
    assert items["order-lookup"]["old"] == 5
    assert items["function-1"]["reason"].startswith(SKIP_REASONS["function-1"])


def test_plan_marks_missing_ids_and_would_lower(emulator: RunningEmulator) -> None:
    """A requested id the org lacks is "not found"; --below never lowers a timeout."""
    result = invoke(
        "set", "3", "--below", "25", "--id", "order-lookup", "--id", "gone",
        "--dry-run", "-o", "json",
    )  # fmt: skip

    assert result.exit_code == 6
    items = {item["id"]: item for item in json.loads(result.stdout)["items"]}
    assert items["gone"]["status"] == "not found"
    assert items["gone"]["old"] is None
    assert items["order-lookup"]["status"] == "skip"
    assert items["order-lookup"]["reason"] == "would lower"


UNKNOWN = "00000000-0000-0000-0000-000000000000"


def test_unknown_id_in_a_selection_exits_6_naming_it(
    emulator: RunningEmulator,
) -> None:
    """`set 20 --id UNKNOWN --yes` exits 6, names the id and sends no PATCH."""
    result = invoke("set", "20", "--id", UNKNOWN, "--yes")

    assert result.exit_code == 6
    assert f"not in the org: {UNKNOWN}" in result.stderr
    assert "categories" not in result.stderr
    assert patches(emulator.state.request_log()) == []


def test_ids_file_with_an_unknown_id_changes_nothing(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """One unknown id in an ids file refuses the whole run: the known one stays."""
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(f"order-lookup\n{UNKNOWN}\n")
    before = stored_timeouts(emulator)

    result = invoke("set", "20", "--ids-file", str(ids_file), "--yes")

    assert result.exit_code == 6
    assert UNKNOWN in result.stderr.splitlines()[-1]
    assert "1 to change, 0 unchanged, 0 skipped, 1 not found" in result.stderr
    assert patches(emulator.state.request_log()) == []
    assert stored_timeouts(emulator) == before


def test_unknown_id_is_shown_as_not_found_not_as_a_timeout(
    emulator: RunningEmulator,
) -> None:
    """The plan table shows an unknown id as "not found", with no timeout."""
    result = invoke("set", "20", "--id", UNKNOWN, "--id", "order-lookup", "--dry-run")

    assert result.exit_code == 6
    row = next(line for line in result.stdout.splitlines() if UNKNOWN in line)
    assert "not found" in row
    assert " s" not in row.replace(UNKNOWN, "")


def test_dry_run_sends_no_patch(emulator: RunningEmulator) -> None:
    """`--dry-run` plans from a listing and sends no PATCH."""
    before = stored_timeouts(emulator)

    result = invoke("set", "20", "--all", "--dry-run")

    assert result.exit_code == 0, result.stderr
    assert patches(emulator.state.request_log()) == []
    assert stored_timeouts(emulator) == before


def test_dry_run_of_one_action_sends_no_patch(emulator: RunningEmulator) -> None:
    """`set 10 ID --dry-run` names the action and what would change; nothing sent."""
    result = invoke("set", "10", "order-lookup", "--dry-run")

    assert result.exit_code == 0, result.stderr
    assert "order-lookup (Lookup Order): 5 s -> 10 s: would change" in result.stderr
    assert "nothing sent" in result.stderr
    assert patches(emulator.state.request_log()) == []


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        pytest.param(["20", "--all", "--dry-run"], 2, id="selection-pending"),
        pytest.param(
            ["20", "--id", "weather-get", "--dry-run"], 0, id="selection-none"
        ),
        pytest.param(["25", "weather-get", "--dry-run"], 2, id="one-pending"),
        pytest.param(["20", "weather-get", "--dry-run"], 0, id="one-none"),
        pytest.param(["20", "--id", "weather-get", "--yes"], 0, id="applied-none"),
    ],
)
def test_detailed_exitcode(
    emulator: RunningEmulator, arguments: list[str], code: int
) -> None:
    """`--detailed-exitcode` exits 2 when changes are pending and 0 when none are."""
    result = invoke("set", *arguments, "--detailed-exitcode")

    assert result.exit_code == code, result.stderr
    assert patches(emulator.state.request_log()) == []


def test_without_terminal_or_yes_it_refuses(emulator: RunningEmulator) -> None:
    """A selection run with no terminal and no --yes exits 1 and changes nothing."""
    before = stored_timeouts(emulator)

    result = invoke("set", "20", "--all")

    assert result.exit_code == 1
    assert "use --yes to confirm without a terminal" in result.stderr
    assert patches(emulator.state.request_log()) == []
    assert stored_timeouts(emulator) == before


def test_yes_applies_and_prints_the_counts(emulator: RunningEmulator) -> None:
    """`--yes` applies the plan and ends with found/selected/changed/... counts."""
    result = invoke("set", "20", "--all", "--yes")

    assert result.exit_code == 0, result.stderr
    timeouts = stored_timeouts(emulator)
    assert all(timeouts[action_id] == 20 for action_id in STANDARD_IDS)
    assert timeouts["customAuth_-_int-acme"] is None
    assert timeouts["static_builtin-1"] == 10
    assert timeouts["function-1"] == 15
    assert (
        "found 8, selected 8, changed 4, unchanged 1, skipped 3, refused 0, failed 0"
        in result.stderr
    )
    patched = {
        entry["path"].rsplit("/", 1)[1]
        for entry in patches(emulator.state.request_log())
    }
    assert patched == {"order-lookup", "customer-lookup", "ticket-create", "sms-send"}
    assert not patched & set(SKIPPED_IDS)


def test_unset_selection_clears_timeouts(emulator: RunningEmulator) -> None:
    """`set --unset --category C --yes` removes the explicit timeouts of C."""
    result = invoke("set", "--unset", "--category", ZENDESK, "--yes")

    assert result.exit_code == 0, result.stderr
    timeouts = stored_timeouts(emulator)
    assert timeouts["ticket-create"] is None
    assert timeouts["sms-send"] is None
    assert timeouts["order-lookup"] == 5


def test_selection_leaves_other_fields_alone(emulator: RunningEmulator) -> None:
    """A bulk run changes nothing but the timeout and the version of each action."""
    before = {action["id"]: action for action in emulator.state.stored_actions()}

    result = invoke("set", "45", "--all", "--yes")

    assert result.exit_code == 0, result.stderr
    for action in emulator.state.stored_actions():
        old = before[action["id"]]
        if action["id"] in SKIPPED_IDS or timeout_of(old) == 45:
            assert action == old
            continue
        assert action["version"] == old["version"] + 1
        assert timeout_of(action) == 45
        assert all_but_timeout(action) == all_but_timeout(old)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        pytest.param(
            ["--category", "acme web services"],
            "did you mean 'Acme Web Services'?",
            id="category-case",
        ),
        pytest.param(
            ["--category", "Nowhere"], "`action-timeouts list`", id="category-unknown"
        ),
        pytest.param(
            ["--category", "Acme Web Services", "--below", "2"],
            "timeout below 2 s",
            id="below",
        ),
        pytest.param(
            ["--integration", "Acme REST"],
            "no action has integration 'Acme REST' (compared with each integration's "
            "id and name",
            id="integration",
        ),
        pytest.param(["--name", "lookup"], "'lookup*' takes names", id="name"),
        pytest.param(
            ["--category", "Web Services Data Actions", "--secure"],
            "is secure",
            id="secure",
        ),
    ],
)
def test_empty_selection_names_the_selector_that_emptied_it(
    emulator: RunningEmulator, arguments: list[str], says: str
) -> None:
    """The no-match warning explains the selector that left nothing, and only it."""
    result = invoke("set", "20", *arguments, "--dry-run")

    assert result.exit_code == 0, result.stderr
    warning = next(line for line in result.stderr.splitlines() if "warning" in line)
    assert says in warning
    if "below" in says or "integration" in says or "names" in says:
        assert "categories" not in warning


def test_id_before_seconds_says_seconds_come_first(emulator: RunningEmulator) -> None:
    """`set ID 10` exits 2 saying SECONDS comes first, with the command to type."""
    result = invoke("set", "order-lookup", "10")

    assert result.exit_code == 2
    assert "SECONDS comes first" in result.stderr
    assert "`action-timeouts set 10 order-lookup`" in result.stderr
    assert emulator.state.request_log() == []


@pytest.mark.usefixtures("credentials")
def test_action_read_without_config_is_never_written(
    emulator: RunningEmulator,
) -> None:
    """An action answered without its config is refused, never PATCHed bare."""
    bare = {
        "id": "no-config",
        "name": "No Config",
        "category": "Acme Web Services",
        "integrationId": "int-acme",
        "contract": {},
    }
    emulator.state.load_actions([bare])

    bulk = invoke("set", "9", "--all", "--yes")
    single = invoke("set", "9", "no-config")

    assert bulk.exit_code == 1, bulk.stderr
    assert single.exit_code == 11, single.stderr
    assert "no-config" in bulk.stderr
    assert "config" not in emulator.state.stored_action("no-config")
    assert not [
        entry
        for entry in patches(emulator.state.request_log())
        if entry["path"].endswith("/no-config")
    ]


@pytest.mark.usefixtures("credentials")
def test_unset_under_a_merging_platform_says_why(emulator: RunningEmulator) -> None:
    """`set --unset` on a platform that merges config exits 12 and says it merged."""
    emulator.state.set_options(patch_mode="merge")

    result = invoke("set", "--unset", "order-lookup")

    assert result.exit_code == 12, result.stderr
    assert "merge" in result.stderr
    assert stored_timeouts(emulator)["order-lookup"] == 5
