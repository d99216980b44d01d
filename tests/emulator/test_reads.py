"""Reading one action: expand and includeConfig, template links and files, schemas."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from action_timeouts.emulator.server import RunningEmulator
from corpus import corpus_files, needs_corpus

from .helpers import ACTIONS, CRLF_TEMPLATE, NON_ASCII_TEMPLATE

ONE = f"{ACTIONS}/lookup-order"


def fetched(http: httpx.Client, auth: dict[str, str], path: str, **params: Any) -> Any:
    """Return the JSON of a successful GET."""
    response = http.get(path, params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_plain_get_has_neither_config_nor_contract(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """Without `expand` and `includeConfig` an action shows only its model fields."""
    action = fetched(http, auth, ONE)

    assert action == {
        "id": "lookup-order",
        "name": "Lookup Order Status",
        "category": "Acme Web Services",
        "integrationId": "integration-1",
        "version": 1,
        "secure": False,
        "selfUri": ONE,
    }


def test_expand_contract_shows_the_contract(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """`expand=contract` adds the contract with its schemas inline."""
    action = fetched(http, auth, ONE, expand="contract")

    assert action["contract"]["input"]["inputSchema"] == {"type": "object"}
    assert "config" not in action


def test_contract_without_expand_is_an_option(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """With `contract_without_expand` the contract shows even without `expand`."""
    emu.state.set_options(contract_without_expand=True)

    action = fetched(http, auth, ONE)

    assert "contract" in action


def test_include_config_shows_template_links_not_text(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """`includeConfig=true` shows the config, templates as `*TemplateUri` links."""
    config = fetched(http, auth, ONE, includeConfig="true")["config"]

    assert config["timeoutSeconds"] == 15
    assert config["request"]["requestTemplateUri"] == (
        f"{ONE}/templates/requesttemplate.vm"
    )
    assert config["response"]["successTemplateUri"] == (
        f"{ONE}/templates/successtemplate.vm"
    )
    assert "requestTemplate" not in config["request"]
    assert "successTemplate" not in config["response"]


def test_no_links_without_stored_templates(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """An action that stores no template shows no template link."""
    config = fetched(http, auth, f"{ACTIONS}/no-templates", includeConfig="true")[
        "config"
    ]

    assert "requestTemplateUri" not in config["request"]
    assert "successTemplateUri" not in config["response"]


@pytest.mark.parametrize(
    ("section", "key"),
    [("request", "requestTemplate"), ("response", "successTemplate")],
)
def test_no_link_for_a_null_template(
    emu: RunningEmulator,
    http: httpx.Client,
    auth: dict[str, str],
    section: str,
    key: str,
) -> None:
    """A template stored as null is shown with no link, and its file answers 404."""
    document = emu.state.stored_action("lookup-order")
    document["config"][section][key] = None
    emu.state.load_actions([document])

    config = fetched(http, auth, ONE, includeConfig="true")["config"]

    file_name = f"{key.lower()}.vm"
    assert f"{key}Uri" not in config[section]
    assert key not in config[section]
    assert http.get(f"{ONE}/templates/{file_name}", headers=auth).status_code == 404


@pytest.mark.parametrize(
    ("action_id", "shown"),
    [
        pytest.param("no-timeout", "absent", id="absent"),
        pytest.param("null-timeout", None, id="null"),
        pytest.param("lookup-order", 15, id="set"),
    ],
)
def test_timeout_is_shown_as_stored(
    http: httpx.Client, auth: dict[str, str], action_id: str, shown: object
) -> None:
    """An unset timeout stays absent, a stored null stays null, a value shows."""
    config = fetched(http, auth, f"{ACTIONS}/{action_id}", includeConfig="true")[
        "config"
    ]

    assert config.get("timeoutSeconds", "absent") == shown


def test_flatten_is_ignored(http: httpx.Client, auth: dict[str, str]) -> None:
    """`flatten=true` changes nothing."""
    flat = fetched(http, auth, ONE, expand="contract", flatten="true")

    assert flat == fetched(http, auth, ONE, expand="contract")


def test_unknown_action_is_not_found(http: httpx.Client, auth: dict[str, str]) -> None:
    """An unknown id gives 404 `not.found`."""
    response = http.get(f"{ACTIONS}/no-such-action", headers=auth)

    assert response.status_code == 404
    assert response.json()["code"] == "not.found"


@pytest.mark.parametrize(
    ("file_name", "text"),
    [
        pytest.param("requesttemplate.vm", CRLF_TEMPLATE, id="crlf"),
        pytest.param("successtemplate.vm", NON_ASCII_TEMPLATE, id="non-ascii"),
    ],
)
def test_template_file_returns_the_exact_bytes(
    http: httpx.Client, auth: dict[str, str], file_name: str, text: str
) -> None:
    """A template file is the stored text, byte for byte, as UTF-8 `text/plain`."""
    response = http.get(f"{ONE}/templates/{file_name}", headers=auth)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == text.encode("utf-8")


@pytest.mark.parametrize(
    ("action_id", "file_name"),
    [
        pytest.param("no-templates", "requesttemplate.vm", id="no-request-template"),
        pytest.param("no-templates", "successtemplate.vm", id="no-success-template"),
        pytest.param("lookup-order", "other.vm", id="unknown-file"),
        pytest.param("no-such-action", "requesttemplate.vm", id="unknown-action"),
    ],
)
def test_missing_template_is_not_found(
    http: httpx.Client, auth: dict[str, str], action_id: str, file_name: str
) -> None:
    """A template that is not stored gives 404."""
    response = http.get(f"{ACTIONS}/{action_id}/templates/{file_name}", headers=auth)

    assert response.status_code == 404


@needs_corpus
def test_corpus_templates_round_trip_exactly(
    emu: RunningEmulator, http: httpx.Client, auth: dict[str, str]
) -> None:
    """Every corpus template, with its line endings, comes back byte for byte."""
    docs = [json.loads(path.read_text("utf-8")) for path in corpus_files()]
    ids = emu.state.load_actions(docs)

    for action_id, doc in zip(ids, docs, strict=True):
        request = doc.get("config", {}).get("request", {})
        if "requestTemplate" in request:
            url = f"{ACTIONS}/{action_id}/templates/requesttemplate.vm"
            body = http.get(url, headers=auth).content
            assert body == request["requestTemplate"].encode("utf-8"), action_id


@pytest.mark.parametrize(
    ("file_name", "schema"),
    [
        pytest.param("inputschema.json", {"type": "object"}, id="input"),
        pytest.param(
            "successschema.json",
            {"type": "object", "properties": {"status": {"type": "string"}}},
            id="success",
        ),
    ],
)
def test_schema_files(
    http: httpx.Client, auth: dict[str, str], file_name: str, schema: object
) -> None:
    """The schema endpoints return the contract's schemas."""
    assert fetched(http, auth, f"{ONE}/schemas/{file_name}") == schema


def test_unknown_schema_file_is_not_found(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """A schema name the emulator does not know gives 404."""
    response = http.get(f"{ONE}/schemas/errorschema.json", headers=auth)

    assert response.status_code == 404


def test_function_settings_of_a_function_action(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """A function action has a separate function timeout, 15 s by default."""
    assert fetched(http, auth, f"{ACTIONS}/function-1/function") == {
        "timeoutSeconds": 15
    }


def test_function_settings_of_other_actions_are_not_found(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    """Only function actions have function settings."""
    response = http.get(f"{ONE}/function", headers=auth)

    assert response.status_code == 404
