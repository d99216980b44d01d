"""`resume` of a run that ended failed: it stays failed, or learns a write landed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import invoke, last_run_id, patches, stored_timeouts, web_action


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
