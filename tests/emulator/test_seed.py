"""Seeding the emulator: the seed directory loader and the demo org generator, with
the integrations of each."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from action_timeouts.emulator.options import EmulatorOptions
from action_timeouts.emulator.seed import (
    demo_integrations,
    directory_integrations,
    generate_demo_org,
    load_directory,
)
from action_timeouts.emulator.server import build_state, running_emulator
from action_timeouts.errors import UsageError
from corpus import CORPUS_DIR, corpus_files, needs_corpus

from .helpers import bearer, get_token, send_back

WRITE_METHODS = {"POST", "PUT", "PATCH"}


@pytest.fixture(scope="module")
def org() -> list[dict[str, Any]]:
    """A demo org large enough to show every feature."""
    return generate_demo_org(200, seed=7)


def request_of(action: dict[str, Any]) -> dict[str, Any]:
    return dict(action["config"].get("request", {}))


def response_of(action: dict[str, Any]) -> dict[str, Any]:
    return dict(action["config"].get("response", {}))


def has_template(action: dict[str, Any]) -> bool:
    return "requestTemplate" in request_of(action) or "successTemplate" in response_of(
        action
    )


def write_file(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def action_doc(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "integrationId": "int-1", "config": {}, **extra}


# ----------------------------------------------------------------- generator


def test_same_seed_gives_the_same_org() -> None:
    """Generation is deterministic for a given seed, down to key order."""
    first = json.dumps(generate_demo_org(60, seed=3))
    assert json.dumps(generate_demo_org(60, seed=3)) == first


def test_different_seeds_give_different_orgs() -> None:
    """Another seed gives other ids and other contents."""
    assert generate_demo_org(60, seed=3) != generate_demo_org(60, seed=4)


@pytest.mark.parametrize("n", [0, 1, 2, 4, 5, 7, 9, 10, 13, 50, 200, 333])
def test_exact_count_with_unique_names(n: int) -> None:
    """Exactly n actions are generated, special ones included, names unique."""
    actions = generate_demo_org(n, seed=n)
    assert len(actions) == n
    assert len({action["name"] for action in actions}) == n


def test_negative_count_is_refused() -> None:
    """A negative count is a usage error, not an empty org."""
    with pytest.raises(UsageError, match="negative"):
        generate_demo_org(-1)


def test_integrations_and_categories_vary(org: list[dict[str, Any]]) -> None:
    """At least six integrations with uuid-like ids, categories include the usual."""
    integrations = {action["integrationId"] for action in org}
    assert len(integrations) >= 6
    uuid_shape = re.compile(
        r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-\w{12}$"
    )
    assert all(uuid_shape.match(value) for value in integrations)
    categories = {action["category"] for action in org}
    assert {
        "Acme Web Services",
        "Salesforce Data Actions",
        "Zendesk Data Actions",
        "Genesys Cloud Data Actions",
        "Function Data Actions",
    } <= categories


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_integration_ids_are_never_action_ids(seed: int) -> None:
    """A served demo org gives its integrations ids that no action has."""
    actions = build_state(actions=60, seed=seed).stored_actions()

    action_ids = {action["id"] for action in actions}
    integration_ids = {action["integrationId"] for action in actions}
    assert len(integration_ids) == 8
    assert integration_ids.isdisjoint(action_ids)


def test_each_integration_has_a_category_of_its_own(
    org: list[dict[str, Any]],
) -> None:
    """All actions of an integration share one category, which no other one uses."""
    pairs = {(action["integrationId"], action["category"]) for action in org}

    assert len(pairs) == len({integration for integration, _ in pairs}) == 8
    assert len({category for _, category in pairs}) == 8


def test_custom_auth_actions_belong_to_their_integration(
    org: list[dict[str, Any]],
) -> None:
    """Each OAuth integration has one custom-auth action with the fixed id."""
    custom = [a for a in org if a.get("id", "").startswith("customAuth_-_")]
    assert len(custom) == 2
    for action in custom:
        assert action["id"] == f"customAuth_-_{action['integrationId']}"
        assert "timeoutSeconds" not in action["config"]
    assert len({action["integrationId"] for action in custom}) == 2


def test_built_in_actions_have_static_ids(org: list[dict[str, Any]]) -> None:
    """A few built-in actions carry `static_<uuid>` ids; nothing else has an id."""
    static = [a for a in org if a.get("id", "").startswith("static_")]
    assert 1 <= len(static) <= 5
    with_id = [a for a in org if "id" in a]
    assert len(with_id) == len(static) + 2


def test_function_actions_have_no_request_url(org: list[dict[str, Any]]) -> None:
    """Function actions sit in their category and have no request URL."""
    functions = [a for a in org if "requestUrlTemplate" not in request_of(a)]
    assert len(functions) >= 10
    assert {a["category"] for a in functions} == {"Function Data Actions"}


def test_timeouts_cover_every_case(org: list[dict[str, Any]]) -> None:
    """Timeouts are mostly unset, 15-20 % are 3 s, with mid, long and null ones."""
    configs = [action["config"] for action in org]
    values = [c["timeoutSeconds"] for c in configs if "timeoutSeconds" in c]
    absent = len(configs) - len(values)
    assert absent > len(configs) * 0.35
    assert 0.15 <= values.count(3) / len(configs) <= 0.20
    assert 1 <= values.count(None) <= len(configs) * 0.06
    numbers = [value for value in values if value is not None]
    assert all(isinstance(value, int) and 1 <= value <= 60 for value in numbers)
    assert any(5 <= value <= 15 for value in numbers)
    assert any(30 <= value <= 60 for value in numbers)


def test_names_include_non_ascii(org: list[dict[str, Any]]) -> None:
    """Some names carry accents, umlauts, Japanese and emoji."""
    names = " ".join(action["name"] for action in org)
    assert "é" in names
    assert "ü" in names
    assert re.search("[\u3040-\u30ff\u4e00-\u9fff]", names)
    assert re.search("[\U0001f300-\U0001faff]", names)


def test_some_translation_maps_are_large(org: list[dict[str, Any]]) -> None:
    """A few actions have translation maps of 50 to 200 entries."""
    sizes = [len(response_of(action).get("translationMap", {})) for action in org]
    large = [size for size in sizes if size >= 50]
    assert large
    assert max(large) <= 200


def test_request_templates_vary(org: list[dict[str, Any]]) -> None:
    """Request templates include JSON-like text, Velocity and CRLF line ends."""
    templates = [request_of(a).get("requestTemplate", "") for a in org]
    assert any(t.startswith("{\n") for t in templates)
    assert any(t.startswith("#if(") for t in templates)
    assert any("\r\n" in t for t in templates)


def test_request_templates_only_on_writes(org: list[dict[str, Any]]) -> None:
    """Only POST, PUT and PATCH actions carry a request template."""
    for action in org:
        request = request_of(action)
        if "requestTemplate" in request:
            assert request["requestType"] in WRITE_METHODS


def test_some_headers_look_like_credentials(org: list[dict[str, Any]]) -> None:
    """Some actions send a bearer token or an API key header."""
    headers = [request_of(action).get("headers", {}) for action in org]
    assert any(h.get("Authorization", "").startswith("Bearer ") for h in headers)
    assert any("x-api-key" in h for h in headers)


def test_a_third_of_actions_store_no_template(org: list[dict[str, Any]]) -> None:
    """30-40 % of actions have neither template; most have a success template."""
    without = [action for action in org if not has_template(action)]
    assert 0.30 <= len(without) / len(org) <= 0.40
    for action in without:
        assert request_of(action)["requestType"] == "GET"
        assert response_of(action)["translationMap"]
    success = [a for a in org if "successTemplate" in response_of(a)]
    assert len(success) > len(org) / 2


def test_contracts_and_secure_flags(org: list[dict[str, Any]]) -> None:
    """Every action has input and success schemas; both secure values occur."""
    for action in org:
        assert "inputSchema" in action["contract"]["input"]
        assert "successSchema" in action["contract"]["output"]
    assert {action["secure"] for action in org} == {True, False}


# -------------------------------------------------------------------- loader


def test_every_demo_action_sent_back_as_read_passes_the_config_rules() -> None:
    """Each generated action that a PATCH may change takes back what a read gives,
    unchanged but for its version, even with writes that lose a URL refused.

    A `timeoutSeconds: null` read and sent back is stored as unset, the key absent.
    """
    options = EmulatorOptions(url_removal="reject")
    with (
        running_emulator(
            actions=200, seed=7, rate_limit=100_000, options=options
        ) as emu,
        httpx.Client(base_url=emu.base_url, timeout=10) as http,
    ):
        auth = bearer(get_token(http, emu.client_id, emu.client_secret))
        writable = [
            action
            for action in emu.state.stored_actions()
            if not str(action["id"]).startswith("static")
        ]
        for before in writable:
            response = send_back(http, before["id"], auth)
            assert response.status_code == 200, (before["id"], response.text)
            after = emu.state.stored_action(before["id"])
            if before["config"].get("timeoutSeconds", 0) is None:
                del before["config"]["timeoutSeconds"]
            assert after == {**before, "version": before["version"] + 1}


@needs_corpus
def test_corpus_directory_loads_exactly() -> None:
    """All 87 corpus files load in name order with every field and key order kept."""
    files = corpus_files()
    actions = load_directory(CORPUS_DIR)
    assert len(actions) == len(files) == 87
    for file, action in zip(files, actions, strict=True):
        original = json.loads(file.read_text(encoding="utf-8"))
        loaded = {key: value for key, value in action.items() if key != "id"}
        assert json.dumps(loaded) == json.dumps(original), file.name


@needs_corpus
def test_corpus_custom_auth_action_gets_its_fixed_id() -> None:
    """The corpus's custom-auth action gets the id of its integration, no other."""
    with_id = {a["name"]: a["id"] for a in load_directory(CORPUS_DIR) if "id" in a}
    assert with_id == {
        "Example Custom Auth Action": (
            "customAuth_-_00000000-0000-0000-0000-000000000000"
        )
    }


def test_files_are_read_in_name_order(tmp_path: Path) -> None:
    """Files load sorted by file name, whatever order the directory lists them."""
    for name in ("b.json", "a.json", "c.json"):
        write_file(tmp_path, name, json.dumps(action_doc(name)))
    assert [a["name"] for a in load_directory(tmp_path)] == [
        "a.json",
        "b.json",
        "c.json",
    ]


def test_explicit_ids_are_kept(tmp_path: Path) -> None:
    """A file that carries an id keeps it, even a custom-auth looking one."""
    doc = action_doc("Custom Auth", id="my-own-id", version=4)
    write_file(tmp_path, "a.json", json.dumps(doc))
    assert load_directory(tmp_path) == [doc]


def test_custom_auth_by_name_or_export_type(tmp_path: Path) -> None:
    """A name with "custom auth" or an export of type customAuth gets the fixed id."""
    write_file(tmp_path, "a.json", json.dumps(action_doc("ACME CUSTOM AUTH")))
    other = action_doc("Login", integrationId="int-2", actionType="customAuth")
    write_file(tmp_path, "b.json", json.dumps(other))
    ids = [action.get("id") for action in load_directory(tmp_path)]
    assert ids == ["customAuth_-_int-1", "customAuth_-_int-2"]


def test_taken_custom_auth_id_falls_back_to_an_ordinary_action(
    tmp_path: Path,
) -> None:
    """A second custom-auth candidate of one integration loads without an id."""
    export = action_doc("Login", actionType="customAuth")
    write_file(tmp_path, "1.json", json.dumps(export))
    write_file(tmp_path, "2.json", json.dumps(action_doc("Acme custom auth")))
    write_file(tmp_path, "3.json", json.dumps(action_doc("Another Custom Auth")))
    ids = [action.get("id") for action in load_directory(tmp_path)]
    assert ids == [None, "customAuth_-_int-1", None]


def test_custom_auth_id_taken_by_an_explicit_id(tmp_path: Path) -> None:
    """A file carrying the custom-auth id wins over a name-based candidate."""
    write_file(tmp_path, "a.json", json.dumps(action_doc("Custom Auth")))
    owner = action_doc("Owner", id="customAuth_-_int-1")
    write_file(tmp_path, "b.json", json.dumps(owner))
    ids = [action.get("id") for action in load_directory(tmp_path)]
    assert ids == [None, "customAuth_-_int-1"]


def test_invalid_json_names_the_file_and_place(tmp_path: Path) -> None:
    """A file that is not JSON is reported with its name, line and column."""
    write_file(tmp_path, "ok.json", json.dumps(action_doc("fine")))
    write_file(tmp_path, "broken.json", '{"name": "x",\n  oops}')
    with pytest.raises(UsageError, match=r"broken\.json: not valid JSON \(line 2"):
        load_directory(tmp_path)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("[1, 2]", "an array"),
        ('"text"', "a string"),
        ("null", "null"),
        ("3", "a number"),
    ],
    ids=["array", "string", "null", "number"],
)
def test_a_file_must_hold_an_object(tmp_path: Path, text: str, found: str) -> None:
    """A file holding something other than an object names the file and the type."""
    write_file(tmp_path, "odd.json", text)
    with pytest.raises(
        UsageError, match=rf"odd\.json: expected a JSON object.*, found {found}$"
    ):
        load_directory(tmp_path)


def test_undecodable_file_is_reported(tmp_path: Path) -> None:
    """A file that is not UTF-8 is reported by name."""
    write_file(tmp_path, "latin.json", b'{"name": "caf\xe9"}')
    with pytest.raises(UsageError, match=r"latin\.json: cannot read it"):
        load_directory(tmp_path)


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    """A path that is not a directory is a clear error."""
    with pytest.raises(UsageError, match="does not exist or is not a directory"):
        load_directory(tmp_path / "nowhere")


def test_directory_without_json_files_is_reported(tmp_path: Path) -> None:
    """A directory with no *.json file is an error rather than an empty org."""
    write_file(tmp_path, "notes.txt", "nothing here")
    with pytest.raises(UsageError, match=r"holds no \*\.json files"):
        load_directory(tmp_path)


# -------------------------------------------------------------- integrations


def test_demo_integrations_are_those_of_the_actions(org: list[dict[str, Any]]) -> None:
    """The demo org's eight integrations have the ids its actions carry, each named
    as the category of its actions."""
    integrations = demo_integrations(seed=7)

    by_id = {record["id"]: record["name"] for record in integrations}
    assert len(by_id) == 8
    assert {(a["integrationId"], a["category"]) for a in org} == set(by_id.items())


def test_demo_integrations_have_the_types_of_their_kind() -> None:
    """Each demo integration has the type id the platform gives its kind."""
    types = {record["name"]: record["type"] for record in demo_integrations(seed=1)}

    assert types["Acme Web Services"] == "custom-rest-actions"
    assert types["Salesforce Data Actions"] == "salesforce-datadip"
    assert types["Function Data Actions"] == "function-data-actions"


def test_a_served_demo_org_registers_its_integrations() -> None:
    """`build_state` of a demo org stores its integrations; an empty org has none."""
    state = build_state(actions=20, seed=5)

    assert state.stored_integrations() == demo_integrations(seed=5)
    assert build_state(actions=0).stored_integrations() == []


def test_a_directory_without_names_names_each_integration_by_its_id(
    tmp_path: Path,
) -> None:
    """With no integrations.json, each distinct integrationId is an integration
    named by its id, in the order the files first name them; an export's
    integrationType gives its type."""
    docs = [
        action_doc("a", integrationId="int-b"),
        action_doc("b", integrationId="int-a", integrationType="zendesk-data-actions"),
        action_doc("c", integrationId="int-b"),
    ]

    records = directory_integrations(tmp_path, docs)

    assert records == [
        {"id": "int-b", "name": "int-b"},
        {"id": "int-a", "name": "int-a", "type": "zendesk-data-actions"},
    ]


def test_integrations_file_names_the_integrations(tmp_path: Path) -> None:
    """integrations.json gives names (and types); an integration it lists that no
    action uses is kept, after the others, and the file is not loaded as an action."""
    write_file(tmp_path, "a.json", json.dumps(action_doc("a", integrationId="int-a")))
    write_file(tmp_path, "b.json", json.dumps(action_doc("b", integrationId="int-b")))
    names = [
        {"id": "int-spare", "name": "Spare"},
        {"id": "int-a", "name": "Acme REST", "type": "custom-rest-actions"},
    ]
    write_file(tmp_path, "integrations.json", json.dumps(names))

    documents = load_directory(tmp_path)
    records = directory_integrations(tmp_path, documents)

    assert [document["name"] for document in documents] == ["a", "b"]
    assert [(record["id"], record["name"]) for record in records] == [
        ("int-a", "Acme REST"),
        ("int-b", "int-b"),
        ("int-spare", "Spare"),
    ]


def test_a_served_seed_directory_registers_its_integrations(tmp_path: Path) -> None:
    """`build_state` of a seed directory stores the integrations its files name."""
    write_file(tmp_path, "a.json", json.dumps(action_doc("a", integrationId="int-a")))
    write_file(
        tmp_path, "integrations.json", json.dumps([{"id": "int-a", "name": "Acme"}])
    )

    state = build_state(seed_dir=tmp_path)

    assert state.stored_integrations() == [
        {"id": "int-a", "name": "Acme", "type": "custom-rest-actions"}
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param('{"id": "int-a"}', "expected a JSON list", id="not-a-list"),
        pytest.param('[{"name": "No Id"}]', "integration id", id="no-id"),
        pytest.param('[{"id": "x", "url": "y"}]', "unknown integration keys", id="key"),
        pytest.param("[{", "not valid JSON", id="not-json"),
    ],
)
def test_a_bad_integrations_file_names_the_file(
    tmp_path: Path, text: str, says: str
) -> None:
    """An integrations.json that is not a list of integrations is a usage error
    naming the file and what is wrong."""
    write_file(tmp_path, "integrations.json", text)

    with pytest.raises(UsageError, match=rf"integrations\.json: .*{says}"):
        directory_integrations(tmp_path, [action_doc("a")])


@needs_corpus
def test_corpus_directory_gives_one_integration_named_by_its_id() -> None:
    """Every corpus file carries the same placeholder integrationId and the corpus
    has no integrations.json, so it seeds one integration, named by its id."""
    records = directory_integrations(CORPUS_DIR, load_directory(CORPUS_DIR))

    placeholder = "00000000-0000-0000-0000-000000000000"
    assert [(record["id"], record["name"]) for record in records] == [
        (placeholder, placeholder)
    ]
