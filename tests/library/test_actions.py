"""The safe update procedure, step by step, against the emulator over real HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from action_timeouts.actions import (
    ActionsApi,
    set_timeout,
    timeout_unchanged,
    version_unchanged,
)
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.emulator.state import EmulatorState
from action_timeouts.errors import (
    ActionRefusedError,
    ActionTimeoutsError,
    BadResponseError,
    ChangedSinceError,
    ConflictError,
    ServerError,
    UsageError,
    VerificationError,
)
from action_timeouts.http import ApiClient

from .emulated import (
    CRLF_TEMPLATE,
    VELOCITY_TEMPLATE,
    action_reads,
    function_action,
    requests,
    unexpected_changes,
    web_action,
)

ACTION_ID = "lookup-order"
ACTION_PATH = f"/api/v2/integrations/actions/{ACTION_ID}"


def seed(emu: RunningEmulator, document: dict[str, Any]) -> dict[str, Any]:
    """Load one action and return it as stored."""
    (action_id,) = emu.state.load_actions([document])
    return emu.state.stored_action(action_id)


def patches(emu: RunningEmulator) -> int:
    """Count the PATCH requests the emulator saw."""
    return len(requests(emu, "PATCH"))


# Nothing to do, dry runs and local validation


@pytest.mark.parametrize("seconds", [15, None], ids=["same-value", "already-unset"])
def test_setting_the_current_value_sends_no_patch(
    emu: RunningEmulator, api: ActionsApi, seconds: int | None
) -> None:
    """Asking for the timeout the action already has reads it and writes nothing."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=seconds))

    result = set_timeout(api, ACTION_ID, seconds)

    assert result.outcome == "unchanged"
    assert (result.version_before, result.version_after) == (1, 1)
    assert patches(emu) == 0
    assert emu.state.stored_action(ACTION_ID) == before


def test_a_null_timeout_counts_as_unset(emu: RunningEmulator, api: ActionsApi) -> None:
    """Unsetting a timeout stored as null is a no-op, since null already means unset."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=None))

    result = set_timeout(api, ACTION_ID, None)

    assert (result.old, result.outcome) == (None, "unchanged")
    assert patches(emu) == 0
    assert emu.state.stored_action(ACTION_ID) == before


@pytest.mark.parametrize(
    "sections",
    [["request"], ["response"], ["request", "response"]],
    ids=["request", "response", "both"],
)
def test_a_null_section_stays_null_when_the_timeout_is_set(
    emu: RunningEmulator, api: ActionsApi, sections: list[str]
) -> None:
    """A config section stored as null is sent back as read and stays null: the
    change verifies, and only the timeout and the version moved."""
    document = web_action(ACTION_ID, timeoutSeconds=15)
    for section in sections:
        document["config"][section] = None
    before = seed(emu, document)

    result = set_timeout(api, ACTION_ID, 30)

    after = emu.state.stored_action(ACTION_ID)
    assert (result.outcome, result.version_after) == ("changed", 2)
    assert after["config"] == {**before["config"], "timeoutSeconds": 30}
    assert {**after, "config": None, "version": 1} == {**before, "config": None}


def test_dry_run_sends_no_patch(emu: RunningEmulator, api: ActionsApi) -> None:
    """A dry run reports the planned change and leaves the action untouched."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=15))

    result = set_timeout(api, ACTION_ID, 30, dry_run=True)

    assert (result.old, result.new, result.outcome) == (15, 30, "planned")
    assert patches(emu) == 0
    assert emu.state.stored_action(ACTION_ID) == before


@pytest.mark.parametrize(
    "value",
    [0, 61, -1, 1.5, "ten", True, False, "", "1.5", 10**6, [10]],
    ids=repr,
)
def test_invalid_values_are_refused_before_any_request(
    emu: RunningEmulator, api: ActionsApi, value: Any
) -> None:
    """A timeout that is not a whole number of seconds from 1 to 60 sends nothing."""
    seed(emu, web_action(ACTION_ID, timeoutSeconds=15))

    with pytest.raises(UsageError, match="1 to 60"):
        set_timeout(api, ACTION_ID, value)

    assert emu.state.request_log() == []


@pytest.mark.parametrize("seconds", [1, 60, None], ids=["lowest", "highest", "unset"])
def test_the_whole_range_and_unset_are_accepted(
    emu: RunningEmulator, api: ActionsApi, seconds: int | None
) -> None:
    """1 s, 60 s and unset (None) are valid requests that reach the action."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=15))

    set_timeout(api, ACTION_ID, seconds)

    after = emu.state.stored_action(ACTION_ID)
    assert after["config"].get("timeoutSeconds") == seconds
    assert unexpected_changes(before, after) == []


def test_a_timeout_given_as_text_is_stored_as_a_number(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """A timeout given as digits ("10", as typed) is sent as the integer 10."""
    seed(emu, web_action(ACTION_ID, timeoutSeconds=15))

    result = set_timeout(api, ACTION_ID, "10")  # type: ignore[arg-type]

    assert emu.state.stored_action(ACTION_ID)["config"]["timeoutSeconds"] == 10
    assert (result.new, result.outcome) == (10, "changed")


@pytest.mark.parametrize(
    "action_id", ["customAuth_-_integration-1", "static_lookup-1"], ids=str
)
def test_refused_kinds_send_no_request(
    emu: RunningEmulator, api: ActionsApi, action_id: str
) -> None:
    """Custom-auth and built-in actions are refused by id before anything is sent."""
    before = seed(emu, web_action(action_id))

    with pytest.raises(ActionRefusedError, match="cannot take a timeout"):
        set_timeout(api, action_id, 10)

    assert emu.state.request_log() == []
    assert emu.state.stored_action(action_id) == before


INVALID_STORED = {"text": "30", "fraction": 5.0, "true": True, "zero": 0, "ninety": 90}


@pytest.mark.parametrize("stored", INVALID_STORED.values(), ids=INVALID_STORED.keys())
@pytest.mark.parametrize("seconds", [10, 60, None], ids=["set", "set-60", "unset"])
def test_an_invalid_stored_timeout_is_refused_and_kept(
    emu: RunningEmulator, api: ActionsApi, stored: object, seconds: int | None
) -> None:
    """A stored timeout that is not whole seconds 1-60 is neither set nor unset: the
    change is refused as an answer the API does not promise, and nothing is sent."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=stored))

    with pytest.raises(BadResponseError) as caught:
        set_timeout(api, ACTION_ID, seconds)

    shown = json.dumps(stored)
    assert str(caught.value) == (
        f"action {ACTION_ID}: timeoutSeconds from the server is not a whole number "
        f"1-60 ({shown}); it was left as it is"
    )
    assert caught.value.exit_code == 11
    assert patches(emu) == 0
    assert emu.state.stored_action(ACTION_ID) == before


# What is sent


def test_the_patch_carries_templates_inline_and_nothing_else_new(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """The PATCH body is name, category, version and the config with only the timeout
    changed, its templates inline byte for byte and no template links."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=15))
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

    set_timeout(api, ACTION_ID, 30, before_write=lambda a, b: seen.append((a, b)))

    ((action, body),) = seen
    assert sorted(body) == ["category", "config", "name", "version"]
    assert (body["name"], body["version"]) == (before["name"], 1)
    expected = {**before["config"], "timeoutSeconds": 30}
    assert body["config"] == expected
    assert body["config"]["request"]["requestTemplate"] == CRLF_TEMPLATE
    assert body["config"]["response"]["successTemplate"] == VELOCITY_TEMPLATE
    assert action["config"] == before["config"]


def test_a_known_action_is_not_read_again_before_the_write(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """With `known`, the first read is skipped; only the read-back GETs the action."""
    seed(emu, web_action(ACTION_ID, timeoutSeconds=15))
    known = api.get(ACTION_ID)
    start = len(emu.state.request_log())

    set_timeout(api, ACTION_ID, 30, known=known)

    log = requests(emu, start=start)
    (read,) = action_reads(log, ACTION_ID)
    (patch,) = [entry for entry in log if entry["method"] == "PATCH"]
    assert log.index(patch) < log.index(read)


def test_without_read_back_the_intended_config_is_returned_unverified(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """With `read_back=False` nothing is read after the PATCH; the caller verifies."""
    seed(emu, web_action(ACTION_ID, timeoutSeconds=15))

    result = set_timeout(api, ACTION_ID, 30, read_back=False)

    log = requests(emu)
    assert log[-1]["method"] == "PATCH"
    assert result.intended is not None
    assert result.intended["timeoutSeconds"] == 30
    assert (result.version_before, result.version_after) == (1, 2)


# Function actions


def test_a_function_action_keeps_its_own_function_timeout(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """Only config.timeoutSeconds changes; the function's own timeout is untouched."""
    # The document's config.function is a key no config model defines.
    emu.state.set_options(unknown_config_keys="keep")
    before = seed(emu, function_action("function-1", timeoutSeconds=20))
    emu.state.set_function_timeout("function-1", 7)

    set_timeout(api, "function-1", 45)

    after = emu.state.stored_action("function-1")
    assert after["config"]["timeoutSeconds"] == 45
    assert unexpected_changes(before, after) == []
    assert emu.state.function_timeout("function-1") == 7
    assert not any(entry["path"].endswith("/function") for entry in requests(emu))


# Verification and unreadable templates


class EditedAfterOurWrite(ActionsApi):
    """Reads like ActionsApi, while another editor changes the action once our PATCH
    has landed and before it is read back (the emulator has no such fault)."""

    def __init__(
        self,
        client: ApiClient,
        state: EmulatorState,
        edit: Callable[[dict[str, Any]], None],
    ) -> None:
        super().__init__(client)
        self._state = state
        self._edit = edit
        self._done = False

    def get(self, action_id: str) -> dict[str, Any]:
        """Let the other editor act after the first PATCH, then read."""
        if not self._done and self._state.request_count("PATCH") > 0:
            action = self._state.stored_action(action_id)
            self._edit(action)
            action["version"] += 1
            self._state.load_actions([action])
            self._done = True
        return super().get(action_id)


EDITS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "request-template": (
        lambda a: a["config"]["request"].update(requestTemplate="{}"),
        "config.request.requestTemplate",
    ),
    "success-template-crlf": (
        lambda a: a["config"]["response"].update(
            successTemplate=VELOCITY_TEMPLATE.replace("\n", "\r\n")
        ),
        "config.response.successTemplate",
    ),
    "header": (
        lambda a: a["config"]["request"]["headers"].update({"X-Trace": "x"}),
        "config.request.headers.X-Trace",
    ),
    "name": (lambda a: a.update(name="Renamed"), "name"),
}


@pytest.mark.parametrize(("edit", "field"), EDITS.values(), ids=EDITS.keys())
def test_verification_names_a_field_changed_after_the_write(
    emu: RunningEmulator,
    session_client: ApiClient,
    edit: Callable[[dict[str, Any]], None],
    field: str,
) -> None:
    """A difference found on read-back raises VerificationError naming the field."""
    seed(emu, web_action(ACTION_ID, timeoutSeconds=15))
    api = EditedAfterOurWrite(session_client, emu.state, edit)

    with pytest.raises(VerificationError) as caught:
        set_timeout(api, ACTION_ID, 30)

    assert caught.value.fields == [field]
    assert field in str(caught.value)
    assert caught.value.action_id == ACTION_ID


def test_verification_catches_template_bytes_that_differ_on_read_back(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """Templates are compared byte for byte: CRLF read back as LF is a difference."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=15))

    def serve_other_bytes(*_: object) -> None:
        emu.state.inject_raw_response(
            1,
            200,
            CRLF_TEMPLATE.replace("\r\n", "\n"),
            content_type="text/plain; charset=utf-8",
            path_prefix=f"{ACTION_PATH}/templates/requesttemplate.vm",
        )

    with pytest.raises(VerificationError) as caught:
        set_timeout(api, ACTION_ID, 30, before_write=serve_other_bytes)

    assert caught.value.fields == ["config.request.requestTemplate"]
    assert unexpected_changes(before, emu.state.stored_action(ACTION_ID)) == []


def test_verification_catches_a_config_key_the_server_dropped(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """A config key the server drops from the PATCH it stores is reported lost."""
    seed(emu, web_action(ACTION_ID, timeoutSeconds=15, retryPolicy={"max": 3}))
    emu.state.set_options(unknown_config_keys="drop")

    with pytest.raises(VerificationError) as caught:
        set_timeout(api, ACTION_ID, 30)

    assert caught.value.fields == ["config.retryPolicy"]


def test_an_unreadable_linked_template_stops_before_any_patch(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """A template the action links but the API cannot serve stops the change unsent."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=15))
    missing = {"status": 404, "code": "not.found", "message": "No such template."}
    emu.state.inject_raw_response(
        1,
        404,
        json.dumps(missing),
        content_type="application/json",
        path_prefix=f"{ACTION_PATH}/templates/successtemplate.vm",
    )

    with pytest.raises(BadResponseError, match=r"successtemplate\.vm"):
        set_timeout(api, ACTION_ID, 30)

    assert patches(emu) == 0
    assert emu.state.stored_action(ACTION_ID) == before


def test_a_template_that_is_not_utf8_stops_before_any_patch(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """A template answered with bytes that are not UTF-8 stops the change unsent."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=15))
    emu.state.inject_raw_response(
        1,
        200,
        b"caf\xe9 \xff",
        content_type="text/plain; charset=utf-8",
        path_prefix=f"{ACTION_PATH}/templates/requesttemplate.vm",
    )

    with pytest.raises(BadResponseError, match="utf-8"):
        set_timeout(api, ACTION_ID, 30)

    assert patches(emu) == 0
    assert emu.state.stored_action(ACTION_ID) == before


def test_a_template_that_keeps_failing_stops_before_any_patch(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """A template download that fails on every retry stops the change unsent."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=15))
    template = f"{ACTION_PATH}/templates/requesttemplate.vm"
    emu.state.set_error_rate(1.0, 503, path_prefix=template)

    with pytest.raises(ServerError):
        set_timeout(api, ACTION_ID, 30)

    assert patches(emu) == 0
    assert emu.state.stored_action(ACTION_ID) == before


# Conflicts


def test_a_rejected_write_is_not_reported_as_a_change(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """When another editor set the same timeout first, our conflicting PATCH changed
    nothing, so the outcome is "unchanged" (undo must not revert their edit)."""
    seed(emu, web_action(ACTION_ID, timeoutSeconds=15))
    emu.state.concurrent_edit(ACTION_ID, change={"config": {"timeoutSeconds": 30}})

    result = set_timeout(api, ACTION_ID, 30)

    after = emu.state.stored_action(ACTION_ID)
    assert (after["config"]["timeoutSeconds"], after["version"]) == (30, 2)
    assert (result.outcome, result.conflicts) == ("unchanged", 1)
    assert patches(emu) == 1


def test_a_timeout_moved_by_someone_else_during_a_conflict_is_kept(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """A change guarded by the timeout it was planned on is refused, not re-applied,
    when a version conflict shows that someone else has moved the timeout since."""
    seed(emu, web_action(ACTION_ID, timeoutSeconds=5))
    emu.state.concurrent_edit(ACTION_ID, change={"config": {"timeoutSeconds": 45}})

    with pytest.raises(ChangedSinceError) as caught:
        set_timeout(api, ACTION_ID, 10, still_wanted=timeout_unchanged(5))

    assert caught.value.reason == (
        "changed by someone else since the plan (timeout now 45 s)"
    )
    assert caught.value.exit_code == 7
    after = emu.state.stored_action(ACTION_ID)
    assert (after["config"]["timeoutSeconds"], after["version"]) == (45, 2)
    assert patches(emu) == 1


def test_a_guard_is_asked_before_the_first_write(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """A change whose guard objects to the action as first read sends nothing."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=5))

    with pytest.raises(ChangedSinceError, match="version 1, expected 3"):
        set_timeout(api, ACTION_ID, 10, still_wanted=version_unchanged(3))

    assert patches(emu) == 0
    assert emu.state.stored_action(ACTION_ID) == before


def test_a_guard_never_refuses_an_action_already_at_the_value(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """An action already at the requested timeout is unchanged, whatever its guard
    says: there is nothing to write, so nothing to refuse."""
    seed(emu, web_action(ACTION_ID, timeoutSeconds=10))

    result = set_timeout(api, ACTION_ID, 10, still_wanted=version_unchanged(3))

    assert result.outcome == "unchanged"
    assert patches(emu) == 0


def test_errors_keep_their_documented_base(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """A failure of the procedure is an ActionTimeoutsError (the CLI's catch-all)."""
    with pytest.raises(ActionTimeoutsError):
        set_timeout(api, "no-such-action", 30)


# What is logged


def info_lines(caplog: pytest.LogCaptureFixture, start: str) -> list[str]:
    """Return the actions module's INFO messages that begin with `start`."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "action_timeouts.actions"
        and record.levelno == logging.INFO
        and record.getMessage().startswith(start)
    ]


def conflict_answers(emu: RunningEmulator) -> list[dict[str, Any]]:
    """Return the request log's PATCHes answered 409, oldest first."""
    return [entry for entry in requests(emu, "PATCH") if entry["status"] == 409]


def test_the_verified_event_names_the_old_and_new_timeout(
    emu: RunningEmulator, api: ActionsApi, caplog: pytest.LogCaptureFixture
) -> None:
    """An action read back as intended is logged in one line with its id, its old
    and new timeout and the versions before and after."""
    seed(emu, web_action(ACTION_ID, timeoutSeconds=5))
    caplog.set_level(logging.INFO, logger="action_timeouts")

    set_timeout(api, ACTION_ID, 10)

    assert info_lines(caplog, "verified") == [
        f"verified {ACTION_ID}: timeout 5 s -> 10 s, version 1 -> 2"
    ]
    assert emu.client_secret not in caplog.text


def test_a_conflict_event_names_its_status_and_correlation_id(
    emu: RunningEmulator, api: ActionsApi, caplog: pytest.LogCaptureFixture
) -> None:
    """A version conflict is logged in one line with the action id, the attempt,
    the status of the refusal and its correlation id."""
    seed(emu, web_action(ACTION_ID, timeoutSeconds=5))
    emu.state.concurrent_edit(ACTION_ID)
    caplog.set_level(logging.INFO, logger="action_timeouts")

    set_timeout(api, ACTION_ID, 10)

    (refused,) = conflict_answers(emu)
    assert info_lines(caplog, "version conflict") == [
        f"version conflict on {ACTION_ID} (attempt 1 of 5, status 409, correlation "
        f"id {refused['correlation_id']}); re-reading to re-apply only the timeout"
    ]
    assert refused["correlation_id"]
    assert emu.client_secret not in caplog.text


def test_giving_up_on_conflicts_names_the_last_correlation_id(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """The error after too many conflicts carries the last refusal's status and
    correlation id, so its one line can be traced on the server."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=5))
    emu.state.concurrent_edit(ACTION_ID, times=9)

    with pytest.raises(ConflictError) as caught:
        set_timeout(api, ACTION_ID, 10)

    last = conflict_answers(emu)[-1]
    assert (caught.value.status, caught.value.correlation_id) == (
        409,
        last["correlation_id"],
    )
    assert str(last["correlation_id"]) in str(caught.value)
    after = emu.state.stored_action(ACTION_ID)
    assert after["config"] == before["config"]
