"""Bulk runs verify with one listing: templates by presence, none downloaded again."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from action_timeouts.actions import (
    ACTIONS_PATH,
    ActionKind,
    ActionsApi,
    action_kind,
    verify_listed,
)
from action_timeouts.bulk import Change, Runner
from action_timeouts.emulator.server import RunningEmulator, running_emulator
from action_timeouts.errors import VerificationError
from action_timeouts.http import ApiClient
from action_timeouts.regions import resolve_region

LINKS = "/api/v2/integrations/actions/a-1/templates"
BEFORE: dict[str, Any] = {
    "id": "a-1",
    "name": "Lookup",
    "version": 1,
    "config": {
        "request": {"requestUrlTemplate": "https://x.test", "requestTemplate": "{}"},
        "response": {"translationMap": {}},
    },
}
INTENDED: dict[str, Any] = {**copy.deepcopy(BEFORE["config"]), "timeoutSeconds": 9}


def listed_after(**request: Any) -> dict[str, Any]:
    """Return the action as the listing shows it after the change."""
    config = copy.deepcopy(INTENDED)
    del config["request"]["requestTemplate"]
    config["request"]["requestTemplateUri"] = f"{LINKS}/requesttemplate.vm"
    config["request"].update(request)
    return {**BEFORE, "version": 2, "config": config}


def test_a_listed_action_with_its_template_linked_passes() -> None:
    """Only the timeout moved and the template sent inline is linked: verified."""
    verify_listed(BEFORE, listed_after(), INTENDED)


def test_a_template_no_longer_stored_fails() -> None:
    """A template sent inline that the listing no longer links is reported."""
    after = listed_after()
    del after["config"]["request"]["requestTemplateUri"]

    with pytest.raises(VerificationError) as caught:
        verify_listed(BEFORE, after, INTENDED)

    assert caught.value.fields == ["config.request.requestTemplateUri"]


def test_another_moved_key_fails() -> None:
    """Any config key besides the timeout that moved is reported."""
    with pytest.raises(VerificationError) as caught:
        verify_listed(BEFORE, listed_after(requestType="POST"), INTENDED)

    assert caught.value.fields == ["config.request.requestType"]


def test_a_template_that_appeared_fails() -> None:
    """A template linked in the listing that the PATCH never sent is reported."""
    after = listed_after()
    after["config"]["response"]["successTemplateUri"] = f"{LINKS}/successtemplate.vm"

    with pytest.raises(VerificationError, match="successTemplateUri"):
        verify_listed(BEFORE, after, INTENDED)


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """Serve a generated org of 60 actions with no reachable rate limit."""
    with running_emulator(actions=60, seed=3, rate_limit=1_000_000) as running:
        yield running


def test_a_bulk_run_downloads_each_linked_template_once(
    emulator: RunningEmulator,
) -> None:
    """Verification is one listing: templates are fetched for the PATCHes only."""
    stored = emulator.state.stored_actions()
    ids = [
        str(action["id"])
        for action in stored
        if action_kind(action) is ActionKind.STANDARD
    ]
    endpoint = resolve_region(emulator.base_url)
    with ApiClient(endpoint, emulator.client_id, emulator.client_secret) as client:
        api = ActionsApi(client)
        listed = {str(item["id"]): item for item in api.list_all().actions}
        changes = [Change(action_id, 7, known=listed[action_id]) for action_id in ids]
        report = Runner(api, None, None, workers=4).run(changes)

    paths = [str(entry["path"]) for entry in emulator.state.request_log()]
    assert (sorted(report.changed), report.failed) == (sorted(ids), {})
    assert sum("/templates/" in path for path in paths) == stored_templates(stored, ids)
    assert paths.count(ACTIONS_PATH) == 2  # the plan's listing and the verification


def stored_templates(stored: list[dict[str, Any]], ids: list[str]) -> int:
    """Count the templates the chosen actions store (each one shows as a link)."""
    by_id = {str(action["id"]): action for action in stored}
    return sum(
        key in by_id[action_id]["config"].get(section, {})
        for action_id in ids
        for section, key in (
            ("request", "requestTemplate"),
            ("response", "successTemplate"),
        )
    )
