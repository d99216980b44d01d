"""Writes whose answer is lost or unreadable are settled by reading the action."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from action_timeouts.actions import (
    ACTIONS_PATH,
    AMBIGUOUS_RESENDS,
    ActionsApi,
    set_timeout,
)
from action_timeouts.bulk import Change, Runner
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.journal import Journal

from .emulated import RewrittenAnswers, make_client, requests, web_action

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


def empty_body(_request: httpx.Request, _answer: httpx.Response) -> httpx.Response:
    """A 200 with no body at all."""
    return httpx.Response(200, headers={"content-type": "application/json"})


def not_an_action(_request: httpx.Request, _answer: httpx.Response) -> httpx.Response:
    """A 200 whose JSON is a gateway's acknowledgement, not the action."""
    return httpx.Response(200, json={"status": "accepted"})


def no_content(_request: httpx.Request, _answer: httpx.Response) -> httpx.Response:
    """A 204 No Content."""
    return httpx.Response(204)


UNREADABLE = {"empty": empty_body, "not-an-action": not_an_action, "204": no_content}


@pytest.mark.parametrize("rewrite", UNREADABLE.values(), ids=UNREADABLE)
def test_a_committed_write_with_an_unreadable_answer_is_read_and_changed(
    emu: RunningEmulator, rewrite: Any
) -> None:
    """A PATCH that committed but was answered with something other than the action
    is settled by reading: the change is reported changed and verified, not failed,
    and it is not sent again."""
    emu.state.load_actions([web_action(ACTION_ID, timeoutSeconds=15)])
    before = emu.state.stored_action(ACTION_ID)
    transport = RewrittenAnswers("PATCH", f"/{ACTION_ID}", rewrite)

    with make_client(emu, transport=transport) as client:
        result = set_timeout(ActionsApi(client), ACTION_ID, 30)

    after = emu.state.stored_action(ACTION_ID)
    assert after["config"] == {**before["config"], "timeoutSeconds": 30}
    assert (result.outcome, result.version_after) == ("changed", after["version"])
    assert len(requests(emu, "PATCH")) == 1


def test_a_bulk_write_with_an_unreadable_answer_is_journaled_verified(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    """In a bulk run, a committed write answered with something other than the
    action is recorded changed and verified in the journal, as the org holds it."""
    emu.state.load_actions([web_action(ACTION_ID, timeoutSeconds=15)])
    transport = RewrittenAnswers("PATCH", f"/{ACTION_ID}", not_an_action)

    with (
        make_client(emu, transport=transport) as client,
        Journal.open(tmp_path / "journal.sqlite3") as journal,
    ):
        run_id = journal.start_run(
            command="set", org="emulator", client_id="c", selectors={}, requested={}
        )
        report = Runner(ActionsApi(client), journal, run_id).run(
            [Change(ACTION_ID, 30)]
        )
        states = [item.state for item in journal.run(run_id).items]

    assert (report.changed, report.failed) == ([ACTION_ID], {})
    assert states == ["verified"]
    assert emu.state.stored_action(ACTION_ID)["config"]["timeoutSeconds"] == 30


def test_a_stale_resend_after_a_write_that_landed_counts_as_changed(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """A write that landed unanswered, then read back stale (as a lagging replica
    would), is resent and refused as stale: the refusal is settled by reading, and
    the change is reported changed, not unchanged."""
    emu.state.load_actions([web_action(ACTION_ID, timeoutSeconds=15)])
    stale = api.get(ACTION_ID)
    emu.state.inject_commit_without_answer(1)

    def serve_the_next_read_stale(*_: object) -> None:
        emu.state.inject_raw_response(
            1,
            200,
            json.dumps(stale),
            content_type="application/json",
            methods=["GET"],
            path_prefix=f"{ACTIONS_PATH}/{ACTION_ID}",
        )

    result = set_timeout(
        api, ACTION_ID, 30, known=stale, before_write=serve_the_next_read_stale
    )

    after = emu.state.stored_action(ACTION_ID)
    assert [entry["status"] for entry in requests(emu, "PATCH")] == [None, 409]
    assert (after["config"]["timeoutSeconds"], after["version"]) == (30, 2)
    assert (result.outcome, result.version_after) == ("changed", 2)
