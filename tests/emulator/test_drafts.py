"""Drafts: creation, edits with the draft version, publishing, deletion, functions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import ACTIONS, http_action, switch

ONE = f"{ACTIONS}/lookup-order"
DRAFT = f"{ONE}/draft"


@pytest.fixture
def draft(http: httpx.Client, auth: dict[str, str]) -> dict[str, Any]:
    """Create a draft of the sample action and return it."""
    response = http.post(DRAFT, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_new_draft_is_a_copy_at_version_one(
    emu: RunningEmulator, draft: dict[str, Any]
) -> None:
    """A new draft copies the action, with draft version 1."""
    stored = emu.state.stored_draft("lookup-order")
    action = emu.state.stored_action("lookup-order")

    assert draft["version"] == 1
    assert {**stored, "version": action["version"]} == action


def test_draft_can_be_read(
    http: httpx.Client, auth: dict[str, str], draft: dict[str, Any]
) -> None:
    """GET of the draft returns it, with draft links."""
    response = http.get(DRAFT, params={"includeConfig": "true"}, headers=auth)

    body = response.json()
    assert response.status_code == 200
    assert body["selfUri"] == DRAFT
    assert body["config"]["request"]["requestTemplateUri"] == (
        f"{DRAFT}/templates/requesttemplate.vm"
    )


def test_draft_template_file(
    http: httpx.Client, auth: dict[str, str], draft: dict[str, Any]
) -> None:
    """A draft's template file returns the draft's text."""
    response = http.get(f"{DRAFT}/templates/successtemplate.vm", headers=auth)

    assert response.status_code == 200
    assert "keine Daten" in response.text


def test_draft_schema_file(
    http: httpx.Client, auth: dict[str, str], draft: dict[str, Any]
) -> None:
    """A draft's schema file returns the draft's schema."""
    response = http.get(f"{DRAFT}/schemas/inputschema.json", headers=auth)

    assert response.json() == {"type": "object"}


def test_no_draft_is_not_found(http: httpx.Client, auth: dict[str, str]) -> None:
    """Reading a draft that does not exist gives 404."""
    response = http.get(DRAFT, headers=auth)

    assert response.status_code == 404


def test_second_draft_is_refused(
    http: httpx.Client, auth: dict[str, str], draft: dict[str, Any]
) -> None:
    """An action has at most one draft."""
    response = http.post(DRAFT, headers=auth)

    assert response.status_code == 400


def test_static_actions_get_no_draft(http: httpx.Client, auth: dict[str, str]) -> None:
    """Built-in actions cannot be edited through drafts either."""
    response = http.post(f"{ACTIONS}/static_builtin-1/draft", headers=auth)

    assert response.status_code == 400


def test_custom_auth_actions_get_no_draft(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A draft of a custom-auth action, the way to change its contract, is refused."""
    path = f"{ACTIONS}/customAuth_-_integration-1/draft"

    response = http.post(path, headers=auth)

    assert response.status_code == 400
    assert "Custom authentication actions" in response.json()["message"]
    assert http.get(path, headers=auth).status_code == 404


def test_draft_patch_bumps_the_draft_version(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    draft: dict[str, Any],
) -> None:
    """A draft PATCH with the draft version applies and bumps the draft version only."""
    body = {"version": 1, "name": "Draft Name", "secure": True}

    response = http.patch(DRAFT, json=body, headers=auth)

    assert response.status_code == 200
    assert emu.state.stored_draft("lookup-order")["version"] == 2
    assert emu.state.stored_draft("lookup-order")["secure"] is True
    assert emu.state.stored_action("lookup-order")["version"] == 1


def test_draft_patch_refuses_fields_it_does_not_take(
    http: httpx.Client, auth: dict[str, str], draft: dict[str, Any]
) -> None:
    """A field UpdateDraftInput lacks is a 400 naming it and the fields it takes."""
    response = http.patch(
        DRAFT, json={"version": 1, "integrationId": "other"}, headers=auth
    )

    message = response.json()["message"]
    assert response.status_code == 400
    assert message.startswith("integrationId is not a field a draft PATCH takes")
    assert message.endswith("name, category, config, contract, secure, version")


@pytest.mark.parametrize(
    ("status", "message"),
    [
        pytest.param(409, "must match the version number in the database", id="409"),
        pytest.param(
            400, "Supplied version 5 does not match the current version 1", id="400"
        ),
    ],
)
@pytest.mark.usefixtures("draft")
def test_stale_draft_patch_conflicts(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    status: int,
    message: str,
) -> None:
    """A draft PATCH with a stale version conflicts like an action PATCH."""
    emu.state.set_options(conflict_status=status)

    response = http.patch(DRAFT, json={"version": 5}, headers=auth)

    assert response.status_code == status
    assert message in response.json()["message"]


def test_draft_timeout_is_validated(
    http: httpx.Client, auth: dict[str, str], draft: dict[str, Any]
) -> None:
    """A draft's timeout must also be an integer from 1 to 60."""
    body = {"version": 1, "config": {"timeoutSeconds": 90}}

    response = http.patch(DRAFT, json=body, headers=auth)

    assert response.status_code == 400


def test_publish_needs_the_exact_draft_version(
    http: httpx.Client, auth: dict[str, str], draft: dict[str, Any]
) -> None:
    """Publishing with another version gives 400 naming both versions."""
    response = http.post(f"{DRAFT}/publish", json={"version": 2}, headers=auth)

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Supplied version 2 does not match latest draft version 1"
    )


def test_publish_copies_the_draft_into_the_action(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    draft: dict[str, Any],
) -> None:
    """Publishing copies the draft into the action, bumps it, and drops the draft."""
    body = {"version": 1, "config": {"timeoutSeconds": 45}}
    http.patch(DRAFT, json=body, headers=auth)

    response = http.post(f"{DRAFT}/publish", json={"version": 2}, headers=auth)

    action = emu.state.stored_action("lookup-order")
    assert response.status_code == 200
    assert action["version"] == 2
    assert action["config"]["timeoutSeconds"] == 45
    assert http.get(DRAFT, headers=auth).status_code == 404


def test_publish_refuses_a_change_of_secure(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    draft: dict[str, Any],
) -> None:
    """A draft that flips `secure` of a published action cannot be published (400)."""
    http.patch(DRAFT, json={"version": 1, "secure": True}, headers=auth)
    before = emu.state.stored_action("lookup-order")

    response = http.post(f"{DRAFT}/publish", json={"version": 2}, headers=auth)

    assert response.status_code == 400
    assert response.json()["message"].startswith("secure cannot change")
    assert emu.state.stored_action("lookup-order") == before
    assert http.get(DRAFT, headers=auth).status_code == 200


NEW_CONTRACT = {
    "input": {"inputSchema": {"type": "object", "required": ["orderId"]}},
    "output": {"successSchema": {"type": "object"}},
}


def test_publish_may_change_the_contract_by_default(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    draft: dict[str, Any],
) -> None:
    """By default a published draft gives the action the draft's contract."""
    http.patch(DRAFT, json={"version": 1, "contract": NEW_CONTRACT}, headers=auth)

    response = http.post(f"{DRAFT}/publish", json={"version": 2}, headers=auth)

    assert response.status_code == 200
    assert emu.state.stored_action("lookup-order")["contract"] == NEW_CONTRACT


def test_publish_can_refuse_a_change_of_contract(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    draft: dict[str, Any],
) -> None:
    """With `publish_contract_change=reject` a changed contract is a 400 naming it."""
    switch(http, publish_contract_change="reject")
    http.patch(DRAFT, json={"version": 1, "contract": NEW_CONTRACT}, headers=auth)
    before = emu.state.stored_action("lookup-order")

    response = http.post(f"{DRAFT}/publish", json={"version": 2}, headers=auth)

    assert response.status_code == 400
    assert response.json()["message"].startswith("contract cannot change")
    assert emu.state.stored_action("lookup-order") == before


def test_version_step_applies_to_drafts_and_publishing(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    draft: dict[str, Any],
) -> None:
    """With `version_step=3` a draft PATCH and a publish each add 3."""
    switch(http, version_step=3)

    edited = http.patch(DRAFT, json={"version": 1, "name": "Draft"}, headers=auth)
    published = http.post(f"{DRAFT}/publish", json={"version": 4}, headers=auth)

    assert (edited.json()["version"], published.json()["version"]) == (4, 4)
    assert emu.state.stored_action("lookup-order")["version"] == 4


def test_draft_can_be_deleted(
    http: httpx.Client, auth: dict[str, str], draft: dict[str, Any]
) -> None:
    """DELETE of a draft answers 204 and removes it."""
    response = http.delete(DRAFT, headers=auth)

    assert response.status_code == 204
    assert http.get(DRAFT, headers=auth).status_code == 404


def test_draft_validation(
    http: httpx.Client, auth: dict[str, str], draft: dict[str, Any]
) -> None:
    """A copied draft validates."""
    response = http.get(f"{DRAFT}/validation", headers=auth)

    assert response.json() == {"valid": True, "errors": []}


def test_draft_only_action_is_published_at_version_one(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`POST /drafts` creates an unpublished action; publishing makes version 1."""
    body = http_action("ignored", "Brand New")
    del body["id"]
    created = http.post(f"{ACTIONS}/drafts", json=body, headers=auth).json()
    new_id = created["id"]
    assert http.get(f"{ACTIONS}/{new_id}", headers=auth).status_code == 404

    publish = f"{ACTIONS}/{new_id}/draft/publish"
    response = http.post(publish, json={"version": 1}, headers=auth)

    assert response.status_code == 200
    assert emu.state.stored_action(new_id)["version"] == 1


def test_draft_start_version_sets_where_a_draft_starts(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `draft_start_version=0` a new draft starts at 0, and edits count from it."""
    switch(http, draft_start_version=0)

    created = http.post(DRAFT, headers=auth)
    edited = http.patch(DRAFT, json={"version": 0, "name": "Draft"}, headers=auth)

    assert (created.json()["version"], edited.json()["version"]) == (0, 1)
    assert emu.state.stored_draft("lookup-order")["version"] == 1


def test_draft_only_action_starts_at_the_draft_start_version(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """`POST /drafts` makes its draft at `draft_start_version` too."""
    switch(http, draft_start_version=7)
    body = http_action("ignored", "Brand New")
    del body["id"]

    created = http.post(f"{ACTIONS}/drafts", json=body, headers=auth)

    assert created.json()["version"] == 7


@pytest.mark.parametrize(
    ("seconds", "status"),
    [
        pytest.param(10, 200, id="ten"),
        pytest.param(15, 200, id="fifteen"),
        pytest.param(16, 400, id="sixteen"),
        pytest.param(0, 400, id="zero"),
        pytest.param(30, 400, id="thirty"),
    ],
)
def test_function_timeout_is_1_to_15(
    http: httpx.Client, auth: dict[str, str], seconds: int, status: int
) -> None:
    """A draft's function timeout must be 1-15 seconds."""
    path = f"{ACTIONS}/function-1/draft"
    http.post(path, headers=auth)

    response = http.put(
        f"{path}/function", json={"timeoutSeconds": seconds}, headers=auth
    )

    assert response.status_code == status


def test_published_function_timeout_follows_the_draft(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Publishing a function draft publishes its function timeout."""
    path = f"{ACTIONS}/function-1/draft"
    http.post(path, headers=auth)
    http.put(f"{path}/function", json={"timeoutSeconds": 5}, headers=auth)

    http.post(f"{path}/publish", json={"version": 1}, headers=auth)

    assert emu.state.function_timeout("function-1") == 5


def test_delete_action(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """DELETE of an action answers 204 and removes it."""
    response = http.delete(ONE, headers=auth)

    assert response.status_code == 204
    assert http.get(ONE, headers=auth).status_code == 404


@pytest.mark.parametrize(
    "action_id",
    ["static_builtin-1", "customAuth_-_integration-1"],
    ids=["static", "custom-auth"],
)
def test_special_actions_cannot_be_deleted(
    http: httpx.Client, auth: dict[str, str], action_id: str
) -> None:
    """Built-in and custom-auth actions cannot be deleted."""
    response = http.delete(f"{ACTIONS}/{action_id}", headers=auth)

    assert response.status_code == 400


def test_create_action(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """POST creates a published action at version 1, templates stored inline."""
    body = http_action("ignored", "Brand New", timeoutSeconds=12)
    del body["id"]

    response = http.post(ACTIONS, json=body, headers=auth)

    created = response.json()
    stored = emu.state.stored_action(created["id"])
    assert response.status_code == 200
    assert created["version"] == 1
    assert stored["config"] == body["config"]


@pytest.mark.parametrize(
    "missing",
    ["name", "category", "integrationId", "contract", "config"],
)
def test_create_needs_the_required_fields(
    http: httpx.Client, auth: dict[str, str], missing: str
) -> None:
    """A create body without a required field gives 400."""
    body = http_action("ignored", "Brand New")
    del body["id"], body[missing]

    response = http.post(ACTIONS, json=body, headers=auth)

    assert response.status_code == 400


@pytest.mark.parametrize("key", ["name", "category"])
def test_create_refuses_blank_names(
    http: httpx.Client, auth: dict[str, str], key: str
) -> None:
    """A create body whose name or category is only whitespace gives 400."""
    body = {**http_action("ignored", "Brand New"), key: "   "}
    del body["id"]

    response = http.post(ACTIONS, json=body, headers=auth)

    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{key} must be")


def test_create_refuses_unknown_config_keys(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """A create body whose config has a key ActionConfig lacks gives 400 naming it."""
    body = http_action("ignored", "Brand New", timeout=12)
    del body["id"]

    response = http.post(ACTIONS, json=body, headers=auth)

    assert response.status_code == 400
    assert "config.timeout is not a field" in response.json()["message"]
