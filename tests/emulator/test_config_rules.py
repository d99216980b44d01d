"""The types a write's config must have, the request URL rule and paging bounds."""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import ACTIONS, switch

ONE = f"{ACTIONS}/lookup-order"
# Python's spellings of values and types, which no message may show.
PYTHON_FORMS = re.compile(r"\b(True|False|None|dict|list|str|int|float)\b|'")


def full_body(emu: RunningEmulator, action_id: str = "lookup-order") -> dict[str, Any]:
    """Return the PATCH body a careful client sends: the stored action as it is."""
    stored = emu.state.stored_action(action_id)
    keys = ("name", "category", "version", "config")
    return copy.deepcopy({key: stored[key] for key in keys})


def assert_refused(response: httpx.Response, expected: str) -> None:
    """Check a 400 `bad.request` whose message says `expected` in JSON's words."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "bad.request"
    assert expected in body["message"]
    assert not PYTHON_FORMS.search(body["message"]), body["message"]


# (config section, field, value sent) -> what the message says
BAD_FIELDS = {
    "header-number": (
        ("request", "headers", {"Accept": 5}),
        "config.request.headers.Accept must be a string; got 5",
    ),
    "header-true": (
        ("request", "headers", {"Accept": True}),
        "config.request.headers.Accept must be a string; got true",
    ),
    "header-null": (
        ("request", "headers", {"Accept": None}),
        "config.request.headers.Accept must be a string; got null",
    ),
    "header-object": (
        ("request", "headers", {"Accept": {"type": "json"}}),
        "config.request.headers.Accept must be a string; got an object",
    ),
    "headers-array": (
        ("request", "headers", ["Accept: application/json"]),
        "config.request.headers must be an object of strings or null; got an array",
    ),
    "headers-string": (
        ("request", "headers", "Accept: application/json"),
        "config.request.headers must be an object of strings or null; got "
        '"Accept: application/json"',
    ),
    "type-unknown": (
        ("request", "requestType", "FETCH"),
        "config.request.requestType must be one of GET, PUT, POST, PATCH, DELETE; "
        'got "FETCH"',
    ),
    "type-lower-case": (
        ("request", "requestType", "get"),
        'must be one of GET, PUT, POST, PATCH, DELETE; got "get"',
    ),
    "type-number": (
        ("request", "requestType", 1),
        "config.request.requestType must be a string or null; got 1",
    ),
    "url-number": (
        ("request", "requestUrlTemplate", 42),
        "config.request.requestUrlTemplate must be a string or null; got 42",
    ),
    "map-object": (
        ("response", "translationMap", {"status": {"path": "$.state"}}),
        "config.response.translationMap.status must be a string; got an object",
    ),
    "map-array": (
        ("response", "translationMap", [["status", "$.state"]]),
        "config.response.translationMap must be an object of strings or null; "
        "got an array",
    ),
    "defaults-number": (
        ("response", "translationMapDefaults", {"status": 0}),
        "config.response.translationMapDefaults.status must be a string; got 0",
    ),
    "defaults-false": (
        ("response", "translationMapDefaults", {"status": False}),
        "config.response.translationMapDefaults.status must be a string; got false",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FIELDS))
def test_fields_of_the_wrong_type_are_refused(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], case: str
) -> None:
    """A config field its model types otherwise is 400 naming it; nothing changes."""
    (section, key, value), expected = BAD_FIELDS[case]
    before = emu.state.stored_action("lookup-order")
    body = full_body(emu)
    body["config"][section][key] = value

    response = http.patch(ONE, json=body, headers=auth)

    assert_refused(response, expected)
    assert emu.state.stored_action("lookup-order") == before


def test_a_create_follows_the_same_rules(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A new action whose config breaks a type rule is refused and not stored."""
    stored = emu.state.stored_action("lookup-order")
    body = {key: stored[key] for key in ("name", "category", "integrationId")}
    body.update(contract=stored["contract"], config=copy.deepcopy(stored["config"]))
    body["config"]["request"]["requestType"] = "FETCH"

    response = http.post(ACTIONS, json=body, headers=auth)

    assert_refused(response, "config.request.requestType must be one of")
    assert len(emu.state.stored_actions()) == 7


def test_null_fields_count_as_not_sent(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A typed field sent as null is accepted, as SDKs send unset fields."""
    body = full_body(emu)
    body["config"]["request"].update(headers=None, requestType="DELETE")
    body["config"]["response"].update(translationMap=None)

    response = http.patch(ONE, json=body, headers=auth)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param([], "config must be a JSON object; got an array", id="array"),
        pytest.param(
            {"request": "x"},
            'config.request must be a JSON object or null; got "x"',
            id="request-text",
        ),
        pytest.param(
            {"timeoutSeconds": True},
            "config.timeoutSeconds must be a whole number of seconds from 1 to 60; "
            "got true",
            id="timeout-true",
        ),
        pytest.param(
            {"timeoutSeconds": "10"},
            'from 1 to 60; got "10"',
            id="timeout-text",
        ),
        pytest.param(
            {"timeoutSeconds": {"seconds": 10}},
            "from 1 to 60; got an object",
            id="timeout-object",
        ),
    ],
)
def test_messages_show_values_in_json_words(
    http: httpx.Client, auth: dict[str, str], config: Any, expected: str
) -> None:
    """A refused value is named as JSON writes it, never in Python's spelling."""
    response = http.patch(ONE, json={"version": 1, "config": config}, headers=auth)

    assert_refused(response, expected)


# ------------------------------------------------------------------ the request URL

URL_LOSING_CONFIGS = {
    "empty-config": {},
    "null-request": {"request": None, "response": {"translationMap": {}}},
    "timeout-only": {"timeoutSeconds": 30},
    "empty-url": {"request": {"requestUrlTemplate": "", "requestType": "GET"}},
}


@pytest.mark.parametrize("case", sorted(URL_LOSING_CONFIGS))
def test_losing_the_request_url_can_be_refused(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], case: str
) -> None:
    """With `url_removal` "reject" a PATCH leaving an HTTP action no URL is 400."""
    switch(http, url_removal="reject")
    before = emu.state.stored_action("lookup-order")
    body = {"version": 1, "config": URL_LOSING_CONFIGS[case]}

    response = http.patch(ONE, json=body, headers=auth)

    assert_refused(response, "config.request.requestUrlTemplate is required")
    assert emu.state.stored_action("lookup-order") == before


@pytest.mark.parametrize("case", sorted(URL_LOSING_CONFIGS))
def test_losing_the_request_url_is_accepted_by_default(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str], case: str
) -> None:
    """By default a PATCH may leave an HTTP action without its URL, as the sources
    describe a wiping PATCH: accepted, and the action fails when run."""
    body = {"version": 1, "config": URL_LOSING_CONFIGS[case]}

    response = http.patch(ONE, json=body, headers=auth)

    assert response.status_code == 200, response.text
    request = emu.state.stored_action("lookup-order")["config"].get("request", {})
    assert not request.get("requestUrlTemplate")


def test_merge_patch_deleting_the_request_can_be_refused(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """In merge mode `request: null` deletes the URL too, and is refused alike."""
    switch(http, url_removal="reject", patch_mode="merge")

    response = http.patch(
        ONE, json={"version": 1, "config": {"request": None}}, headers=auth
    )

    assert_refused(response, "config.request.requestUrlTemplate is required")


def test_a_draft_patch_losing_the_url_can_be_refused(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """The rule holds for the draft of an HTTP action as for the action."""
    switch(http, url_removal="reject")
    assert http.post(f"{ONE}/draft", headers=auth).status_code == 200

    response = http.patch(
        f"{ONE}/draft", json={"version": 1, "config": {}}, headers=auth
    )

    assert_refused(response, "config.request.requestUrlTemplate is required")


def test_a_function_action_needs_no_url(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """A function action runs no request: a config without a URL is fine for it."""
    switch(http, url_removal="reject")

    response = http.patch(
        f"{ACTIONS}/function-1",
        json={"version": 1, "config": {"timeoutSeconds": 10}},
        headers=auth,
    )

    assert response.status_code == 200, response.text


def test_a_careful_patch_passes_the_url_rule(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """A read-modify-write PATCH keeps the URL, so `url_removal` "reject" takes it."""
    switch(http, url_removal="reject")
    body = full_body(emu)
    body["config"]["timeoutSeconds"] = 30

    response = http.patch(ONE, json=body, headers=auth)

    assert response.status_code == 200, response.text


# ------------------------------------------------------------------ paging bounds

LISTINGS = (
    ACTIONS,
    f"{ACTIONS}/drafts",
    f"{ACTIONS}/categories",
    "/api/v2/integrations",
)


@pytest.mark.parametrize("path", LISTINGS)
@pytest.mark.parametrize("key", ["pageSize", "pageNumber"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param("2147483648", id="over-32-bits"),
        pytest.param("99999999999999999999999", id="far-over"),
        pytest.param("²", id="superscript-digit"),
        pytest.param("٣", id="arabic-indic-digit"),
    ],
)
def test_paging_parameters_beyond_a_32_bit_integer_are_refused(
    http: httpx.Client, auth: dict[str, str], path: str, key: str, value: str
) -> None:
    """`pageSize` and `pageNumber` are ASCII whole numbers up to 2147483647."""
    response = http.get(path, params={key: value}, headers=auth)

    assert_refused(response, f"{key} must be a whole number from 1 to 2147483647")


def test_the_largest_page_number_is_an_empty_page(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """`pageNumber` 2147483647 is a page past the end: 200 with no entities."""
    response = http.get(ACTIONS, params={"pageNumber": "2147483647"}, headers=auth)

    assert response.status_code == 200, response.text
    assert response.json()["entities"] == []
