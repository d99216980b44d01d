"""The official Genesys Python SDK, as an independent client, agrees with the emulator.

Every answer must deserialise into the SDK's models, carry no field those models
lack, and give back what was written.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from action_timeouts.emulator.server import RunningEmulator, running_emulator


@contextmanager
def empty_home() -> Iterator[None]:
    """Point HOME at an empty folder, so the SDK reads no developer config file."""
    previous = os.environ.get("HOME")
    with tempfile.TemporaryDirectory(prefix="sdk-home-") as home:
        os.environ["HOME"] = home
        try:
            yield
        finally:
            if previous is None:
                del os.environ["HOME"]
            else:
                os.environ["HOME"] = previous


# The SDK loads ~/.genesyscloudpython/config when imported; keep that file out.
with empty_home():
    import PureCloudPlatformClientV2 as PureCloud
    from PureCloudPlatformClientV2.rest import ApiException

pytestmark = pytest.mark.sdk

PRIMITIVES = {"str", "int", "float", "bool", "object", "date", "datetime", "long"}
REQUEST_FILE = "requesttemplate.vm"
SUCCESS_FILE = "successtemplate.vm"


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    """Serve a generated org of 40 actions for the whole module."""
    with running_emulator(actions=40, seed=11, rate_limit=100_000) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def integrations(emu: RunningEmulator) -> Any:
    """Return the SDK's IntegrationsApi, logged in to the emulator."""
    client = PureCloud.ApiClient(host=emu.base_url)
    client.get_client_credentials_token(emu.client_id, emu.client_secret)
    return PureCloud.IntegrationsApi(client)


def last_json(integrations: Any) -> Any:
    """Return the raw JSON of the SDK's last answer."""
    return json.loads(integrations.api_client.last_response.data)


def unknown_fields(data: Any, type_name: str, path: str = "$") -> list[str]:
    """Return the JSON paths of fields the SDK model of `type_name` does not define."""
    if type_name.startswith("list[") and isinstance(data, list):
        inner = type_name[5:-1]
        return [
            problem
            for index, item in enumerate(data)
            for problem in unknown_fields(item, inner, f"{path}[{index}]")
        ]
    if type_name.startswith("dict(") and isinstance(data, dict):
        inner = type_name[type_name.index(",") + 1 : -1].strip()
        return [
            problem
            for key, value in data.items()
            for problem in unknown_fields(value, inner, f"{path}.{key}")
        ]
    if type_name in PRIMITIVES or not isinstance(data, dict):
        return []
    model = getattr(PureCloud, type_name)()
    known = {
        model.attribute_map[name]: kind for name, kind in model.swagger_types.items()
    }
    problems = [f"{path}.{key}" for key in data if key not in known]
    for key, value in data.items():
        if key in known and value is not None:
            problems += unknown_fields(value, known[key], f"{path}.{key}")
    return problems


def section(action: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(action.get("config", {}).get(name) or {})


def standard_actions(emu: RunningEmulator) -> list[dict[str, Any]]:
    """Return stored HTTP actions that are neither custom-auth nor built-in."""
    return [
        action
        for action in emu.state.stored_actions()
        if not action["id"].startswith(("customAuth_-_", "static"))
        and "requestUrlTemplate" in section(action, "request")
    ]


def with_both_templates(emu: RunningEmulator) -> list[dict[str, Any]]:
    return [
        action
        for action in standard_actions(emu)
        if "requestTemplate" in section(action, "request")
        and "successTemplate" in section(action, "response")
    ]


def inline_templates(config: Any, read_template: Any) -> Any:
    """Return a copy of an SDK ActionConfig with template texts in place of links."""
    config = copy.deepcopy(config)
    if config.request is not None and config.request.request_template_uri:
        config.request.request_template = read_template(REQUEST_FILE)
        config.request.request_template_uri = None
    if config.response is not None and config.response.success_template_uri:
        config.response.success_template = read_template(SUCCESS_FILE)
        config.response.success_template_uri = None
    return config


def update_input(action: Any, config: Any) -> Any:
    """Return an UpdateActionInput that keeps name and category as read."""
    body = PureCloud.UpdateActionInput()
    body.name = action.name
    body.category = action.category
    body.version = action.version
    body.config = config
    return body


def without(document: dict[str, Any], *paths: tuple[str, ...]) -> dict[str, Any]:
    """Return a copy of a stored action without the given key paths."""
    trimmed = copy.deepcopy(document)
    for path in paths:
        container = trimmed
        for key in path[:-1]:
            container = container[key]
        container.pop(path[-1], None)
    return trimmed


# ------------------------------------------------------------------------ reads


def test_login_uses_the_emulator_address(
    emu: RunningEmulator, integrations: Any
) -> None:
    """The SDK derives the login URL from the API URL; for loopback it is the same."""
    client = integrations.api_client
    assert client.get_conf_url("login", emu.base_url) == emu.base_url
    assert client.access_token


def test_listing_pages_deserialise(emu: RunningEmulator, integrations: Any) -> None:
    """Paging through the listing gives every visible action, in SDK models only."""
    seen: list[str] = []
    number = 1
    while True:
        page = integrations.get_integrations_actions(
            include_config=True, page_size=15, page_number=number
        )
        assert unknown_fields(last_json(integrations), "ActionEntityListing") == []
        if not page.entities:
            break
        assert all(isinstance(action, PureCloud.Action) for action in page.entities)
        assert all(action.config is not None for action in page.entities)
        seen += [action.id for action in page.entities]
        number += 1

    visible = [
        action["id"]
        for action in emu.state.stored_actions()
        if not action["id"].startswith("customAuth_-_")
    ]
    assert sorted(seen) == sorted(visible)
    assert page.total == len(visible)


def test_auth_actions_are_listed_on_request(
    emu: RunningEmulator, integrations: Any
) -> None:
    """include_auth_actions adds the custom-auth actions to the listing."""
    page = integrations.get_integrations_actions(
        include_auth_actions="true", page_size=100
    )
    listed = {action.id for action in page.entities}
    assert listed == {action["id"] for action in emu.state.stored_actions()}


def test_every_action_reads_back_through_the_models(
    emu: RunningEmulator, integrations: Any
) -> None:
    """Each action deserialises with its fields, timeout and template links intact."""
    for stored in emu.state.stored_actions():
        action = integrations.get_integrations_action(
            stored["id"], expand="contract", include_config=True
        )
        assert unknown_fields(last_json(integrations), "Action") == [], stored["id"]
        assert (action.name, action.category) == (stored["name"], stored["category"])
        assert action.integration_id == stored["integrationId"]
        assert (action.version, action.secure) == (1, stored["secure"])
        assert action.config.timeout_seconds == stored["config"].get("timeoutSeconds")
        assert action.contract.input.input_schema is not None

        request, response = section(stored, "request"), section(stored, "response")
        assert action.config.request.request_type == request["requestType"]
        assert action.config.request.request_url_template == request.get(
            "requestUrlTemplate"
        )
        assert action.config.request.headers == request.get("headers")
        assert action.config.response.translation_map == response["translationMap"]
        assert action.config.request.request_template is None
        has_link = action.config.request.request_template_uri is not None
        assert has_link == ("requestTemplate" in request)
        has_link = action.config.response.success_template_uri is not None
        assert has_link == ("successTemplate" in response)


def test_templates_come_back_byte_for_byte(
    emu: RunningEmulator, integrations: Any
) -> None:
    """Both template files read through the SDK equal the stored texts exactly."""
    checked = 0
    for stored in emu.state.stored_actions():
        texts = {
            REQUEST_FILE: section(stored, "request").get("requestTemplate"),
            SUCCESS_FILE: section(stored, "response").get("successTemplate"),
        }
        for file_name, text in texts.items():
            if text is None:
                continue
            read = integrations.get_integrations_action_template(
                stored["id"], file_name
            )
            assert read == text, (stored["id"], file_name)
            checked += 1
    assert checked >= 20


def test_categories_deserialise(emu: RunningEmulator, integrations: Any) -> None:
    """The category listing deserialises and names every category once."""
    listing = integrations.get_integrations_actions_categories(page_size=100)
    assert all(isinstance(item, PureCloud.Category) for item in listing.entities)
    names = {category.name for category in listing.entities}
    assert names == {action["category"] for action in emu.state.stored_actions()}


def test_category_listing_has_only_model_fields(integrations: Any) -> None:
    """The category listing carries only fields of CategoryEntityListing."""
    integrations.get_integrations_actions_categories(page_size=100)
    assert unknown_fields(last_json(integrations), "CategoryEntityListing") == []


def test_integrations_list_deserialises(
    emu: RunningEmulator, integrations: Any
) -> None:
    """Paging through the integrations list gives every integration, each named as
    its actions' category, in SDK models only."""
    names: dict[str, str] = {}
    number = 1
    while True:
        page = integrations.get_integrations(page_size=3, page_number=number)
        assert unknown_fields(last_json(integrations), "IntegrationEntityListing") == []
        if not page.entities:
            break
        assert all(isinstance(item, PureCloud.Integration) for item in page.entities)
        names.update({item.id: item.name for item in page.entities})
        number += 1

    used = {(a["integrationId"], a["category"]) for a in emu.state.stored_actions()}
    assert used <= set(names.items())
    assert page.total == len(names) == 8


# ----------------------------------------------------------------------- writes


def test_timeout_patch_round_trips(emu: RunningEmulator, integrations: Any) -> None:
    """A PATCH built from SDK models changes only the timeout; unset removes it."""
    stored = with_both_templates(emu)[0]
    action_id = stored["id"]
    action = integrations.get_integrations_action(
        action_id, expand="contract", include_config=True
    )

    def read_template(name: str) -> str:
        text: str = integrations.get_integrations_action_template(action_id, name)
        return text

    config = inline_templates(action.config, read_template)
    config.timeout_seconds = 23
    patched = integrations.patch_integrations_action(
        action_id, update_input(action, config)
    )
    assert unknown_fields(last_json(integrations), "Action") == []
    assert (patched.version, patched.config.timeout_seconds) == (2, 23)
    again = integrations.get_integrations_action(action_id, include_config=True)
    assert again.config.timeout_seconds == 23
    after = emu.state.stored_action(action_id)
    assert after["config"]["timeoutSeconds"] == 23
    timeout = ("config", "timeoutSeconds")
    assert without(after, ("version",), timeout) == without(
        stored, ("version",), timeout
    )

    config.timeout_seconds = None
    unset = integrations.patch_integrations_action(
        action_id, update_input(again, config)
    )
    assert (unset.version, unset.config.timeout_seconds) == (3, None)
    assert "timeoutSeconds" not in emu.state.stored_action(action_id)["config"]


def test_draft_edit_and_publish(emu: RunningEmulator, integrations: Any) -> None:
    """Create, read, edit and publish a draft through the SDK's draft models."""
    stored = with_both_templates(emu)[1]
    action_id = stored["id"]
    created = integrations.post_integrations_action_draft(action_id)
    assert unknown_fields(last_json(integrations), "Action") == []
    draft = integrations.get_integrations_action_draft(
        action_id, expand="contract", include_config=True
    )
    assert (draft.id, draft.version) == (action_id, created.version)

    def read_template(name: str) -> str:
        text: str = integrations.get_integrations_action_draft_template(action_id, name)
        return text

    body = PureCloud.UpdateDraftInput()
    body.version = draft.version
    body.config = inline_templates(draft.config, read_template)
    body.config.timeout_seconds = 12
    edited = integrations.patch_integrations_action_draft(action_id, body)
    assert (edited.version, edited.config.timeout_seconds) == (draft.version + 1, 12)

    publish = PureCloud.PublishDraftInput()
    publish.version = edited.version
    published = integrations.post_integrations_action_draft_publish(action_id, publish)
    assert (published.version, published.config.timeout_seconds) == (2, 12)
    assert emu.state.stored_action(action_id)["config"]["timeoutSeconds"] == 12
    with pytest.raises(ApiException) as raised:
        integrations.get_integrations_action_draft(action_id)
    assert raised.value.status == 404


def test_test_execution_result_deserialises(
    emu: RunningEmulator, integrations: Any
) -> None:
    """A test run answers a TestExecutionResult the SDK reads in full."""
    stored = standard_actions(emu)[2]
    result = integrations.post_integrations_action_test(stored["id"], {"key": "value"})
    assert unknown_fields(last_json(integrations), "TestExecutionResult") == []
    assert isinstance(result, PureCloud.TestExecutionResult)
    assert result.success is True
    assert all(operation.success for operation in result.operations)


def test_test_execution_honours_the_timeout(
    emu: RunningEmulator, integrations: Any
) -> None:
    """An endpoint slower than the 3 s timeout makes the test run fail with 504."""
    stored = next(
        action
        for action in standard_actions(emu)
        if action["config"].get("timeoutSeconds") == 3
    )
    emu.state.set_action_behaviour(stored["id"], latency_ms=3_500)
    result = integrations.post_integrations_action_test(stored["id"], {})
    assert unknown_fields(last_json(integrations), "TestExecutionResult") == []
    assert result.success is False
    assert (result.error.status, result.error.code) == (504, "request.timeout")


# ----------------------------------------------------------------------- errors


def test_unknown_action_is_an_api_exception_404(integrations: Any) -> None:
    """A missing action raises the SDK's ApiException with status 404."""
    with pytest.raises(ApiException) as raised:
        integrations.get_integrations_action("no-such-action")
    body = json.loads(raised.value.body)
    assert raised.value.status == 404
    assert body["code"] == "not.found"
    assert body["contextId"] == raised.value.headers["inin-correlation-id"]


def test_stale_version_is_an_api_exception_409(
    emu: RunningEmulator, integrations: Any
) -> None:
    """A PATCH with a stale version raises ApiException 409 with the platform code."""
    stored = with_both_templates(emu)[2]
    action = integrations.get_integrations_action(stored["id"], include_config=True)
    body = update_input(action, PureCloud.ActionConfig())
    body.version = action.version + 5
    with pytest.raises(ApiException) as raised:
        integrations.patch_integrations_action(stored["id"], body)
    assert raised.value.status == 409
    assert json.loads(raised.value.body)["code"] == "invalid.update.wrong.version"
    assert emu.state.stored_action(stored["id"]) == stored
