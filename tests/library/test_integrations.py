"""Reading the integrations' names by id, over real HTTP against the emulator."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.errors import BadResponseError, PermissionDeniedError
from action_timeouts.http import ApiClient
from action_timeouts.integrations import (
    INTEGRATION_VIEW_PERMISSION,
    INTEGRATIONS_PATH,
    integration_names,
    matching_integrations,
    name_key,
)

from .emulated import RewrittenAnswers, make_client, requests


def register(emu: RunningEmulator, count: int) -> dict[str, str]:
    """Register `count` integrations; return their names by id."""
    records = [
        {"id": f"int-{n:03d}", "name": f"Integration {n:03d}"} for n in range(count)
    ]
    emu.state.load_integrations(records)
    return {record["id"]: record["name"] for record in records}


def listing_queries(emu: RunningEmulator) -> list[dict[str, list[str]]]:
    """Return the query of each integrations request, in order."""
    return [
        parse_qs(entry["query"])
        for entry in requests(emu, "GET")
        if entry["path"] == INTEGRATIONS_PATH
    ]


def test_every_page_is_read_at_the_largest_size(
    emu: RunningEmulator, session_client: ApiClient
) -> None:
    """Names of every integration come back by id, read 100 a page until the last."""
    expected = register(emu, 250)

    names = integration_names(session_client)

    assert names == expected
    queries = listing_queries(emu)
    assert [query["pageNumber"] for query in queries] == [["1"], ["2"], ["3"]]
    assert all(query["pageSize"] == ["100"] for query in queries)


def test_an_org_without_integrations_gives_no_names(
    emu: RunningEmulator, session_client: ApiClient
) -> None:
    """An empty list is an empty mapping, read with one request."""
    assert integration_names(session_client) == {}
    assert len(listing_queries(emu)) == 1


def test_integrations_that_do_not_add_up_to_the_total_are_refused(
    emu: RunningEmulator,
) -> None:
    """A list whose integrations never add up to the total it announces is refused
    after the bounded attempts, as an incomplete action listing is."""
    register(emu, 3)

    def one_more(_request: httpx.Request, answer: httpx.Response) -> httpx.Response:
        page = json.loads(answer.content)
        return httpx.Response(200, json={**page, "total": page["total"] + 1})

    transport = RewrittenAnswers("GET", INTEGRATIONS_PATH, one_more, count=100)
    with (
        make_client(emu, transport=transport) as client,
        pytest.raises(BadResponseError, match="returned 3 integrations but the API"),
    ):
        integration_names(client)


def test_an_answer_that_is_not_a_list_is_refused(emu: RunningEmulator) -> None:
    """A success answer without an `entities` list is not taken for an empty org."""

    def not_a_list(_request: httpx.Request, _answer: httpx.Response) -> httpx.Response:
        return httpx.Response(200, json={"message": "hello"})

    transport = RewrittenAnswers("GET", INTEGRATIONS_PATH, not_a_list)
    with (
        make_client(emu, transport=transport) as client,
        pytest.raises(BadResponseError, match="not a paged list of integrations"),
    ):
        integration_names(client)


def test_an_integration_without_a_name_matches_by_id_only(
    emu: RunningEmulator,
) -> None:
    """An integration listed without a text name is left out of the mapping."""
    register(emu, 2)

    def drop_a_name(_request: httpx.Request, answer: httpx.Response) -> httpx.Response:
        page = json.loads(answer.content)
        del page["entities"][0]["name"]
        return httpx.Response(200, json=page)

    transport = RewrittenAnswers("GET", INTEGRATIONS_PATH, drop_a_name)
    with make_client(emu, transport=transport) as client:
        names = integration_names(client)

    assert names == {"int-001": "Integration 001"}


def test_a_client_without_the_permission_is_refused(emu: RunningEmulator) -> None:
    """Without integrations:integration:view the list raises PermissionDeniedError
    naming the permission, for the caller to decide what to do."""
    emu.state.add_client("actions-only", "secret", ["integrations:action:view"])
    register(emu, 2)

    with (
        make_client(emu, credentials=("actions-only", "secret")) as client,
        pytest.raises(PermissionDeniedError) as caught,
    ):
        integration_names(client)

    assert INTEGRATION_VIEW_PERMISSION in str(caught.value)
    assert caught.value.exit_code == 5


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        pytest.param("Mu\u0308ller ", "müller", id="decomposed-trailing-space"),
        pytest.param("  STRASSE", "straße", id="casefold"),
        pytest.param("Müller", "MU\u0308LLER", id="typed-decomposed"),
    ],
)
def test_names_compare_in_normal_form_stripped_and_casefolded(
    stored: str, typed: str
) -> None:
    """Two spellings of one name give the same comparison key."""
    assert name_key(stored) == name_key(typed)


def test_a_value_may_match_several_integrations() -> None:
    """A value matching one integration's id and another's name matches both, and a
    blank value matches none."""
    names = {"int-a": "Acme", "int-b": "int-a", "int-c": "Other"}

    assert matching_integrations("INT-A", names) == ["int-a", "int-b"]
    assert matching_integrations("  ", names, ["int-x"]) == []
    assert matching_integrations("int-x", names, ["int-x"]) == ["int-x"]


def test_a_404_of_the_list_is_an_answer_the_api_does_not_promise(
    emu: RunningEmulator,
) -> None:
    """The integrations list answering 404 raises BadResponseError naming the list,
    not a missing action."""
    body = json.dumps({"status": 404, "code": "not.found", "message": "gone"})
    emu.state.inject_raw_response(
        1, 404, body, content_type="application/json", path_prefix=INTEGRATIONS_PATH
    )

    with make_client(emu) as client, pytest.raises(BadResponseError) as raised:
        integration_names(client)

    assert "the integrations list" in str(raised.value)
