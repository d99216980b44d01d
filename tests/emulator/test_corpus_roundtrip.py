"""Every corpus action survives loading into the emulator and reading back over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from action_timeouts.emulator.options import EmulatorOptions
from action_timeouts.emulator.server import running_emulator
from corpus import CORPUS_DIR, MISSING_REASON, corpus_files, corpus_present

from .helpers import ACTIONS, CONTROL, bearer, get_token, read_as_client, send_back

if not corpus_present():
    pytest.skip(MISSING_REASON, allow_module_level=True)
FILES = corpus_files()
# The API's Action model has no place for these keys of admin-UI exports.
EXPORT_ONLY_KEYS = ("integrationType", "actionType")


@dataclass
class CorpusOrg:
    """An emulator seeded from the corpus, with a logged-in HTTP client."""

    http: httpx.Client
    ids: dict[str, str]
    stored: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def org() -> Iterator[CorpusOrg]:
    """Serve the corpus directory, map file names to action ids and log in."""
    with running_emulator(seed_dir=CORPUS_DIR, rate_limit=100_000) as emu:
        stored = emu.state.stored_actions()
        ids = {
            file.name: action["id"] for file, action in zip(FILES, stored, strict=True)
        }
        with httpx.Client(base_url=emu.base_url, timeout=10) as http:
            http.headers.update(
                bearer(get_token(http, emu.client_id, emu.client_secret))
            )
            yield CorpusOrg(http, ids, {action["id"]: action for action in stored})


@pytest.fixture(scope="module")
def writable_org() -> Iterator[CorpusOrg]:
    """Like `org`, for tests that write, with writes that lose a URL refused."""
    options = EmulatorOptions(url_removal="reject")
    with running_emulator(
        seed_dir=CORPUS_DIR, rate_limit=100_000, options=options
    ) as emu:
        stored = emu.state.stored_actions()
        ids = {
            file.name: action["id"] for file, action in zip(FILES, stored, strict=True)
        }
        with httpx.Client(base_url=emu.base_url, timeout=10) as http:
            http.headers.update(
                bearer(get_token(http, emu.client_id, emu.client_secret))
            )
            yield CorpusOrg(http, ids, {action["id"]: action for action in stored})


def canonical(document: Any) -> str:
    """Return JSON text that tells apart every value (true from 1, 1 from 1.0)."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False)


def read_file(file: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return document


def read_back(http: httpx.Client, action_id: str) -> dict[str, Any]:
    """Read an action as a careful client does, without what the emulator assigns."""
    action = read_as_client(http, action_id)
    for key in ("id", "version", "selfUri"):
        action.pop(key)
    return action


def as_the_api_shows(document: dict[str, Any]) -> dict[str, Any]:
    """Return a file's action restricted to the API model, `secure` always shown."""
    shown = {
        key: value for key, value in document.items() if key not in EXPORT_ONLY_KEYS
    }
    shown.setdefault("secure", False)
    return shown


def test_corpus_has_every_file() -> None:
    """The corpus directory holds the 87 action files the tests expect."""
    assert len(FILES) == 87


@pytest.mark.parametrize("file", FILES, ids=[file.stem for file in FILES])
def test_stored_truth_equals_the_file(org: CorpusOrg, file: Path) -> None:
    """The emulator stores every field of the file, key order included."""
    stored = dict(org.stored[org.ids[file.name]])
    assert stored.pop("version") == 1
    if "id" not in read_file(file):
        stored.pop("id")
    assert json.dumps(stored) == json.dumps(read_file(file))


@pytest.mark.parametrize("file", FILES, ids=[file.stem for file in FILES])
def test_http_read_back_equals_the_file(org: CorpusOrg, file: Path) -> None:
    """GET with config and contract, plus both template files, gives the file back."""
    action = read_back(org.http, org.ids[file.name])
    assert canonical(action) == canonical(read_file(file))


WRITABLE = [
    file for file in FILES if not read_file(file).get("id", "").startswith("static")
]


@pytest.mark.parametrize("file", WRITABLE, ids=[file.stem for file in WRITABLE])
def test_sending_back_what_was_read_passes_every_config_rule(
    writable_org: CorpusOrg, file: Path
) -> None:
    """A PATCH of exactly what a read gives is accepted and changes only `version`."""
    action_id = writable_org.ids[file.name]

    response = send_back(writable_org.http, action_id)

    assert response.status_code == 200, response.text
    after = writable_org.http.get(f"{CONTROL}/actions/{action_id}").json()
    assert after.pop("version") == 2
    before = dict(writable_org.stored[action_id])
    before.pop("version")
    assert canonical(after) == canonical(before)


@pytest.mark.parametrize("file", FILES[:12], ids=[file.stem for file in FILES[:12]])
def test_model_fields_only_view(file: Path) -> None:
    """With `model_fields_only`, export-only keys are hidden and `secure` shown."""
    options = EmulatorOptions(model_fields_only=True)
    with running_emulator(seed_dir=CORPUS_DIR, options=options) as emu:
        action_id = emu.state.stored_actions()[FILES.index(file)]["id"]
        with httpx.Client(base_url=emu.base_url, timeout=10) as http:
            http.headers.update(
                bearer(get_token(http, emu.client_id, emu.client_secret))
            )
            action = read_back(http, action_id)
    assert canonical(action) == canonical(as_the_api_shows(read_file(file)))


def test_templates_are_served_as_links_only(org: CorpusOrg) -> None:
    """No listed action carries template text inline, only the two links."""
    response = org.http.get(
        ACTIONS,
        params={"includeConfig": "true", "includeAuthActions": "true", "pageSize": 100},
    )
    for action in response.json()["entities"]:
        config = action.get("config", {})
        assert "requestTemplate" not in config.get("request", {})
        assert "successTemplate" not in config.get("response", {})


def test_custom_auth_action_is_listed_only_on_request(org: CorpusOrg) -> None:
    """The custom-auth corpus action is hidden unless includeAuthActions=true."""
    custom_id = org.ids["087-example-custom-auth-action.json"]
    assert custom_id.startswith("customAuth_-_")

    def listed(**params: Any) -> list[str]:
        page = org.http.get(ACTIONS, params={"pageSize": 100, **params}).json()
        return [action["id"] for action in page["entities"]]

    assert custom_id not in listed()
    assert len(listed()) == 86
    everything = listed(includeAuthActions="true")
    assert sorted(everything) == sorted(org.ids.values())
