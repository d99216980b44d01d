"""The last of several unanswered writes is re-read before the update gives up."""

from __future__ import annotations

from typing import Any

from action_timeouts.actions import AMBIGUOUS_RESENDS, ActionsApi, set_timeout
from action_timeouts.emulator.server import RunningEmulator

from .emulated import requests, web_action

ACTION_ID = "lookup-order"


def test_a_last_resend_that_landed_unanswered_counts_as_changed(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """Writes dropped up to the resend limit, then one committed unanswered: changed."""
    emu.state.load_actions([web_action(ACTION_ID, timeoutSeconds=15)])
    before: dict[str, Any] = emu.state.stored_action(ACTION_ID)
    emu.state.inject_drops(AMBIGUOUS_RESENDS, methods=["PATCH"])
    emu.state.inject_commit_without_answer(1)

    result = set_timeout(api, ACTION_ID, 30)

    after = emu.state.stored_action(ACTION_ID)
    assert after["config"] == {**before["config"], "timeoutSeconds": 30}
    assert after["version"] == before["version"] + 1
    assert (result.outcome, result.version_after) == ("changed", after["version"])
    patch_clients = [entry["client_id"] for entry in requests(emu, "PATCH")]
    assert patch_clients == [None] * AMBIGUOUS_RESENDS + [emu.client_id]
