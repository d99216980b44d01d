"""The safe update procedure under faults the emulator injects over real HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

import action_timeouts.errors as errors_module
from action_timeouts.actions import ActionsApi, set_timeout
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.emulator.state import VIEW
from action_timeouts.errors import (
    EXIT_CODES,
    ActionRefusedError,
    ActionTimeoutsError,
    AmbiguousWriteError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InUseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnfinishedRunError,
    UsageError,
    VerificationError,
)
from action_timeouts.http import ApiClient

from .emulated import action_reads, logins, make_client, requests, web_action

ACTION_ID = "lookup-order"
ACTION_PATH = f"/api/v2/integrations/actions/{ACTION_ID}"


@pytest.fixture
def seeded(emu: RunningEmulator) -> dict[str, Any]:
    """Load one web-services action at 15 s and return it as stored."""
    emu.state.load_actions([web_action(ACTION_ID, timeoutSeconds=15)])
    return emu.state.stored_action(ACTION_ID)


@pytest.fixture
def client(emu: RunningEmulator) -> Iterator[ApiClient]:
    """Return a new real client of the emulator, so its logins and stats are its own."""
    with make_client(emu) as fresh:
        yield fresh


def stored(emu: RunningEmulator) -> dict[str, Any]:
    """Return the action as the emulator stores it."""
    return emu.state.stored_action(ACTION_ID)


def only_timeout_changed(
    before: dict[str, Any], after: dict[str, Any], seconds: int, bumps: int = 1
) -> bool:
    """Tell whether `after` is `before` with the timeout set and `bumps` versions on."""
    expected = {
        **before,
        "config": {**before["config"], "timeoutSeconds": seconds},
        "version": before["version"] + bumps,
    }
    return after == expected


def patch_statuses(emu: RunningEmulator) -> list[int | None]:
    """Return the status of every PATCH the emulator saw (None: no answer sent)."""
    return [entry["status"] for entry in requests(emu, "PATCH")]


# Tokens


def test_an_expired_token_between_operations_costs_one_login(
    emu: RunningEmulator, seeded: dict[str, Any], client: ApiClient
) -> None:
    """A token expired between two reads is renewed once and the change succeeds."""
    api = ActionsApi(client)
    api.get(ACTION_ID)
    emu.state.expire_tokens()

    result = set_timeout(api, ACTION_ID, 30)

    assert result.outcome == "changed"
    assert only_timeout_changed(seeded, stored(emu), 30)
    assert (client.auth.logins, logins(emu)) == (2, 2)
    assert sum(entry["status"] == 401 for entry in requests(emu)) == 1


def test_a_token_expiring_before_the_write_is_renewed_and_the_patch_resent(
    emu: RunningEmulator, seeded: dict[str, Any], client: ApiClient
) -> None:
    """A PATCH refused with 401 is sent again after one login, and applied once."""
    api = ActionsApi(client)

    set_timeout(api, ACTION_ID, 30, before_write=lambda *_: emu.state.expire_tokens())

    assert only_timeout_changed(seeded, stored(emu), 30)
    assert patch_statuses(emu) == [401, 200]
    assert client.auth.logins == 2


def test_a_short_token_lifetime_is_renewed_before_it_runs_out(
    emu: RunningEmulator, seeded: dict[str, Any], client: ApiClient
) -> None:
    """A token that lives 1 s is renewed ahead of expiry between read and write."""
    emu.state.set_options(token_lifetime=1)
    api = ActionsApi(client)

    set_timeout(api, ACTION_ID, 30, before_write=lambda *_: time.sleep(1.0))

    assert only_timeout_changed(seeded, stored(emu), 30)
    assert client.auth.logins == 2
    assert all(entry["status"] != 401 for entry in requests(emu))


# Rate limits and server errors


def test_a_429_waits_for_retry_after_and_succeeds(
    emu: RunningEmulator, seeded: dict[str, Any]
) -> None:
    """A 429 with Retry-After: 1 pauses at least 1 s before the retry, then succeeds."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    emu.state.inject_429(1, retry_after=1)
    with make_client(emu, sleep=sleep) as client:
        started = time.monotonic()
        set_timeout(ActionsApi(client), ACTION_ID, 30)
        elapsed = time.monotonic() - started

    assert only_timeout_changed(seeded, stored(emu), 30)
    assert elapsed >= 0.95
    assert waits[:1] == [pytest.approx(1.0, abs=0.05)]
    assert emu.state.early_retries() == []
    assert [entry["status"] for entry in requests(emu)][:2] == [429, 200]


def test_a_503_on_a_read_is_retried_until_it_succeeds(
    emu: RunningEmulator, seeded: dict[str, Any]
) -> None:
    """A read answered 503 is retried after a backoff and the change goes through."""
    emu.state.set_error_rate(1.0, 503, path_prefix=ACTION_PATH)
    waits: list[float] = []

    def recover(seconds: float) -> None:
        waits.append(seconds)
        emu.state.set_error_rate(0.0)

    with make_client(emu, sleep=recover) as client:
        set_timeout(ActionsApi(client), ACTION_ID, 30)
        retries = client.stats.retries

    assert only_timeout_changed(seeded, stored(emu), 30)
    first, second = requests(emu)[:2]
    assert (first["method"], first["status"]) == ("GET", 503)
    assert (second["path"], second["status"]) == (first["path"], 200)
    assert (retries, len(waits)) == (1, 1)


# Conflicts and lost answers


def test_a_concurrent_edit_is_kept_alongside_our_timeout(
    emu: RunningEmulator, seeded: dict[str, Any], api: ActionsApi
) -> None:
    """After a conflict the other editor's change survives and our timeout lands."""
    change = {"config": {"request": {"headers": {"X-Other-Editor": "yes"}}}}
    emu.state.concurrent_edit(ACTION_ID, change=change)

    result = set_timeout(api, ACTION_ID, 30)

    after = stored(emu)
    assert after["config"]["request"]["headers"]["X-Other-Editor"] == "yes"
    seeded["config"]["request"]["headers"]["X-Other-Editor"] = "yes"
    assert only_timeout_changed(seeded, after, 30, bumps=2)
    assert (result.outcome, result.conflicts) == ("changed", 1)
    assert patch_statuses(emu) == [409, 200]


def test_a_write_that_committed_without_an_answer_is_not_applied_twice(
    emu: RunningEmulator, seeded: dict[str, Any], api: ActionsApi
) -> None:
    """A PATCH whose answer was lost is re-read, found applied and not sent again."""
    emu.state.inject_commit_without_answer(1)

    result = set_timeout(api, ACTION_ID, 30)

    assert only_timeout_changed(seeded, stored(emu), 30, bumps=1)
    assert (result.outcome, result.version_after) == ("changed", 2)
    assert len(requests(emu, "PATCH")) == 1


def test_a_write_dropped_before_commit_is_sent_again(
    emu: RunningEmulator, seeded: dict[str, Any], api: ActionsApi
) -> None:
    """A PATCH dropped unanswered is re-read, found not applied, and sent once more."""
    emu.state.inject_drops(1, methods=["PATCH"])

    result = set_timeout(api, ACTION_ID, 30)

    assert only_timeout_changed(seeded, stored(emu), 30, bumps=1)
    assert (result.outcome, result.version_after) == ("changed", 2)
    assert patch_statuses(emu) == [None, 200]
    log = requests(emu)
    first_patch = next(i for i, e in enumerate(log) if e["method"] == "PATCH")
    assert action_reads(log[first_patch:], ACTION_ID)[0]["status"] == 200


def test_writes_that_keep_getting_dropped_give_up_unchanged(
    emu: RunningEmulator, seeded: dict[str, Any], api: ActionsApi
) -> None:
    """Every PATCH dropped: after a bounded number of resends it fails, unchanged."""
    emu.state.inject_drops(10, methods=["PATCH"])

    with pytest.raises(AmbiguousWriteError, match="unchanged"):
        set_timeout(api, ACTION_ID, 30)

    assert stored(emu) == seeded
    assert patch_statuses(emu) == [None] * 4


@pytest.mark.parametrize("status", [409, 400])
def test_too_many_conflicts_raise_conflict_error(
    emu: RunningEmulator, seeded: dict[str, Any], api: ActionsApi, status: int
) -> None:
    """An action that changes before every PATCH ends in ConflictError (exit 8)."""
    emu.state.set_options(conflict_status=status)
    emu.state.concurrent_edit(ACTION_ID, times=100)

    with pytest.raises(ConflictError, match=ACTION_ID) as caught:
        set_timeout(api, ACTION_ID, 30)

    assert caught.value.exit_code == 8
    assert stored(emu)["config"]["timeoutSeconds"] == 15
    assert set(patch_statuses(emu)) == {status}


# Permissions and unknown actions


def test_a_client_that_may_only_view_gets_permission_denied(
    emu: RunningEmulator, seeded: dict[str, Any]
) -> None:
    """Without the edit permission the PATCH fails naming it, and nothing changes."""
    emu.state.add_client("viewer", "viewer-secret", VIEW[:1])

    with (
        make_client(emu, credentials=("viewer", "viewer-secret")) as viewer,
        pytest.raises(PermissionDeniedError) as caught,
    ):
        set_timeout(ActionsApi(viewer), ACTION_ID, 30)

    assert "integrations:action:edit" in str(caught.value)
    assert (caught.value.status, caught.value.exit_code) == (403, 5)
    assert stored(emu) == seeded


def test_an_unknown_id_raises_not_found_naming_it(
    emu: RunningEmulator, seeded: dict[str, Any], api: ActionsApi
) -> None:
    """An id the org does not hold fails with NotFoundError naming it, unwritten."""
    with pytest.raises(NotFoundError) as caught:
        set_timeout(api, "no-such-action", 30)

    assert "no-such-action" in str(caught.value)
    assert caught.value.exit_code == 6
    assert requests(emu, "PATCH") == []


# Exit codes


def _documented_exit_codes() -> dict[str, int]:
    """Read the class -> exit code table of the errors module's docstring."""
    doc = errors_module.__doc__ or ""
    return {
        name: int(code) for name, code in re.findall(r"(\w+Error)\s+exit (\d+)", doc)
    }


DOCUMENTED = _documented_exit_codes()


def test_the_documented_table_names_every_error_class() -> None:
    """The errors module documents an exit code for each exception it exports."""
    exported = {
        name
        for name in errors_module.__all__
        if isinstance(getattr(errors_module, name), type)
    }
    assert set(DOCUMENTED) == exported


@pytest.mark.parametrize(("name", "code"), DOCUMENTED.items(), ids=DOCUMENTED.keys())
def test_each_error_class_has_its_documented_exit_code(name: str, code: int) -> None:
    """Each exception class carries the exit code its documentation promises."""
    error_class = getattr(errors_module, name)

    assert issubclass(error_class, ActionTimeoutsError)
    assert error_class.exit_code == code


# The exit code each EXIT_CODES name stands for, by the class that carries it.
NAMED_CLASSES: dict[str, type[ActionTimeoutsError]] = {
    "failure": ActionTimeoutsError,
    "usage": UsageError,
    "configuration": ConfigurationError,
    "authentication": AuthenticationError,
    "permission": PermissionDeniedError,
    "not-found": NotFoundError,
    "refused": ActionRefusedError,
    "conflict": ConflictError,
    "rate-limited": RateLimitedError,
    "transport": TransportError,
    "server": ServerError,
    "verification": VerificationError,
    "in-use": InUseError,
    "unfinished": UnfinishedRunError,
}
NOT_ERRORS = {"success": 0, "interrupted": 130}


def test_exit_codes_name_every_outcome() -> None:
    """EXIT_CODES names success, interruption and each error family, nothing else."""
    assert set(EXIT_CODES) == set(NAMED_CLASSES) | set(NOT_ERRORS)


@pytest.mark.parametrize(("key", "code"), EXIT_CODES.items(), ids=EXIT_CODES.keys())
def test_each_named_exit_code_is_its_class_code(key: str, code: int) -> None:
    """Each EXIT_CODES entry equals the exit code of the class it names."""
    expected = NOT_ERRORS[key] if key in NOT_ERRORS else NAMED_CLASSES[key].exit_code
    assert code == expected
