"""Policy as code: `plan`, `apply` and `check` a TOML file against the org."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import ZENDESK, invoke, patches, stored_timeouts, timeout_of

pytestmark = pytest.mark.usefixtures("credentials")

POLICY = f"""
# Zendesk calls are slow; lookups must answer fast.
[[rule]]
category = "{ZENDESK}"
timeout = 30

[[rule]]
name = "Lookup*"
timeout = 10
"""
DRIFTED = {"sms-send": 30, "order-lookup": 10, "customer-lookup": 10}


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    """Write the policy most tests use and return its path."""
    path = tmp_path / "timeouts.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def write_policy(tmp_path: Path, text: str) -> Path:
    """Write a policy file with `text` and return its path."""
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_plan_shows_each_change_and_sends_nothing(
    emulator: RunningEmulator, policy_file: Path
) -> None:
    """`plan -f` prints what the policy changes, rule by rule, and sends no PATCH."""
    result = invoke("plan", "-f", str(policy_file), "-o", "json")

    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    changes = {
        item["id"]: (item["new"], item["rule"])
        for item in plan["items"]
        if item["status"] == "change"
    }
    assert changes == {
        "sms-send": (30, "rule 1"),
        "order-lookup": (10, "rule 2"),
        "customer-lookup": (10, "rule 2"),
    }
    statuses = {item["id"]: item["status"] for item in plan["items"]}
    assert statuses["ticket-create"] == "unchanged"
    assert "weather-get" not in statuses
    assert patches(emulator.state.request_log()) == []


def test_plan_table_lists_the_rows(
    emulator: RunningEmulator, policy_file: Path
) -> None:
    """`plan -f` as a table has one row per action the policy covers."""
    result = invoke("plan", "-f", str(policy_file))

    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "sms-send" in line)
    assert "60 s" in row
    assert "30 s" in row
    assert "change" in row


def test_check_exits_2_and_lists_the_drift(
    emulator: RunningEmulator, policy_file: Path
) -> None:
    """`check -f` exits 2 when actions differ from the policy and lists them."""
    result = invoke("check", "-f", str(policy_file), "-o", "json")

    assert result.exit_code == 2
    document = json.loads(result.stdout)
    drift = {row["id"]: row for row in document["items"]}
    assert set(drift) == set(DRIFTED)
    assert document["counts"]["change"] == len(DRIFTED)
    assert drift["customer-lookup"]["old"] is None
    assert drift["customer-lookup"]["rule"] is not None
    assert "drift: 3 actions" in result.stderr
    assert patches(emulator.state.request_log()) == []


def test_check_exits_0_when_in_line(emulator: RunningEmulator, tmp_path: Path) -> None:
    """`check -f` exits 0 and prints no rows when the org matches the policy."""
    policy = write_policy(tmp_path, '[[rule]]\nids = ["weather-get"]\ntimeout = 20\n')

    result = invoke("check", "-f", str(policy))

    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "in line with" in result.stderr


def test_apply_changes_the_org_then_check_passes(
    emulator: RunningEmulator, policy_file: Path
) -> None:
    """`apply -f --yes` brings every drifted action in line; `check` then exits 0."""
    result = invoke("apply", "-f", str(policy_file), "--yes")

    assert result.exit_code == 0, result.stderr
    for action_id, seconds in DRIFTED.items():
        assert timeout_of(emulator.state.stored_action(action_id)) == seconds
    assert timeout_of(emulator.state.stored_action("weather-get")) == 20
    assert "changed 3" in result.stderr
    assert len(patches(emulator.state.request_log())) == 3
    assert invoke("check", "-f", str(policy_file)).exit_code == 0


def test_apply_is_journaled_and_undoable(
    emulator: RunningEmulator, policy_file: Path
) -> None:
    """An applied policy is a run in `history` that `undo` reverts."""
    before = stored_timeouts(emulator)
    invoke("apply", "-f", str(policy_file), "--yes")
    runs = json.loads(invoke("history", "-o", "json").stdout)
    assert runs[0]["command"] == "apply"

    result = invoke("undo", runs[0]["id"], "--yes")

    assert result.exit_code == 0, result.stderr
    assert stored_timeouts(emulator) == before


def test_apply_without_yes_or_terminal_refuses(
    emulator: RunningEmulator, policy_file: Path
) -> None:
    """`apply -f` with no terminal and no --yes exits 1 and changes nothing."""
    result = invoke("apply", "-f", str(policy_file))

    assert result.exit_code == 1
    assert patches(emulator.state.request_log()) == []


def test_apply_dry_run_detailed_exitcode(
    emulator: RunningEmulator, policy_file: Path
) -> None:
    """`apply --dry-run --detailed-exitcode` exits 2 while changes are pending."""
    result = invoke("apply", "-f", str(policy_file), "--dry-run", "--detailed-exitcode")

    assert result.exit_code == 2
    assert patches(emulator.state.request_log()) == []


def test_default_applies_to_actions_no_rule_selects(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """A top-level default gives every unselected standard action its timeout."""
    policy = write_policy(tmp_path, f'default = "unset"\n{POLICY}')

    result = invoke("plan", "-f", str(policy), "-o", "json")

    items = {item["id"]: item for item in json.loads(result.stdout)["items"]}
    assert items["weather-get"]["rule"] == "default"
    assert items["weather-get"]["new"] is None
    assert items["weather-get"]["status"] == "change"
    assert items["static_builtin-1"]["status"] == "skip"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[[rule]\ntimeout = 3\n", "invalid TOML", id="bad-toml"),
        pytest.param(
            '[[rule]]\nname = "x"\ntimout = 3\n', "unknown key 'timout'", id="rule-key"
        ),
        pytest.param("defaults = 30\n", "unknown top-level key", id="top-level-key"),
        pytest.param(
            '[[rule]]\nname = "x"\ntimeout = 61\n', "invalid timeout", id="61"
        ),
        pytest.param(
            '[[rule]]\nname = "x"\ntimeout = true\n',
            "rule 1: true is a boolean, not a timeout",
            id="boolean",
        ),
        pytest.param('[[rule]]\nname = "x"\n', "missing timeout", id="no-timeout"),
        pytest.param("", "no [[rule]]", id="empty"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "apply", "check"])
def test_policy_file_errors_exit_2_before_any_request(
    emulator: RunningEmulator, tmp_path: Path, command: str, text: str, message: str
) -> None:
    """A malformed policy exits 2 with the problem named and nothing sent."""
    policy = write_policy(tmp_path, text)
    extra = ["--yes"] if command == "apply" else []

    result = invoke(command, "-f", str(policy), *extra)

    assert result.exit_code == 2
    assert message in result.stderr
    assert str(policy) in result.stderr
    assert emulator.state.request_log() == []


def test_missing_policy_file_exits_2(emulator: RunningEmulator, tmp_path: Path) -> None:
    """A policy path that does not exist exits 2."""
    result = invoke("check", "-f", str(tmp_path / "absent.toml"))

    assert result.exit_code == 2
    assert emulator.state.request_log() == []


UNUSED_RULE = '[[rule]]\ncategory = "acme web services"\ntimeout = 30\n'


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["plan"], id="plan"),
        pytest.param(["apply", "--dry-run"], id="apply"),
        pytest.param(["check"], id="check"),
    ],
)
def test_rule_deciding_no_action_is_warned_about(
    emulator: RunningEmulator, tmp_path: Path, arguments: list[str]
) -> None:
    """plan, apply and check all warn about a rule that decides no action."""
    policy = write_policy(tmp_path, UNUSED_RULE)

    result = invoke(arguments[0], "-f", str(policy), *arguments[1:])

    assert result.exit_code == 0, result.stderr
    warning = next(line for line in result.stderr.splitlines() if "rule 1" in line)
    assert "decides no action" in warning
    assert "did you mean 'Acme Web Services'?" in warning


def test_check_strict_exits_2_for_a_rule_deciding_no_action(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """`check --strict` exits 2 when a rule decides no action, the org in line."""
    policy = write_policy(tmp_path, UNUSED_RULE)

    result = invoke("check", "-f", str(policy), "--strict")

    assert result.exit_code == 2
    assert "rule 1" in result.stderr.splitlines()[-1]
    assert patches(emulator.state.request_log()) == []


def test_check_strict_passes_when_every_rule_decides(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """`check --strict` exits 0 when the org is in line and every rule decides."""
    policy = write_policy(tmp_path, '[[rule]]\nids = ["weather-get"]\ntimeout = 20\n')

    result = invoke("check", "-f", str(policy), "--strict")

    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr


def test_rule_naming_only_missing_ids_decides_no_action(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """A rule whose only ids are not in the org is warned about as deciding none."""
    policy = write_policy(tmp_path, '[[rule]]\nids = ["gone"]\ntimeout = 20\n')

    result = invoke("check", "-f", str(policy), "--strict")

    assert result.exit_code == 2
    assert "none of the ids 'gone' is in the org" in result.stderr


def test_apply_summary_counts_an_unknown_id_as_not_found(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """A rule naming an id the org lacks is counted not found, never skipped."""
    text = '[[rule]]\nids = ["order-lookup", "no-such-action"]\ntimeout = 12\n'
    policy = write_policy(tmp_path, text)

    result = invoke("apply", "-f", str(policy), "--yes")

    assert "0 skipped, 1 not found" in result.stderr
    [summary] = [line for line in result.stderr.splitlines() if "run " in line]
    assert "changed 1" in summary
    assert "skipped 0" in summary
    assert "not found 1" in summary


def test_check_strict_names_one_unused_rule_in_the_singular(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """One rule deciding no action reads "decides no action; fix or remove it"."""
    policy = write_policy(tmp_path, UNUSED_RULE)

    result = invoke("check", "-f", str(policy), "--strict")

    assert "rule 1 of" in result.stderr
    assert result.stderr.splitlines()[-1].endswith(
        "decides no action; fix or remove it"
    )
