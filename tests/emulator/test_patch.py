"""PATCH of a published action: versions, replace or merge, validation, kinds."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import (
    ACTIONS,
    CONTROL,
    CRLF_TEMPLATE,
    NON_ASCII_TEMPLATE,
    http_action,
    send_back,
    switch,
)

ONE = f"{ACTIONS}/lookup-order"
CONFLICT_409 = (
    "The version number of the modified resource must match the version number in "
    "the database."
)


def full_body(emu: RunningEmulator, action_id: str, **changes: Any) -> dict[str, Any]:
    """Return the PATCH body a careful client sends: the stored action, changed."""
    stored = emu.state.stored_action(action_id)
    body = {key: stored[key] for key in ("name", "category", "version", "config")}
    body["config"] = copy.deepcopy(body["config"])
    body["config"].update(changes)
    return body


def patch(
    http: httpx.Client, auth: dict[str, str], body: Any, path: str = ONE
) -> httpx.Response:
    """Send a JSON PATCH."""
    return http.patch(path, json=body, headers=auth)


def test_full_patch_changes_only_the_timeout(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A read-modify-write PATCH changes the timeout and the version, nothing else."""
    before = emu.state.stored_action("lookup-order")

    response = patch(http, auth, full_body(emu, "lookup-order", timeoutSeconds=30))

    after = emu.state.stored_action("lookup-order")
    assert response.status_code == 200
    assert after["config"]["timeoutSeconds"] == 30
    assert after["version"] == before["version"] + 1
    after["config"]["timeoutSeconds"] = 15
    after["version"] = before["version"]
    assert after == before


def test_patch_answers_with_the_new_action(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """The answer is the updated action, config included, templates as links."""
    response = patch(http, auth, full_body(emu, "lookup-order", timeoutSeconds=30))

    action = response.json()
    assert action["version"] == 2
    assert action["config"]["timeoutSeconds"] == 30
    assert "requestTemplateUri" in action["config"]["request"]


def test_each_patch_adds_one_to_the_version(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Every successful PATCH bumps the version by one."""
    for expected in (2, 3, 4):
        patch(http, auth, full_body(emu, "lookup-order"))
        assert emu.state.stored_action("lookup-order")["version"] == expected


def test_version_step_sets_how_much_a_patch_adds(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `version_step=5` each successful PATCH adds 5 to the version."""
    switch(http, version_step=5)

    first = patch(http, auth, {"version": 1, "name": "New"})
    second = patch(http, auth, {"version": 6, "name": "Newer"})

    assert (first.json()["version"], second.json()["version"]) == (6, 11)
    assert http.get(ONE, headers=auth).json()["version"] == 11


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"name": "New"}, id="missing"),
        pytest.param({"version": "1"}, id="text"),
        pytest.param({"version": None}, id="null"),
    ],
)
def test_version_is_required(
    http: httpx.Client, auth: dict[str, str], body: dict[str, Any]
) -> None:
    """A PATCH without an integer `version` gives 400."""
    response = patch(http, auth, body)

    assert response.status_code == 400
    assert "version" in response.json()["message"]


def test_stale_version_is_a_409_conflict(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """A stale version gives 409 `invalid.update.wrong.version` by default."""
    response = patch(http, auth, {"version": 7, "name": "New"})

    error = response.json()
    assert response.status_code == 409
    assert error["code"] == "invalid.update.wrong.version"
    assert error["message"] == CONFLICT_409


def test_stale_version_can_be_a_400(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `conflict_status=400` a stale version gives 400 naming both versions."""
    emu.state.set_options(conflict_status=400)

    response = patch(http, auth, {"version": 7, "name": "New"})

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Supplied version 7 does not match the current version 1"
    )


def test_stale_version_can_be_a_408(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `conflict_status=408` a stale version gives 408 with the conflict body."""
    switch(http, conflict_status=408)

    response = patch(http, auth, {"version": 7, "name": "New"})

    error = response.json()
    assert (response.status_code, error["status"]) == (408, 408)
    assert (error["code"], error["message"]) == (
        "invalid.update.wrong.version",
        CONFLICT_409,
    )


def test_conflict_code_can_be_general_conflict(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `conflict_code=general.conflict` the 409 carries that code."""
    switch(http, conflict_code="general.conflict")

    response = patch(http, auth, {"version": 7, "name": "New"})

    assert response.status_code == 409
    assert response.json()["code"] == "general.conflict"


def test_conflict_changes_nothing(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A refused PATCH leaves the stored action as it was."""
    before = emu.state.stored_action("lookup-order")

    patch(http, auth, {"version": 7, "name": "New"})

    assert emu.state.stored_action("lookup-order") == before


def test_replace_mode_resets_missing_templates(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A timeout-only PATCH replaces the config; templates fall back to defaults."""
    response = patch(http, auth, {"version": 1, "config": {"timeoutSeconds": 30}})

    config = emu.state.stored_action("lookup-order")["config"]
    assert response.status_code == 200
    assert config == {
        "timeoutSeconds": 30,
        "request": {"requestTemplate": "${input.rawRequest}"},
        "response": {"successTemplate": "${rawResult}"},
    }


def test_replace_mode_invents_no_template_the_action_never_had(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """An action without stored templates keeps none after a replacing PATCH."""
    body = full_body(emu, "no-templates", timeoutSeconds=30)

    patch(http, auth, body, f"{ACTIONS}/no-templates")

    config = emu.state.stored_action("no-templates")["config"]
    assert "requestTemplate" not in config["request"]
    assert "successTemplate" not in config["response"]


def test_replace_mode_removes_an_omitted_timeout(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Leaving `timeoutSeconds` out of a replacing PATCH makes it unset (absent)."""
    body = full_body(emu, "lookup-order")
    del body["config"]["timeoutSeconds"]

    patch(http, auth, body)

    assert "timeoutSeconds" not in emu.state.stored_action("lookup-order")["config"]


def test_null_timeout_is_stored_as_unset(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`timeoutSeconds: null` is accepted and leaves the key absent."""
    patch(http, auth, full_body(emu, "lookup-order", timeoutSeconds=None))

    assert "timeoutSeconds" not in emu.state.stored_action("lookup-order")["config"]


def test_merge_mode_keeps_what_is_not_sent(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """In merge mode a timeout-only PATCH keeps the rest of the config."""
    emu.state.set_options(patch_mode="merge")
    before = emu.state.stored_action("lookup-order")["config"]

    patch(http, auth, {"version": 1, "config": {"timeoutSeconds": 30}})

    after = emu.state.stored_action("lookup-order")["config"]
    assert after == {**before, "timeoutSeconds": 30}


def test_merge_mode_removes_a_null_timeout(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """In merge mode `timeoutSeconds: null` removes the key."""
    emu.state.set_options(patch_mode="merge")

    patch(http, auth, {"version": 1, "config": {"timeoutSeconds": None}})

    assert "timeoutSeconds" not in emu.state.stored_action("lookup-order")["config"]


def test_template_links_in_the_body_are_ignored(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`*TemplateUri` keys sent back are dropped, never stored as template text."""
    body = full_body(emu, "lookup-order")
    request, response = body["config"]["request"], body["config"]["response"]
    request["requestTemplateUri"] = request.pop("requestTemplate")
    response["successTemplateUri"] = response.pop("successTemplate")

    patch(http, auth, body)

    config = emu.state.stored_action("lookup-order")["config"]
    assert config["request"]["requestTemplate"] == "${input.rawRequest}"
    assert config["response"]["successTemplate"] == "${rawResult}"
    assert "requestTemplateUri" not in config["request"]
    assert "successTemplateUri" not in config["response"]


# template key -> (config section, the default text a replacing PATCH falls back to)
TEMPLATE_DEFAULTS = {
    "requestTemplate": ("request", "${input.rawRequest}"),
    "successTemplate": ("response", "${rawResult}"),
}


@pytest.mark.parametrize("key", sorted(TEMPLATE_DEFAULTS))
def test_replace_mode_treats_a_null_template_as_left_out(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], key: str
) -> None:
    """A template sent as null falls back to the default text, as a left-out one."""
    section, default = TEMPLATE_DEFAULTS[key]
    body = full_body(emu, "lookup-order")
    body["config"][section][key] = None

    patch(http, auth, body)

    file = http.get(f"{ONE}/templates/{key.lower()}.vm", headers=auth)
    assert emu.state.stored_action("lookup-order")["config"][section][key] == default
    assert (file.status_code, file.text) == (200, default)


@pytest.mark.parametrize(
    "keys",
    [["requestTemplate"], ["successTemplate"], sorted(TEMPLATE_DEFAULTS)],
    ids=["request", "success", "both"],
)
def test_sending_back_a_read_of_null_templates_changes_only_the_timeout(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], keys: list[str]
) -> None:
    """A stored null template is no template: read without a link, kept by a PATCH.

    A careful client PATCHes back exactly what it read, timeout changed; the stored
    document then differs from before only in `timeoutSeconds` and `version`.
    """
    action = http_action("null-templates", "Null Templates", timeoutSeconds=10)
    for key in keys:
        action["config"][TEMPLATE_DEFAULTS[key][0]][key] = None
    assert http.post(f"{CONTROL}/actions", json=[action]).status_code == 200
    before = emu.state.stored_action("null-templates")

    response = send_back(http, "null-templates", auth, timeout=30)

    after = emu.state.stored_action("null-templates")
    assert response.status_code == 200, response.text
    assert (after["config"].pop("timeoutSeconds"), after.pop("version")) == (30, 2)
    del before["config"]["timeoutSeconds"], before["version"]
    assert after == before


NULL_PLACES = {
    "request": [("request",)],
    "response": [("response",)],
    "both": [("request",), ("response",)],
    "headers": [("request", "headers")],
    "maps": [("response", "translationMap"), ("response", "translationMapDefaults")],
}


def seed_with_nulls(
    http: httpx.Client, action_id: str, places: list[tuple[str, ...]]
) -> None:
    """Load an action whose config holds null at each place (a path in config)."""
    action = http_action(action_id, "Null Sections", timeoutSeconds=10)
    for *parents, key in places:
        container = action["config"]
        for parent in parents:
            container = container[parent]
        container[key] = None
    assert http.post(f"{CONTROL}/actions", json=[action]).status_code == 200


@pytest.mark.parametrize("places", NULL_PLACES.values(), ids=NULL_PLACES.keys())
def test_sending_back_a_read_of_null_sections_changes_only_the_timeout(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    places: list[tuple[str, ...]],
) -> None:
    """A config key stored as null and sent back as null stays stored as null."""
    seed_with_nulls(http, "null-sections", places)
    before = emu.state.stored_action("null-sections")

    response = send_back(http, "null-sections", auth, timeout=30)

    after = emu.state.stored_action("null-sections")
    assert response.status_code == 200, response.text
    assert (after["config"].pop("timeoutSeconds"), after.pop("version")) == (30, 2)
    del before["config"]["timeoutSeconds"], before["version"]
    assert after == before


@pytest.mark.parametrize("places", NULL_PLACES.values(), ids=NULL_PLACES.keys())
def test_replace_mode_keeps_a_stored_null_that_is_left_out(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    places: list[tuple[str, ...]],
) -> None:
    """A key stored as null and left out of the body stays null, as a null template."""
    seed_with_nulls(http, "null-sections", places)
    before = emu.state.stored_action("null-sections")
    body = full_body(emu, "null-sections")
    for *parents, key in places:
        container = body["config"]
        for parent in parents:
            container = container[parent]
        del container[key]

    response = patch(http, auth, body, f"{ACTIONS}/null-sections")

    after = emu.state.stored_action("null-sections")
    assert response.status_code == 200, response.text
    assert after.pop("version") == 2
    del before["version"]
    assert after == before


@pytest.mark.parametrize("value", [5, True, ["a"], {"text": "a"}])
@pytest.mark.parametrize("key", sorted(TEMPLATE_DEFAULTS))
def test_templates_that_are_not_text_are_bad_requests(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    key: str,
    value: object,
) -> None:
    """A template that is neither text nor null gives 400 naming it."""
    body = full_body(emu, "lookup-order")
    section = TEMPLATE_DEFAULTS[key][0]
    body["config"][section][key] = value

    response = patch(http, auth, body)

    assert response.status_code == 400
    assert f"config.{section}.{key} must be a string" in response.json()["message"]


def test_inline_templates_are_stored_exactly(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Templates sent inline are stored byte for byte (CRLF and non-ASCII kept)."""
    patch(http, auth, full_body(emu, "lookup-order", timeoutSeconds=20))

    config = emu.state.stored_action("lookup-order")["config"]
    assert config["request"]["requestTemplate"] == CRLF_TEMPLATE
    assert config["response"]["successTemplate"] == NON_ASCII_TEMPLATE


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(0, id="zero"),
        pytest.param(61, id="sixty-one"),
        pytest.param(-1, id="negative"),
        pytest.param(1.5, id="fraction"),
        pytest.param(10.0, id="float"),
        pytest.param("10", id="text"),
        pytest.param(True, id="boolean"),
    ],
)
def test_invalid_timeouts_are_bad_requests(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], value: object
) -> None:
    """`timeoutSeconds` must be an integer from 1 to 60; anything else gives 400."""
    response = patch(http, auth, full_body(emu, "lookup-order", timeoutSeconds=value))

    assert response.status_code == 400
    assert response.json()["code"] == "bad.request"
    assert emu.state.stored_action("lookup-order")["version"] == 1


@pytest.mark.parametrize("key", ["timeout", "executionTimeout"])
def test_unknown_config_key_is_refused(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], key: str
) -> None:
    """A config key ActionConfig lacks gives 400 naming it and the keys it takes."""
    response = patch(http, auth, full_body(emu, "lookup-order", **{key: 30}))

    message = response.json()["message"]
    assert (response.status_code, response.json()["code"]) == (400, "bad.request")
    assert f"config.{key} is not a field of ActionConfig" in message
    assert message.endswith("takes only timeoutSeconds, request, response")
    assert emu.state.stored_action("lookup-order")["version"] == 1


@pytest.mark.parametrize(
    ("section", "model"),
    [("request", "RequestConfig"), ("response", "ResponseConfig")],
)
def test_unknown_request_or_response_key_is_refused(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    section: str,
    model: str,
) -> None:
    """A key RequestConfig or ResponseConfig lacks gives 400 naming it."""
    body = full_body(emu, "lookup-order")
    body["config"][section]["timeoutSeconds"] = 30

    response = patch(http, auth, body)

    assert response.status_code == 400
    expected = f"config.{section}.timeoutSeconds is not a field of {model}"
    assert expected in response.json()["message"]


def test_unknown_config_keys_can_be_kept(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `unknown_config_keys=keep` unknown keys at all levels are stored as sent."""
    switch(http, unknown_config_keys="keep")
    body = full_body(emu, "lookup-order", executionTimeout=30000)
    body["config"]["request"]["proxy"] = {"host": "p.invalid"}
    body["config"]["response"]["note"] = None

    response = patch(http, auth, body)

    shown = http.get(ONE, params={"includeConfig": "true"}, headers=auth).json()
    assert response.status_code == 200
    for config in (emu.state.stored_action("lookup-order")["config"], shown["config"]):
        assert config["executionTimeout"] == 30000
        assert config["request"]["proxy"] == {"host": "p.invalid"}
        assert config["response"]["note"] is None


def test_unknown_config_keys_can_be_dropped(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `unknown_config_keys=drop` unknown keys are left out of what is stored."""
    switch(http, unknown_config_keys="drop")
    before = emu.state.stored_action("lookup-order")["config"]
    body = full_body(emu, "lookup-order", timeout=30)
    body["config"]["request"]["proxy"] = "p.invalid"

    response = patch(http, auth, body)

    assert response.status_code == 200
    assert emu.state.stored_action("lookup-order")["config"] == before


@pytest.mark.parametrize("value", [1, 60], ids=["one", "sixty"])
def test_range_ends_are_accepted(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], value: int
) -> None:
    """1 and 60 seconds are valid timeouts."""
    response = patch(http, auth, full_body(emu, "lookup-order", timeoutSeconds=value))

    assert response.status_code == 200


@pytest.mark.parametrize("value", [30, None], ids=["set", "null"])
def test_timeout_on_custom_auth_is_refused(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], value: object
) -> None:
    """`timeoutSeconds` on a custom-auth action gives 400, even null."""
    action_id = "customAuth_-_integration-1"
    body = full_body(emu, action_id, timeoutSeconds=value)

    response = patch(http, auth, body, f"{ACTIONS}/{action_id}")

    assert response.status_code == 400
    assert "custom authentication" in response.json()["message"]


def test_custom_auth_config_without_timeout_is_accepted(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A custom-auth action's config can be edited when no timeout is sent."""
    action_id = "customAuth_-_integration-1"

    response = patch(http, auth, full_body(emu, action_id), f"{ACTIONS}/{action_id}")

    assert response.status_code == 200


@pytest.mark.parametrize("key", ["name", "category"])
def test_custom_auth_name_and_category_cannot_change(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], key: str
) -> None:
    """Changing a custom-auth action's name or category is a 400 naming the field."""
    action_id = "customAuth_-_integration-1"
    body = {**full_body(emu, action_id), key: "Changed"}

    response = patch(http, auth, body, f"{ACTIONS}/{action_id}")

    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{key} of a custom authentication")
    assert emu.state.stored_action(action_id)["version"] == 1


@pytest.mark.parametrize("status", [400, 403], ids=["400", "403"])
def test_static_actions_cannot_be_patched(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], status: int
) -> None:
    """Any PATCH of a built-in action is refused with the configured status."""
    emu.state.set_options(static_patch_status=status)
    body = full_body(emu, "static_builtin-1", timeoutSeconds=30)

    response = patch(http, auth, body, f"{ACTIONS}/static_builtin-1")

    assert response.status_code == status
    assert emu.state.stored_action("static_builtin-1")["version"] == 1


def test_name_and_category_can_change(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`name` and `category` are patchable."""
    patch(http, auth, {"version": 1, "name": "Renamed", "category": "Other"})

    stored = emu.state.stored_action("lookup-order")
    assert (stored["name"], stored["category"]) == ("Renamed", "Other")


@pytest.mark.parametrize(
    "field",
    ["contract", "secure", "integrationId", "timeout", "timeoutSeconds", "x-unknown"],
)
def test_fields_a_patch_does_not_take_are_refused(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], field: str
) -> None:
    """A field UpdateActionInput lacks is a 400 naming it and the fields it takes."""
    response = patch(http, auth, {"version": 1, "name": "New", field: 30})

    message = response.json()["message"]
    assert (response.status_code, response.json()["code"]) == (400, "bad.request")
    assert message.startswith(f"{field} is not a field a PATCH takes")
    assert message.endswith("takes only name, category, config, version")
    assert emu.state.stored_action("lookup-order")["version"] == 1


def test_known_fields_sent_as_null_count_as_not_sent(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`name`, `category` and `config` sent as null leave them as they are."""
    before = emu.state.stored_action("lookup-order")
    body = {"version": 1, "name": None, "category": None, "config": None}

    response = patch(http, auth, body)

    after = emu.state.stored_action("lookup-order")
    assert response.status_code == 200
    assert {**after, "version": 1} == before


def test_fixed_fields_can_be_ignored(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `unknown_patch_fields=ignore` fixed fields are skipped, the rest applied."""
    switch(http, unknown_patch_fields="ignore")
    before = emu.state.stored_action("lookup-order")
    body = {"version": 1, "contract": {}, "secure": True, "integrationId": "other"}

    response = patch(http, auth, {**body, "name": "New"})

    after = emu.state.stored_action("lookup-order")
    assert (response.status_code, after["name"]) == (200, "New")
    for key in ("contract", "secure", "integrationId"):
        assert after[key] == before[key]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"name": ""}, id="empty-name"),
        pytest.param({"name": " \t "}, id="blank-name"),
        pytest.param({"category": ""}, id="empty-category"),
        pytest.param({"category": "   "}, id="blank-category"),
    ],
)
def test_blank_names_and_categories_are_refused(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], body: Any
) -> None:
    """A PATCH to an empty or whitespace-only name or category is a 400 naming it."""
    response = patch(http, auth, {"version": 1, **body})

    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{next(iter(body))} must be")
    assert emu.state.stored_action("lookup-order")["version"] == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"version": 1, "config": "text"}, id="config-text"),
        pytest.param({"version": 1, "config": {"request": []}}, id="request-list"),
        pytest.param({"version": 1, "name": 5}, id="name-number"),
        pytest.param({"version": 1, "name": "x" * 257}, id="name-too-long"),
        pytest.param([1, 2], id="body-list"),
    ],
)
def test_malformed_bodies_are_bad_requests(
    http: httpx.Client, auth: dict[str, str], body: Any
) -> None:
    """A body of the wrong shape gives 400."""
    response = patch(http, auth, body)

    assert response.status_code == 400


def test_patch_of_an_unknown_action_is_not_found(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """PATCH of an unknown id gives 404."""
    response = patch(http, auth, {"version": 1}, f"{ACTIONS}/no-such-action")

    assert response.status_code == 404


def test_concurrent_edit_makes_the_patch_stale(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A concurrent edit lands first: the PATCH conflicts and the edit is kept."""
    body = full_body(emu, "lookup-order", timeoutSeconds=30)
    emu.state.concurrent_edit("lookup-order", change={"name": "Edited Elsewhere"})

    response = patch(http, auth, body)

    stored = emu.state.stored_action("lookup-order")
    assert response.status_code == 409
    assert (stored["version"], stored["name"]) == (2, "Edited Elsewhere")
    assert stored["config"]["timeoutSeconds"] == 15


def test_concurrent_edit_grows_the_version_by_the_step(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Another editor's write adds `version_step` too, as every write does."""
    switch(http, version_step=10)
    emu.state.concurrent_edit("lookup-order")

    patch(http, auth, full_body(emu, "lookup-order", timeoutSeconds=30))

    assert emu.state.stored_action("lookup-order")["version"] == 11


def test_concurrent_edit_applies_as_many_times_as_asked(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `times=2` two PATCHes conflict, and the third, re-read, succeeds."""
    emu.state.concurrent_edit("lookup-order", times=2)
    statuses = []
    for _ in range(3):
        response = patch(http, auth, full_body(emu, "lookup-order", timeoutSeconds=30))
        statuses.append(response.status_code)

    assert statuses == [409, 409, 200]
    assert emu.state.stored_action("lookup-order")["version"] == 4


def test_a_wiping_patch_leaves_an_http_action_an_http_action(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """A PATCH that drops the request URL does not turn the action into a function."""
    patch(http, auth, {"version": 1, "config": {"timeoutSeconds": 30}})

    response = http.get(f"{ONE}/function", headers=auth)

    assert response.status_code == 404


def test_a_function_action_stays_a_function_action(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A PATCH that gives a function action a request URL leaves it a function."""
    function = emu.state.stored_action("function-1")
    del function["integrationType"]
    function["id"] = "unmarked-function"
    emu.state.load_actions([function])
    path = f"{ACTIONS}/unmarked-function"
    config = {
        "request": {"requestUrlTemplate": "https://x.invalid", "requestType": "GET"}
    }
    patch(http, auth, {"version": 1, "config": config}, path)

    response = http.get(f"{path}/function", headers=auth)

    assert (response.status_code, response.json()) == (200, {"timeoutSeconds": 15})
