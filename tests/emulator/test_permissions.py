"""Permission checks with ANY semantics on every emulated endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .helpers import ACTIONS

VIEW = ["integrations:action:view", "bridge:actions:view"]
ADD = ["integrations:action:add"]
EDIT = ["integrations:action:edit"]
DELETE = ["integrations:action:delete"]
EXECUTE = ["integrations:action:execute", "bridge:actions:execute"]
EXECUTE_ONLY = ["integrations:action:execute"]
INTEGRATION_VIEW = ["integrations:integration:view"]
ONE = f"{ACTIONS}/lookup-order"
TEMPLATE = "requesttemplate.vm"

ENDPOINTS = [
    pytest.param(
        ("GET", "/api/v2/integrations", None, INTEGRATION_VIEW), id="integrations"
    ),
    pytest.param(("GET", ACTIONS, None, VIEW), id="list"),
    pytest.param(("POST", ACTIONS, {}, ADD), id="create"),
    pytest.param(("GET", f"{ACTIONS}/categories", None, VIEW), id="categories"),
    pytest.param(("GET", f"{ACTIONS}/drafts", None, VIEW), id="drafts"),
    pytest.param(("POST", f"{ACTIONS}/drafts", {}, ADD), id="create-draft-only"),
    pytest.param(("GET", ONE, None, VIEW), id="get"),
    pytest.param(("PATCH", ONE, {"version": 1}, EDIT), id="patch"),
    pytest.param(("DELETE", ONE, None, DELETE), id="delete"),
    pytest.param(("POST", f"{ONE}/execute", {}, EXECUTE), id="execute"),
    pytest.param(("POST", f"{ONE}/test", {}, EXECUTE), id="test"),
    pytest.param(("GET", f"{ONE}/templates/{TEMPLATE}", None, VIEW), id="template"),
    pytest.param(("GET", f"{ONE}/schemas/inputschema.json", None, VIEW), id="schema"),
    pytest.param(("GET", f"{ONE}/function", None, VIEW), id="function"),
    pytest.param(("GET", f"{ONE}/draft", None, VIEW), id="get-draft"),
    pytest.param(("POST", f"{ONE}/draft", None, EDIT), id="create-draft"),
    pytest.param(("PATCH", f"{ONE}/draft", {"version": 1}, EDIT), id="patch-draft"),
    pytest.param(("DELETE", f"{ONE}/draft", None, DELETE), id="delete-draft"),
    pytest.param(("POST", f"{ONE}/draft/publish", {}, EDIT), id="publish"),
    pytest.param(("GET", f"{ONE}/draft/validation", None, EDIT), id="validation"),
    pytest.param(("POST", f"{ONE}/draft/test", {}, EXECUTE_ONLY), id="draft-test"),
    pytest.param(("PUT", f"{ONE}/draft/function", {}, EDIT), id="draft-function"),
]


def call(
    http: httpx.Client, method: str, path: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    """Send one request with an optional JSON body."""
    return http.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_missing_permission_names_every_accepted_one(
    http: httpx.Client, make_client: Any, endpoint: tuple[str, str, Any, list[str]]
) -> None:
    """A client lacking the permissions gets 403 naming every accepted one."""
    method, path, body, needed = endpoint
    headers = make_client(("integrations:something:else",))

    response = call(http, method, path, body, headers)

    error = response.json()
    listed = ", ".join(needed)
    assert response.status_code == 403
    assert error["code"] == "missing.any.permissions"
    assert error["message"] == (
        "Unable to perform the requested action. You must have at least one of the "
        f"following permissions assigned: [{listed}]"
    )
    assert error["messageParams"] == {"permissions": listed}


@pytest.mark.parametrize(
    ("permission", "method", "path"),
    [
        pytest.param("bridge:actions:view", "GET", ONE, id="legacy-view"),
        pytest.param("integrations:action:view", "GET", ONE, id="view"),
        pytest.param(
            "bridge:actions:execute", "POST", f"{ONE}/execute", id="legacy-exec"
        ),
    ],
)
def test_any_one_listed_permission_is_enough(
    http: httpx.Client, make_client: Any, permission: str, method: str, path: str
) -> None:
    """Holding any one of an endpoint's permissions lets the call through."""
    headers = make_client((permission,))

    response = call(http, method, path, {} if method == "POST" else None, headers)

    assert response.status_code == 200


def test_draft_test_refuses_the_legacy_execute_permission(
    http: httpx.Client, make_client: Any
) -> None:
    """Testing a draft needs `integrations:action:execute`; the bridge one is not."""
    editor = make_client(("integrations:action:edit",))
    assert http.post(f"{ONE}/draft", headers=editor).status_code == 200
    legacy = make_client(("bridge:actions:execute",))

    response = http.post(f"{ONE}/draft/test", json={}, headers=legacy)

    assert response.status_code == 403


def test_view_only_client_cannot_patch(http: httpx.Client, make_client: Any) -> None:
    """Reading permissions do not allow edits."""
    headers = make_client(tuple(VIEW))

    response = http.patch(ONE, json={"version": 1}, headers=headers)

    assert response.status_code == 403
    assert "integrations:action:edit" in response.json()["message"]
