"""Listings of actions, drafts and categories: paging, filters and sorting."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import ACTIONS, http_action


def many_actions(emu: RunningEmulator, count: int) -> list[str]:
    """Replace the org with `count` plain actions named "Action 001" and so on."""
    emu.state.reset()
    docs = [http_action(f"a{i:03d}", f"Action {i:03d}") for i in range(1, count + 1)]
    return emu.state.load_actions(docs)


def listed(
    http: httpx.Client, auth: dict[str, str], path: str = ACTIONS, **params: Any
) -> dict[str, Any]:
    """Return the JSON of a successful listing."""
    response = http.get(path, params=params, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def names(page: dict[str, Any]) -> list[str]:
    """Return the names of a page's entities."""
    return [entity["name"] for entity in page["entities"]]


def test_default_page_has_25_entities(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Without paging parameters a listing returns page 1 of 25."""
    many_actions(emu, 60)

    page = listed(http, auth)

    assert len(page["entities"]) == 25
    assert (page["pageSize"], page["pageNumber"]) == (25, 1)
    assert (page["total"], page["pageCount"]) == (60, 3)


def test_page_links(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A middle page links to the first, previous, next and last pages."""
    many_actions(emu, 60)

    page = listed(http, auth, pageSize=10, pageNumber=3)

    base = f"{ACTIONS}?pageSize=10&pageNumber="
    assert page["firstUri"] == base + "1"
    assert page["previousUri"] == base + "2"
    assert page["selfUri"] == base + "3"
    assert page["nextUri"] == base + "4"
    assert page["lastUri"] == base + "6"


def test_links_keep_the_filters(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Page links repeat the listing's other query parameters."""
    many_actions(emu, 30)

    page = listed(http, auth, pageSize=10, includeConfig="true")

    assert page["nextUri"].endswith("pageSize=10&pageNumber=2&includeConfig=true")


def test_last_page_has_no_next_link(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """The last page, exactly full, has no `nextUri`."""
    many_actions(emu, 50)

    page = listed(http, auth, pageSize=25, pageNumber=2)

    assert len(page["entities"]) == 25
    assert "nextUri" not in page


def test_page_past_the_end_is_empty(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A page past the end is 200 with no entities, never an error."""
    many_actions(emu, 30)

    page = listed(http, auth, pageSize=25, pageNumber=5)

    assert page["entities"] == []
    assert page["total"] == 30


@pytest.mark.parametrize(
    ("asked", "echoed"),
    [pytest.param(500, 100, id="clamped"), pytest.param(100, 100, id="maximum")],
)
def test_page_size_over_the_maximum_is_clamped(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    asked: int,
    echoed: int,
) -> None:
    """A `pageSize` over the maximum is clamped, and the used size is echoed."""
    many_actions(emu, 120)

    page = listed(http, auth, pageSize=asked)

    assert page["pageSize"] == echoed
    assert len(page["entities"]) == echoed


def test_maximum_page_size_is_an_option(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`max_page_size` sets where the page size is clamped."""
    many_actions(emu, 30)
    emu.state.set_options(max_page_size=10)

    page = listed(http, auth, pageSize=100)

    assert page["pageSize"] == 10


def test_total_can_be_left_out(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `include_total` off, listings carry no total, page count or last link."""
    emu.state.set_options(include_total=False)

    page = listed(http, auth)

    assert not {"total", "pageCount", "lastUri"} & set(page)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"pageSize": "0"}, id="size-zero"),
        pytest.param({"pageSize": "-5"}, id="size-negative"),
        pytest.param({"pageNumber": "0"}, id="number-zero"),
        pytest.param({"pageSize": "ten"}, id="size-text"),
        pytest.param({"sortOrder": "sideways"}, id="sort-order"),
        pytest.param({"sortBy": "version"}, id="sort-by"),
        pytest.param({"includeConfig": "yes"}, id="boolean"),
    ],
)
def test_invalid_parameters_are_bad_requests(
    http: httpx.Client, auth: dict[str, str], params: dict[str, str]
) -> None:
    """Malformed paging, sorting or boolean parameters give 400 `bad.request`."""
    response = http.get(ACTIONS, params=params, headers=auth)

    assert response.status_code == 400
    assert response.json()["code"] == "bad.request"


def test_custom_auth_actions_are_hidden_by_default(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """Custom-auth actions are listed only with `includeAuthActions=true`."""
    hidden = listed(http, auth)
    shown = listed(http, auth, includeAuthActions="true")

    custom = "customAuth_-_integration-1"
    assert custom not in [entity["id"] for entity in hidden["entities"]]
    assert custom in [entity["id"] for entity in shown["entities"]]


def test_config_is_listed_only_on_request(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """Entities have `config` only with `includeConfig=true`, templates as links."""
    plain = listed(http, auth)
    full = listed(http, auth, includeConfig="true")

    assert all("config" not in entity for entity in plain["entities"])
    lookup = next(e for e in full["entities"] if e["id"] == "lookup-order")
    assert lookup["config"]["timeoutSeconds"] == 15
    assert "requestTemplate" not in lookup["config"]["request"]


def test_listing_omits_the_contract(http: httpx.Client, auth: dict[str, str]) -> None:
    """Listed entities carry no contract."""
    page = listed(http, auth, includeConfig="true")

    assert all("contract" not in entity for entity in page["entities"])


def test_category_filter_is_exact(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """`category` matches the whole category, case included."""
    exact = listed(http, auth, category="Function Data Actions")
    other_case = listed(http, auth, category="function data actions")

    assert names(exact) == ["Compute Score"]
    assert other_case["entities"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "ticket", ["Create Ticket", "Update Ticket"], id="partial-any-case"
        ),
        pytest.param("Lookup Order Status", ["Lookup Order Status"], id="complete"),
        pytest.param("ORDER", ["Lookup Order Status"], id="upper-case"),
        pytest.param("nothing like it", [], id="no-match"),
    ],
)
def test_name_filter_matches_part_of_the_name(
    http: httpx.Client, auth: dict[str, str], text: str, expected: list[str]
) -> None:
    """`name` matches any part of the name, ignoring case."""
    page = listed(http, auth, name=text)

    assert names(page) == expected


def test_secure_filter_true(http: httpx.Client, auth: dict[str, str]) -> None:
    """`secure=true` keeps only secure actions."""
    page = listed(http, auth, secure="true")

    assert names(page) == ["Compute Score"]


def test_secure_filter_false(http: httpx.Client, auth: dict[str, str]) -> None:
    """`secure=false` keeps only actions that are not secure."""
    page = listed(http, auth, secure="false")

    assert "Compute Score" not in names(page)
    assert len(page["entities"]) == 5


def test_ids_filter(http: httpx.Client, auth: dict[str, str]) -> None:
    """`ids` keeps only the listed ids, comma separated."""
    page = listed(http, auth, ids="lookup-order,function-1,unknown")

    assert sorted(entity["id"] for entity in page["entities"]) == [
        "function-1",
        "lookup-order",
    ]


def test_more_than_50_ids_is_a_bad_request(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """`ids` accepts at most 50 ids."""
    ids = ",".join(f"id-{n}" for n in range(51))

    response = http.get(ACTIONS, params={"ids": ids}, headers=auth)

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("order", "first"),
    [
        pytest.param("asc", "Action 001", id="asc"),
        pytest.param("desc", "Action 030", id="desc"),
    ],
)
def test_sort_by_name(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    order: str,
    first: str,
) -> None:
    """`sortBy=name` orders by name, ascending or descending."""
    many_actions(emu, 30)

    page = listed(http, auth, sortBy="name", sortOrder=order)

    assert names(page)[0] == first


def test_unsorted_listing_keeps_the_stored_order(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """Without `sortBy` actions come in the order they were stored."""
    page = listed(http, auth)

    assert [entity["id"] for entity in page["entities"]][:3] == [
        "lookup-order",
        "no-timeout",
        "null-timeout",
    ]


def test_categories_are_distinct_and_sorted(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """Categories come once each, sorted, with CategoryEntityListing fields only."""
    page = listed(http, auth, f"{ACTIONS}/categories")

    assert page["entities"] == [
        {"name": "Acme Web Services"},
        {"name": "Function Data Actions"},
        {"name": "Genesys Cloud Data Actions"},
    ]
    assert set(page) == {"entities", "pageSize", "pageNumber", "total", "pageCount"}
    assert (page["pageSize"], page["pageNumber"], page["total"]) == (25, 1, 3)


@pytest.mark.parametrize("sort_by", ["bogus", "category"])
def test_categories_sort_only_by_name(
    http: httpx.Client, auth: dict[str, str], sort_by: str
) -> None:
    """`sortBy` of the category listing takes only `name`; anything else gives 400."""
    path = f"{ACTIONS}/categories"

    response = http.get(path, params={"sortBy": sort_by}, headers=auth)

    assert response.status_code == 400
    assert sort_by in response.json()["message"]
    assert len(listed(http, auth, path, sortBy="name")["entities"]) == 3


def test_drafts_listing_shows_drafts_only(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """`/drafts` lists drafts, with draft links."""
    assert listed(http, auth, f"{ACTIONS}/drafts")["entities"] == []
    http.post(f"{ACTIONS}/lookup-order/draft", headers=auth)

    page = listed(http, auth, f"{ACTIONS}/drafts")

    assert [entity["id"] for entity in page["entities"]] == ["lookup-order"]
    assert page["entities"][0]["selfUri"] == f"{ACTIONS}/lookup-order/draft"
