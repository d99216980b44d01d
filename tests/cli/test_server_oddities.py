"""What a server may hold or do beyond what the API promises, from the command line.

Timeouts stored as something other than whole seconds 1-60 (no PATCH can write one,
so they are loaded into the emulator directly) and a platform that merges config on
PATCH, where clearing a timeout cannot work, or one that drops a config key it does
not know, so a run's write lands but fails its verification.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import (
    ZENDESK,
    invoke,
    journal_states,
    last_run_id,
    patches,
    stored_timeouts,
    web_action,
)

pytestmark = pytest.mark.usefixtures("credentials")

ODD = "Odd Timeouts"
INVALID_STORED: dict[str, Any] = {
    "odd-text": "30",
    "odd-fraction": 5.0,
    "odd-true": True,
    "odd-zero": 0,
    "odd-ninety": 90,
}


@pytest.fixture
def odd_org(emulator: RunningEmulator) -> RunningEmulator:
    """Add actions in the ODD category: one per invalid stored value, one at 7 s."""
    documents = []
    for action_id, value in INVALID_STORED.items():
        document = web_action(action_id, action_id.title(), category=ODD)
        document["config"]["timeoutSeconds"] = value
        documents.append(document)
    documents.append(web_action("odd-fine", "Fine", category=ODD, timeout=7))
    emulator.state.load_actions(documents)
    return emulator


def reason(value: object) -> str:
    """The reason a plan gives for skipping an action holding this stored value."""
    return (
        "timeoutSeconds from the server is not a whole number 1-60 "
        f"({json.dumps(value)})"
    )


def test_list_shows_an_invalid_stored_timeout_as_it_is(
    odd_org: RunningEmulator,
) -> None:
    """`list` gives the stored value itself, never "unset"; a table marks it invalid."""
    table = invoke("list", "--category", ODD)
    as_json = invoke("list", "--category", ODD, "-o", "json")

    assert (table.exit_code, as_json.exit_code) == (0, 0), table.stderr
    rows = {row["id"]: row["timeout"] for row in json.loads(as_json.stdout)}
    assert rows == {**INVALID_STORED, "odd-fine": 7}
    for action_id, value in INVALID_STORED.items():
        (line,) = [
            line for line in table.stdout.splitlines() if f" {action_id} " in line
        ]
        assert f"invalid ({json.dumps(value)})" in line
        assert "unset" not in line


@pytest.mark.parametrize("action_id", INVALID_STORED)
def test_show_marks_an_invalid_stored_timeout(
    odd_org: RunningEmulator, action_id: str
) -> None:
    """`show` names the stored value and marks it invalid."""
    result = invoke("show", action_id)

    assert result.exit_code == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if " timeout " in line]
    assert f"invalid ({json.dumps(INVALID_STORED[action_id])})" in line


def test_a_bulk_run_skips_invalid_timeouts_and_undo_restores_the_rest(
    odd_org: RunningEmulator,
) -> None:
    """A bulk set skips each invalid stored timeout with its reason; undo puts back
    exactly what the run changed and leaves the invalid values alone."""
    before = stored_timeouts(odd_org)

    run = invoke("set", "20", "--category", ODD, "--yes", "-o", "json")

    assert run.exit_code == 0, run.stderr
    rows = {row["id"]: row for row in json.loads(run.stdout)["items"]}
    for action_id, value in INVALID_STORED.items():
        row = rows[action_id]
        assert (row["old"], row["outcome"], row["reason"]) == (
            value,
            "skipped",
            reason(value),
        )
    assert rows["odd-fine"]["outcome"] == "changed"
    assert stored_timeouts(odd_org) == {**before, "odd-fine": 20}
    patched = len(patches(odd_org.state.request_log()))

    undo = invoke("undo", last_run_id(), "--yes")

    assert undo.exit_code == 0, undo.stderr
    assert stored_timeouts(odd_org) == before
    assert len(patches(odd_org.state.request_log())) == patched + 1


def test_undo_keeps_an_invalid_timeout_someone_stored_since(
    emulator: RunningEmulator,
) -> None:
    """Undo of an action that someone gave an invalid timeout since the run refuses
    it, saying why, and leaves the value as it is."""
    run = invoke("set", "20", "order-lookup")
    assert run.exit_code == 0, run.stderr
    action = emulator.state.stored_action("order-lookup")
    action["config"]["timeoutSeconds"] = "20"
    emulator.state.load_actions([action])
    patched = len(patches(emulator.state.request_log()))

    undo = invoke("undo", last_run_id(), "--yes")

    assert undo.exit_code == 1, undo.stderr
    assert reason("20") in undo.stdout + undo.stderr
    assert stored_timeouts(emulator)["order-lookup"] == "20"
    assert len(patches(emulator.state.request_log())) == patched


def test_bulk_unset_under_a_merging_platform_stops_at_the_first_patch(
    emulator: RunningEmulator, journal_path: Any
) -> None:
    """`set --unset` over a category on a platform that merges config exits 12 after
    one PATCH, with the message the single-action form gives; the rest is pending."""
    emulator.state.set_options(patch_mode="merge")
    emulator.state.load_actions(
        [
            web_action(f"zen-{number}", f"Zen {number}", category=ZENDESK, timeout=9)
            for number in range(4)
        ]
    )
    before = stored_timeouts(emulator)
    single = invoke("set", "--unset", "weather-get")
    assert single.exit_code == 12, single.stderr
    single_message = single.stderr.strip().splitlines()[-1].removeprefix("error: ")
    start = len(emulator.state.request_log())

    result = invoke("set", "--unset", "--category", ZENDESK, "--yes")

    assert result.exit_code == 12, result.stderr
    assert len(patches(emulator.state.request_log()[start:])) == 1
    last = result.stderr.strip().splitlines()[-1]
    (failed,) = [line for line in result.stderr.splitlines() if "  failed " in line]
    action_id = failed.split()[1].rstrip(":")
    assert last.startswith(f"error: {single_message.replace('weather-get', action_id)}")
    assert stored_timeouts(emulator) == before
    run_id = last_run_id()
    assert journal_states(journal_path, run_id) == {"failed": 1, "planned": 5}


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(f'[[rule]]\ncategory = "{ODD}"\ntimeout = 7\n', id="rule"),
        pytest.param("default = 7\n", id="default"),
    ],
)
def test_check_counts_an_invalid_stored_timeout_as_drift(
    odd_org: RunningEmulator, tmp_path: Path, policy: str
) -> None:
    """`check` exits 2 when a rule or the default decides the timeout of an action
    holding an invalid one, and lists each such action with its reason."""
    path = tmp_path / "odd.toml"
    path.write_text(policy, encoding="utf-8")

    result = invoke("check", "-f", str(path), "-o", "json")

    assert result.exit_code == 2, result.stderr
    drifted = {item["id"]: item for item in json.loads(result.stdout)["items"]}
    for action_id, value in INVALID_STORED.items():
        assert drifted[action_id]["reason"] == reason(value)
    assert "odd-fine" not in drifted
    assert "with an invalid stored timeout" in result.stderr


def test_history_shows_an_invalid_stored_timeout_as_the_run_did(
    odd_org: RunningEmulator,
) -> None:
    """`history RUN` gives a skipped action's invalid stored timeout as the run
    printed it: the value itself in JSON, marked invalid in a table, never unset."""
    run = invoke("set", "20", "--category", ODD, "--yes")
    assert run.exit_code == 0, run.stderr
    run_id = last_run_id()

    as_json = invoke("history", run_id, "-o", "json")
    table = invoke("history", run_id)

    assert (as_json.exit_code, table.exit_code) == (0, 0), as_json.stderr
    rows = {row["id"]: row["old"] for row in json.loads(as_json.stdout)["items"]}
    assert rows == {**INVALID_STORED, "odd-fine": 7}
    for action_id, value in INVALID_STORED.items():
        (line,) = [
            line for line in table.stdout.splitlines() if f" {action_id} " in line
        ]
        assert f"invalid ({json.dumps(value)})" in line
        assert "unset" not in line


def test_a_stopped_run_counts_its_actions_not_attempted_and_says_how_to_resume(
    emulator: RunningEmulator,
) -> None:
    """The counts of a run stopped at its first clearing include the actions never
    attempted, so each action counts once, and a line says how to resume them."""
    emulator.state.set_options(patch_mode="merge")

    result = invoke("set", "--unset", "--all", "--yes")

    assert result.exit_code == 12, result.stderr
    run_id = last_run_id()
    lines = result.stderr.splitlines()
    assert (
        f"run {run_id}: found 8, selected 8, changed 0, unchanged 1, skipped 3, "
        "refused 0, failed 1, not attempted 3"
    ) in lines
    assert lines[-2] == (
        f"  3 not attempted: `action-timeouts resume {run_id}` finishes them"
    )
    assert lines[-1].startswith("error: action order-lookup kept its timeout")


@pytest.fixture
def dropped_key_run(emulator: RunningEmulator) -> str:
    """Run `set 20` over two actions on a server that drops an unknown config key:
    `odd-key`'s write lands without its key, so the run records it failed."""
    emulator.state.set_options(unknown_config_keys="drop")
    document = web_action("odd-key", "Odd Key", timeout=5)
    document["config"]["extraSetting"] = "kept"
    emulator.state.load_actions([document])
    result = invoke("set", "20", "--id", "odd-key", "--id", "order-lookup", "--yes")
    assert result.exit_code == 1, result.stderr
    assert "  failed odd-key: action odd-key differs after the change" in result.stderr
    return last_run_id()


def test_undo_lists_a_failed_action_whose_write_landed_as_not_undone(
    emulator: RunningEmulator, dropped_key_run: str
) -> None:
    """Undo puts back what the run changed and lists an action the run recorded
    failed, whose write landed, as not undone with what to do; it exits 1."""
    result = invoke("undo", dropped_key_run, "--yes")

    assert result.exit_code == 1, result.stderr
    assert (
        "  refused odd-key: not undone: the run recorded it failed: action odd-key "
        "differs after the change in: config.extraSetting"
    ) in result.stderr
    assert (
        "check it with `action-timeouts show odd-key` and set its timeout by hand"
        in (result.stderr)
    )
    assert stored_timeouts(emulator)["odd-key"] == 20
    assert stored_timeouts(emulator)["order-lookup"] == 5


def test_undo_puts_back_a_failed_action_left_exactly_as_the_run_meant(
    emulator: RunningEmulator, dropped_key_run: str
) -> None:
    """A failed action that is now exactly as the run meant to leave it (its key
    back, the run's timeout) is put back like any other."""
    emulator.state.set_options(unknown_config_keys="keep")
    document = web_action("odd-key", "Odd Key", timeout=20)
    document["config"]["extraSetting"] = "kept"
    emulator.state.load_actions([document])

    result = invoke("undo", dropped_key_run, "--yes")

    assert result.exit_code == 0, result.stderr
    assert stored_timeouts(emulator)["odd-key"] == 5
    assert emulator.state.stored_action("odd-key")["config"]["extraSetting"] == "kept"
