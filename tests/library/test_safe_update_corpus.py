"""Every corpus action keeps everything but its timeout through a real change.

The emulator is seeded with every file of the shared corpus (plus one built-in
action, which the corpus lacks) and each action is changed through the real client,
in each of the emulator's PATCH and conflict variants. The stored truth is compared
before and after: only `config.timeoutSeconds` and `version` may move, and no other
action may move at all.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from action_timeouts.actions import (
    ActionKind,
    ActionsApi,
    action_kind,
    current_timeout,
    set_timeout,
)
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.errors import ActionRefusedError, VerificationError
from corpus import MISSING_REASON, corpus_files, corpus_present

from .emulated import (
    changed_paths,
    corpus_documents,
    requests,
    unexpected_changes,
)

STATIC_LABEL = "static-builtin-copy"
PRESET_TIMEOUT = 25
VARIANTS = {
    "replace-409": {},
    "merge-409": {"patch_mode": "merge"},
    "replace-400": {"conflict_status": 400},
}

if not corpus_present():
    pytest.skip(MISSING_REASON, allow_module_level=True)


def _documents() -> list[tuple[str, dict[str, Any]]]:
    """Return the corpus, plus a built-in copy of its first action."""
    documents = corpus_documents()
    static = copy.deepcopy(documents[0][1])
    static["id"] = "static_0f8e2b7c-1d2a-4c55-9a0e-3b1f5d6e7a89"
    static["category"] = "Genesys Cloud Data Actions"
    return [*documents, (STATIC_LABEL, static)]


DOCUMENTS = _documents()
REFUSED = [
    label
    for label, doc in DOCUMENTS
    if "id" in doc and action_kind(doc) in (ActionKind.CUSTOM_AUTH, ActionKind.STATIC)
]
CHANGEABLE = [label for label, _ in DOCUMENTS if label not in REFUSED]


def _with_preset(documents: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Return each document by label, changeable ones with a preset timeout."""
    preset = copy.deepcopy(dict(documents))
    for label in CHANGEABLE:
        preset[label]["config"]["timeoutSeconds"] = PRESET_TIMEOUT
    return preset


BY_LABEL = dict(DOCUMENTS)
PRESET = _with_preset(DOCUMENTS)


def seed_org(
    emu: RunningEmulator, documents: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """Load every document; return label -> id."""
    ids = emu.state.load_actions(documents.values())
    return dict(zip(documents, ids, strict=True))


def seed_one(emu: RunningEmulator, document: dict[str, Any]) -> dict[str, Any]:
    """Load one document and return it as stored."""
    (action_id,) = emu.state.load_actions([document])
    return emu.state.stored_action(action_id)


def problems(
    before: dict[str, Any], after: dict[str, Any], *, timeout: int | None, bumps: int
) -> list[str]:
    """Describe how a stored action differs from `before` beyond what was asked."""
    found = unexpected_changes(before, after)
    config = after.get("config", {})
    if timeout is None and "timeoutSeconds" in config:
        found.append(f"timeoutSeconds still present: {config['timeoutSeconds']!r}")
    if timeout is not None and config.get("timeoutSeconds") != timeout:
        found.append(f"timeoutSeconds is {config.get('timeoutSeconds')!r}")
    if after["version"] != before["version"] + bumps:
        found.append(f"version {before['version']} -> {after['version']}")
    return found


def report(
    ids: dict[str, str],
    before: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
    expected: dict[str, tuple[int | None, int]],
) -> dict[str, list[str]]:
    """Map each label whose action is not as `expected` to why.

    `expected` gives, per label, the timeout it must have (None: absent) and how
    many versions it must have moved; any other action must be exactly as before.
    """
    found = {}
    for label, action_id in ids.items():
        old, new = before[action_id], after[action_id]
        if label in expected:
            timeout, bumps = expected[label]
            wrong = problems(old, new, timeout=timeout, bumps=bumps)
        else:
            wrong = changed_paths(old, new)
        if wrong:
            found[label] = wrong
    return found


def new_timeout(action: dict[str, Any]) -> int:
    """Return 10, or 11 for an action that already has 10."""
    return 11 if current_timeout(action) == 10 else 10


def stored_by_id(emu: RunningEmulator) -> dict[str, dict[str, Any]]:
    """Return every stored action by id."""
    return {action["id"]: action for action in emu.state.stored_actions()}


def test_corpus_holds_every_kind() -> None:
    """The corpus run covers standard, function, custom-auth and built-in actions."""
    kinds = {action_kind({"id": "x", **doc}) for _, doc in DOCUMENTS}
    refused = {action_kind(doc) for _, doc in DOCUMENTS if "id" in doc}

    assert {ActionKind.STANDARD, ActionKind.FUNCTION} <= kinds
    assert {ActionKind.CUSTOM_AUTH, ActionKind.STATIC} <= refused
    assert len(DOCUMENTS) == len(corpus_files()) + 1


@pytest.mark.parametrize("options", VARIANTS.values(), ids=VARIANTS.keys())
def test_set_changes_only_timeout_and_version(
    emu: RunningEmulator, api: ActionsApi, options: dict[str, Any]
) -> None:
    """Setting each action's timeout in turn moves nothing else, in any action."""
    emu.state.set_options(**options)
    ids = seed_org(emu, BY_LABEL)
    before = stored_by_id(emu)
    racing = options.get("conflict_status") == 400
    for label in CHANGEABLE if racing else ():
        emu.state.concurrent_edit(ids[label])
    wanted = {label: new_timeout(before[ids[label]]) for label in CHANGEABLE}

    results = {label: set_timeout(api, ids[label], wanted[label]) for label in wanted}

    expected = {label: (wanted[label], 1 + racing) for label in wanted}
    assert report(ids, before, stored_by_id(emu), expected) == {}
    outcomes = {(result.outcome, result.conflicts) for result in results.values()}
    assert outcomes == {("changed", int(racing))}
    assert len(requests(emu, "PATCH")) == len(CHANGEABLE) * (1 + racing)


@pytest.mark.parametrize("options", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.parametrize("label", REFUSED)
def test_refused_kinds_send_nothing(
    emu: RunningEmulator, api: ActionsApi, label: str, options: dict[str, Any]
) -> None:
    """Custom-auth and built-in actions are refused locally, with no request at all."""
    emu.state.set_options(**options)
    before = seed_one(emu, BY_LABEL[label])

    with pytest.raises(ActionRefusedError) as caught:
        set_timeout(api, before["id"], 10)

    assert caught.value.action_id == before["id"]
    assert emu.state.request_log() == []
    assert emu.state.stored_action(before["id"]) == before


def test_unset_removes_the_key_in_replace_mode(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """Unsetting removes each action's `timeoutSeconds` and changes nothing else."""
    ids = seed_org(emu, PRESET)
    before = stored_by_id(emu)

    results = [set_timeout(api, ids[label], None) for label in CHANGEABLE]

    expected = dict.fromkeys(CHANGEABLE, (None, 1))
    assert report(ids, before, stored_by_id(emu), expected) == {}
    summary = {(result.old, result.new, result.outcome) for result in results}
    assert summary == {(PRESET_TIMEOUT, None, "changed")}


def test_unset_in_merge_mode_is_caught_by_verification(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """A merging PATCH keeps the timeout; verification says so; nothing else moved."""
    emu.state.set_options(patch_mode="merge")
    ids = seed_org(emu, PRESET)
    before = stored_by_id(emu)
    named: dict[str, list[str]] = {}

    for label in CHANGEABLE:
        with pytest.raises(VerificationError) as caught:
            set_timeout(api, ids[label], None)
        named[label] = caught.value.fields

    assert named == {label: ["config.timeoutSeconds"] for label in CHANGEABLE}
    expected = dict.fromkeys(CHANGEABLE, (PRESET_TIMEOUT, 1))
    assert report(ids, before, stored_by_id(emu), expected) == {}
