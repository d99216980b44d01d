"""The integrations list: paging, its envelope, its permission and the control plane."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import CONTROL

INTEGRATIONS = "/api/v2/integrations"
PERMISSION = "integrations:integration:view"


def many_integrations(emu: RunningEmulator, count: int) -> list[str]:
    """Register `count` integrations named "Integration 001" and so on."""
    records = [
        {"id": f"int-{i:03d}", "name": f"Integration {i:03d}"}
        for i in range(1, count + 1)
    ]
    return emu.state.load_integrations(records)


def listed(
    http: httpx.Client, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    """Return the JSON of a successful integrations listing."""
    response = http.get(INTEGRATIONS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(page: dict[str, Any]) -> list[str]:
    """Return the ids of a page's entities."""
    return [entity["id"] for entity in page["entities"]]


def test_default_page_has_25_integrations(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Without paging parameters the list returns page 1 of 25, counting them all."""
    many_integrations(emu, 30)

    page = listed(http, auth)

    assert ids(page) == [f"int-{i:03d}" for i in range(1, 26)]
    assert (page["pageSize"], page["pageNumber"]) == (25, 1)
    assert (page["total"], page["pageCount"]) == (30, 2)


def test_page_links(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A middle page links to the first, previous, next and last pages."""
    many_integrations(emu, 30)

    page = listed(http, auth, pageSize=10, pageNumber=2)

    base = f"{INTEGRATIONS}?pageSize=10&pageNumber="
    assert ids(page) == [f"int-{i:03d}" for i in range(11, 21)]
    assert page["firstUri"] == base + "1"
    assert page["previousUri"] == base + "1"
    assert page["selfUri"] == base + "2"
    assert page["nextUri"] == base + "3"
    assert page["lastUri"] == base + "3"


def test_last_page_has_no_next_link(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """The last page has no `nextUri`, and page 1 has no `previousUri`."""
    many_integrations(emu, 20)

    last = listed(http, auth, pageSize=10, pageNumber=2)
    first = listed(http, auth, pageSize=10, pageNumber=1)

    assert "nextUri" not in last
    assert "previousUri" not in first


def test_page_size_is_clamped_to_the_largest_served(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A pageSize over 100 is served as 100, and the clamped size is echoed."""
    many_integrations(emu, 120)

    page = listed(http, auth, pageSize=500)

    assert (len(page["entities"]), page["pageSize"], page["pageCount"]) == (100, 100, 2)


def test_page_past_the_end_is_empty(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A page after the last is a 200 with no entities."""
    many_integrations(emu, 3)

    page = listed(http, auth, pageNumber=5)

    assert page["entities"] == []
    assert page["total"] == 3


@pytest.mark.parametrize("value", ["0", "-1", "ten"])
def test_bad_paging_is_400(
    http: httpx.Client, auth: dict[str, str], value: str
) -> None:
    """A zero, negative or non-numeric page size is 400 `bad.request`."""
    response = http.get(INTEGRATIONS, params={"pageSize": value}, headers=auth)

    assert response.status_code == 400
    assert response.json()["code"] == "bad.request"


def test_without_total_the_list_has_no_total(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `include_total` off, the list has no total, pageCount or lastUri."""
    many_integrations(emu, 3)
    emu.state.set_options(include_total=False)

    page = listed(http, auth)

    assert not {"total", "pageCount", "lastUri"} & set(page)
    assert len(page["entities"]) == 3


def test_an_integration_as_listed(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Each entity has its id, name, type, intended state and own address."""
    emu.state.load_integrations(
        [{"id": "int-zd", "name": "Zendesk Support", "type": "zendesk-data-actions"}]
    )

    (entity,) = listed(http, auth)["entities"]

    assert entity == {
        "id": "int-zd",
        "name": "Zendesk Support",
        "integrationType": {"id": "zendesk-data-actions"},
        "intendedState": "ENABLED",
        "selfUri": f"{INTEGRATIONS}/int-zd",
    }


def test_name_and_type_have_defaults(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """An integration loaded with its id alone is named by its id, of the web type."""
    emu.state.load_integrations([{"id": "int-bare"}])

    (entity,) = listed(http, auth)["entities"]

    assert entity["name"] == "int-bare"
    assert entity["integrationType"] == {"id": "custom-rest-actions"}


def test_a_client_without_the_permission_gets_403(
    http: httpx.Client, make_client: Any
) -> None:
    """Holding every data-action permission but not the integration one is a 403
    naming `integrations:integration:view`."""
    headers = make_client(("integrations:action:view", "integrations:action:edit"))

    response = http.get(INTEGRATIONS, headers=headers)

    error = response.json()
    assert response.status_code == 403
    assert error["code"] == "missing.any.permissions"
    assert error["messageParams"] == {"permissions": PERMISSION}


def test_the_permission_alone_is_enough(
    emu: RunningEmulator, http: httpx.Client, make_client: Any
) -> None:
    """A client holding only `integrations:integration:view` lists integrations."""
    many_integrations(emu, 2)

    page = listed(http, make_client((PERMISSION,)))

    assert ids(page) == ["int-001", "int-002"]


def test_no_token_is_401(http: httpx.Client) -> None:
    """The list is behind the same gate as the data-actions routes: no token, 401."""
    response = http.get(INTEGRATIONS)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication.required"


def test_the_list_counts_in_the_rate_window(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Listing integrations counts in the client's window and reports it in the
    headers every answer of the API carries."""
    first = http.get(INTEGRATIONS, headers=auth)
    second = http.get(INTEGRATIONS, headers=auth)

    assert first.headers["inin-ratelimit-allowed"] == "300"
    assert first.headers["inin-ratelimit-count"] == "1"
    assert second.headers["inin-ratelimit-count"] == "2"
    assert second.headers["inin-ratelimit-reset"] == "60"
    assert second.headers["ININ-Correlation-Id"]
    assert emu.state.request_count("GET", INTEGRATIONS) == 2


def test_the_rate_limit_applies(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Past the client's budget the list answers 429 like any other route."""
    emu.state.set_options(rate_limit_per_minute=1)
    assert http.get(INTEGRATIONS, headers=auth).status_code == 200

    response = http.get(INTEGRATIONS, headers=auth)

    assert response.status_code == 429
    assert response.headers["Retry-After"]


# ---------------------------------------------------------------- control plane


@pytest.mark.parametrize(
    "wrap",
    [pytest.param(False, id="list"), pytest.param(True, id="object")],
)
def test_control_plane_loads_integrations(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], wrap: bool
) -> None:
    """POST integrations stores records, from a list or {"integrations": [...]},
    and the list serves them."""
    records = [{"id": "int-a", "name": "Acme REST", "type": "custom-rest-actions"}]
    body = {"integrations": records} if wrap else records

    response = http.post(f"{CONTROL}/integrations", json=body)

    assert response.status_code == 200, response.text
    assert response.json() == {"ids": ["int-a"]}
    assert http.get(f"{CONTROL}/integrations").json() == records
    assert ids(listed(http, auth)) == ["int-a"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"id": "alone"}, id="not-a-list"),
        pytest.param([{"id": "ok"}, {"name": "No Id"}], id="no-id"),
        pytest.param([{"id": "ok"}, {"id": 7}], id="id-not-text"),
        pytest.param([{"id": "ok"}, {"id": "x", "name": ""}], id="empty-name"),
        pytest.param([{"id": "ok"}, {"id": "x", "colour": "red"}], id="unknown-key"),
        pytest.param([{"id": "ok"}, "int-a"], id="not-an-object"),
    ],
)
def test_control_plane_refuses_bad_integrations(
    emu: RunningEmulator, http: httpx.Client, body: Any
) -> None:
    """Records that are not integrations are a 400, and none of them is stored."""
    response = http.post(f"{CONTROL}/integrations", json=body)

    assert response.status_code == 400
    assert response.json()["code"] == "bad.request"
    assert emu.state.stored_integrations() == []


def test_loading_an_id_again_replaces_it(emu: RunningEmulator) -> None:
    """An integration loaded again under its id is replaced, keeping its place."""
    emu.state.load_integrations([{"id": "a", "name": "First"}, {"id": "b"}])

    emu.state.load_integrations([{"id": "a", "name": "Renamed"}])

    stored = emu.state.stored_integrations()
    assert [(record["id"], record["name"]) for record in stored] == [
        ("a", "Renamed"),
        ("b", "b"),
    ]


def test_reset_forgets_the_integrations(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    """Integrations are part of the org: reset forgets them with the actions."""
    many_integrations(emu, 2)

    http.post(f"{CONTROL}/reset")

    assert emu.state.stored_integrations() == []
