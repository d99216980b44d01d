"""Serving the emulator, seeding it, and the stored truth tests compare against."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from action_timeouts.emulator.options import EmulatorOptions
from action_timeouts.emulator.server import (
    build_state,
    is_loopback,
    running_emulator,
    serve,
)
from action_timeouts.emulator.state import EmulatorState
from corpus import CORPUS_DIR, corpus_files, needs_corpus

from .helpers import ACTIONS, get_token, http_action


def corpus_docs() -> list[dict[str, Any]]:
    """Return every corpus action document."""
    return [json.loads(path.read_text("utf-8")) for path in corpus_files()]


def test_demo_org_has_the_asked_number_of_actions() -> None:
    """`running_emulator(actions=N)` seeds a generated org of N actions."""
    with running_emulator(actions=12, seed=3) as emu:
        assert len(emu.state.stored_actions()) == 12


def test_same_seed_gives_the_same_org() -> None:
    """Two emulators started with the same seed hold the same actions."""
    with running_emulator(actions=5, seed=9) as first:
        one = first.state.stored_actions()
    with running_emulator(actions=5, seed=9) as second:
        two = second.state.stored_actions()

    assert one == two


@needs_corpus
def test_seed_dir_loads_the_corpus() -> None:
    """`seed_dir` loads a directory of action files instead of a demo org."""
    with running_emulator(seed_dir=CORPUS_DIR) as emu:
        names = sorted(action["name"] for action in emu.state.stored_actions())

    assert names == sorted(doc["name"] for doc in corpus_docs())


def test_each_run_has_its_own_secret() -> None:
    """Every run generates a fresh client secret, and it works."""
    with running_emulator(actions=0) as first:
        first_secret = first.client_secret
    with (
        running_emulator(actions=0) as emu,
        httpx.Client(base_url=emu.base_url) as http,
    ):
        token = get_token(http, emu.client_id, emu.client_secret)

    assert emu.client_id == "emulator-client"
    assert emu.client_secret != first_secret
    assert token


def test_serves_on_loopback_and_stops_cleanly() -> None:
    """The server listens on 127.0.0.1 and stops accepting when the block ends."""
    with running_emulator(actions=0) as emu:
        base_url = emu.base_url
        assert base_url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{base_url}/__emulator__/options").status_code == 200

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/__emulator__/options")


def test_rate_limit_argument_sets_the_option() -> None:
    """`rate_limit` becomes the per-client budget."""
    with running_emulator(actions=0, rate_limit=7) as emu:
        assert emu.state.options.rate_limit_per_minute == 7


def test_options_argument_is_used() -> None:
    """`options` sets the emulator's switches."""
    options = EmulatorOptions(patch_mode="merge", conflict_status=400)

    with running_emulator(actions=0, options=options) as emu:
        assert emu.state.options == options


def test_latency_argument_delays_answers_and_survives_reset() -> None:
    """`latency_ms` delays every answer, also after `reset` and `clear_faults`."""
    with running_emulator(actions=0, latency_ms=120) as emu:
        emu.state.reset()
        emu.state.clear_faults()
        with httpx.Client(base_url=emu.base_url) as http:
            started = time.monotonic()
            get_token(http, emu.client_id, emu.client_secret)

    assert time.monotonic() - started >= 0.12


@needs_corpus
def test_load_actions_keeps_every_field() -> None:
    """Loaded documents are stored exactly, plus an id and version 1."""
    state = EmulatorState()
    docs = corpus_docs()

    ids = state.load_actions(docs)

    for action_id, doc in zip(ids, docs, strict=True):
        stored = state.stored_action(action_id)
        assert stored.pop("version") == doc.get("version", 1)
        if "id" not in doc:
            stored.pop("id")
        assert stored == doc


def test_load_actions_keeps_given_ids_and_versions() -> None:
    """A document's own id and version are kept; `selfUri` is dropped."""
    state = EmulatorState()
    doc = {**http_action("given-id", "Given"), "version": 7, "selfUri": "/x"}

    state.load_actions([doc])

    stored = state.stored_action("given-id")
    assert stored["version"] == 7
    assert "selfUri" not in stored


def test_generated_ids_follow_the_seed() -> None:
    """Ids given to documents without one are reproducible from the seed."""
    doc = {"name": "No Id"}

    first = EmulatorState(seed=4).load_actions([doc])
    second = EmulatorState(seed=4).load_actions([doc])

    assert first == second


def test_stored_action_of_an_unknown_id_raises() -> None:
    """`stored_action` raises KeyError for an unknown id."""
    with pytest.raises(KeyError):
        EmulatorState().stored_action("nothing")


def test_stored_copies_are_independent() -> None:
    """Changing a returned copy does not change the stored truth."""
    state = EmulatorState()
    state.load_actions([http_action("a", "A")])

    state.stored_action("a")["name"] = "Changed"

    assert state.stored_action("a")["name"] == "A"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"patch_mode": "patch"}, id="patch-mode"),
        pytest.param({"token_error_status": 403}, id="token-status"),
        pytest.param({"static_patch_status": 404}, id="static-status"),
        pytest.param({"rate_limit_per_minute": 0}, id="rate-limit"),
        pytest.param({"execution_timeout_status": 200}, id="timeout-status"),
    ],
)
def test_options_refuse_values_outside_their_choices(changes: dict[str, Any]) -> None:
    """EmulatorOptions accepts only the documented choices."""
    with pytest.raises(ValueError, match=next(iter(changes))):
        EmulatorOptions(**changes)


def test_reset_restores_the_starting_options() -> None:
    """`reset` brings back the options the state was created with."""
    state = EmulatorState(EmulatorOptions(conflict_status=400))
    state.set_options(conflict_status=409, patch_mode="merge")

    state.reset()

    assert state.options == EmulatorOptions(conflict_status=400)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("127.0.0.1", True, id="ipv4"),
        pytest.param("::1", True, id="ipv6"),
        pytest.param("localhost", True, id="localhost"),
        pytest.param("0.0.0.0", False, id="any"),
        pytest.param("example.invalid", False, id="name"),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    """Only loopback addresses count as local."""
    assert is_loopback(host) is expected


def test_serve_refuses_a_public_host_by_default() -> None:
    """The unauthenticated control plane is never exposed by accident."""
    with pytest.raises(ValueError, match="loopback"):
        serve("0.0.0.0", 0, state=EmulatorState())


def test_api_answers_with_actions_of_the_demo_org() -> None:
    """A demo org is reachable through the API like a real org."""
    with (
        running_emulator(actions=8, seed=2) as emu,
        httpx.Client(base_url=emu.base_url) as http,
    ):
        token = get_token(http, emu.client_id, emu.client_secret)
        headers = {"Authorization": f"Bearer {token}"}
        page = http.get(ACTIONS, params={"includeAuthActions": "true"}, headers=headers)

    assert page.json()["total"] == 8


def test_running_emulator_sets_the_function_timeouts_of_a_generated_org() -> None:
    """`running_emulator` gives generated function actions their seeded timeouts."""
    expected = build_state(actions=60, seed=4)
    functions = [
        action["id"]
        for action in expected.stored_actions()
        if expected.action_kind(action["id"]) == "function"
    ]
    with (
        running_emulator(actions=60, seed=4) as emu,
        httpx.Client(base_url=emu.base_url) as http,
    ):
        token = get_token(http, emu.client_id, emu.client_secret)
        headers = {"Authorization": f"Bearer {token}"}
        served = {
            action_id: http.get(f"{ACTIONS}/{action_id}/function", headers=headers)
            for action_id in functions
        }

    seconds = {key: answer.json()["timeoutSeconds"] for key, answer in served.items()}
    assert seconds == {key: expected.function_timeout(key) for key in functions}
    assert set(seconds.values()) != {15}
