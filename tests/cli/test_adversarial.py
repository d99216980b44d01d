"""Adversarial command-line cases: odd names, odd answers, Ctrl-C under 429, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import (
    command_line,
    invoke,
    last_run_id,
    many_actions,
    patches,
    stored_timeouts,
    web_action,
)

MARKUP_NAME = "Broken [/] name [v2] [bold]x"


def history_items(run_id: str) -> dict[str, dict[str, Any]]:
    """Return a run's journal items by action id, read through `history -o json`."""
    result = invoke("history", run_id, "-o", "json")
    assert result.exit_code == 0, result.output
    return {item["id"]: item for item in json.loads(result.stdout)["items"]}


def run_status(run_id: str) -> str:
    """Return the journaled status of one run."""
    result = invoke("history", "-o", "json")
    runs = {run["id"]: run for run in json.loads(result.stdout)}
    return str(runs[run_id]["status"])


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
def test_resume_of_a_failed_run_keeps_it_failed(emulator: RunningEmulator) -> None:
    """Resuming a run with a failed action neither calls it finished nor exits 0."""
    emulator.state.concurrent_edit("ticket-create", times=9)
    first = invoke("set", "12", "--all", "--yes")
    run_id = last_run_id()

    resumed = invoke("resume", run_id)

    assert first.exit_code == 1, first.stderr
    assert resumed.exit_code == 1, resumed.stderr
    assert run_status(run_id) == "failed"
    assert history_items(run_id)["ticket-create"]["outcome"] == "failed"


@pytest.mark.usefixtures("credentials")
def test_resume_records_a_failed_write_that_landed(emulator: RunningEmulator) -> None:
    """A write reported failed because its re-read failed is found landed by resume."""
    action = web_action("no-templates", "No Templates", timeout=5)
    del action["config"]["request"]["requestTemplate"]
    del action["config"]["response"]["successTemplate"]
    emulator.state.reset()
    emulator.state.load_actions([action])
    emulator.state.inject_commit_without_answer(1)
    emulator.state.inject_raw_response(
        1,
        404,
        body=b'{"message": "gone for a moment", "code": "not.found", "status": 404}',
        content_type="application/json",
        methods=["GET"],
        path_prefix="/api/v2/integrations/actions/no-templates",
    )
    first = invoke("set", "12", "--id", "no-templates", "--yes")
    run_id = last_run_id()
    assert first.exit_code == 1, first.stderr
    assert stored_timeouts(emulator)["no-templates"] == 12
    assert history_items(run_id)["no-templates"]["outcome"] == "failed"

    resumed = invoke("resume", run_id)

    assert resumed.exit_code == 0, resumed.stderr
    assert history_items(run_id)["no-templates"]["outcome"] == "changed"
    assert run_status(run_id) == "finished"
    assert len(patches(emulator.state.request_log())) == 1


@pytest.mark.usefixtures("credentials")
def test_ctrl_c_during_a_rate_limit_pause_exits_at_once(
    emulator: RunningEmulator, journal_path: Path
) -> None:
    """Ctrl-C stops a bulk run with 130 at once, even while workers wait out a 429."""
    emulator.state.reset()
    emulator.state.load_actions(many_actions(40))
    emulator.state.set_extra_latency(30)
    process = subprocess.Popen(
        [*command_line(), "set", "21", "--all", "--yes"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while emulator.state.request_count("PATCH", "/api/v2") < 3:
            assert time.monotonic() < deadline, "the run never started writing"
            time.sleep(0.01)
        emulator.state.inject_429(100, retry_after="40")
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        emulator.state.clear_faults()

    assert process.returncode == 130, stderr
    assert took < 5
    assert b"resume" in stderr
    resumed = invoke("resume", last_run_id())
    assert resumed.exit_code == 0, resumed.stderr
    assert set(stored_timeouts(emulator).values()) == {21}


@pytest.mark.usefixtures("credentials")
def test_unset_under_a_merging_platform_says_why(emulator: RunningEmulator) -> None:
    """`set --unset` on a platform that merges config exits 12 and says it merged."""
    emulator.state.set_options(patch_mode="merge")

    result = invoke("set", "--unset", "order-lookup")

    assert result.exit_code == 12, result.stderr
    assert "merge" in result.stderr
    assert stored_timeouts(emulator)["order-lookup"] == 5
