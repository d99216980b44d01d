"""What undo and resume may write over: an action compared with what a run left."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from action_timeouts.guard import left_by_run, what_differs
from action_timeouts.journal import JournalItem


def action(timeout: int | None = 15) -> dict[str, Any]:
    """An action with templates inline, as the journal keeps it."""
    config: dict[str, Any] = {
        "request": {"requestUrlTemplate": "https://x.invalid", "requestTemplate": "{}"}
    }
    if timeout is not None:
        config["timeoutSeconds"] = timeout
    return {
        "id": "a1",
        "name": "Lookup",
        "category": "C",
        "version": 3,
        "config": config,
    }


def item(before: dict[str, Any] | None, new: int | None) -> JournalItem:
    """A journal item of a run that changed `before` to `new`."""
    return JournalItem("r", "a1", "Lookup", before, 3, 5, new, "verified", None, 4, "t")


def test_left_by_run_is_the_copy_with_the_change_made() -> None:
    """The action as a run left it: its journaled copy at the new timeout."""
    assert left_by_run(item(action(5), None)) == action(None)


def test_left_by_run_needs_a_copy_with_a_config() -> None:
    """Without a journaled copy there is nothing to compare with."""
    assert left_by_run(item(None, 15)) is None


def edited(**changes: Any) -> dict[str, Any]:
    """The action with some of its parts changed, and a new version."""
    now = copy.deepcopy(action())
    now["version"] = 9
    for key, value in changes.items():
        if key == "template":
            now["config"]["request"]["requestTemplate"] = value
        elif key == "timeout":
            now["config"]["timeoutSeconds"] = value
        else:
            now[key] = value
    return now


@pytest.mark.parametrize(
    ("now", "found"),
    [
        pytest.param(edited(), [], id="only-the-version"),
        pytest.param(
            edited(timeout=30), ["timeout now 30 s, run left 15 s"], id="timeout"
        ),
        pytest.param(
            edited(template="{ }"),
            ["its config changed since (request.requestTemplate)"],
            id="template",
        ),
        pytest.param(
            edited(name="Other", category="D"),
            ["its category changed since", "its name changed since"],
            id="name-and-category",
        ),
        pytest.param(
            {**edited(), "contract": {"input": {}}}, [], id="contract-only-one-side"
        ),
    ],
)
def test_what_differs_names_each_part(now: dict[str, Any], found: list[str]) -> None:
    """Each part that differs is named; the version and read-dependent parts are not."""
    assert what_differs(action(), now, "run left") == found
