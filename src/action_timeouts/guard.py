"""Keep undo and resume from overwriting anyone else's edit of a journaled action.

`undo` and `resume` write actions a run recorded in the journal. Each write is
allowed only while the action is still what the run expects: for `undo`, the
action as the run left it, compared in full (config with its templates, name,
category and every other field but the version); for `resume`, the version the
run read. `guarded_by` turns such an expectation into the `still_wanted` guard of a
bulk change, asked on every read of the action, so a version conflict during the
undo or resume itself, which re-reads the action, finds the other editor's change
and refuses instead of writing over it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from action_timeouts.actions import (
    IGNORED_IN_VERIFY,
    READ_DEPENDENT,
    ActionsApi,
    current_timeout,
    describe_timeout,
    differences,
    invalid_timeout,
    stored_timeout,
    with_timeout,
)
from action_timeouts.journal import JournalItem

__all__ = [
    "Expectation",
    "guarded_by",
    "left_by_run",
    "refusal",
    "what_differs",
]

logger = logging.getLogger(__name__)

LONGEST_FIELD_LIST = 3  # config paths named in a refusal before "..."


@dataclass(frozen=True)
class Expectation:
    """What one action must still be for a write to it to go ahead.

    `target` is the timeout the write puts: an action already there needs no write.
    `version` is a version known to hold what is expected. `content` is the action
    expected (templates inline), compared in full when the version differs; with
    no `content` only `version` is accepted. `label` names whose content it is in
    a refusal ("run left").
    """

    target: int | None
    version: int | None
    content: Mapping[str, Any] | None = None
    label: str = "run left"


def left_by_run(item: JournalItem) -> dict[str, Any] | None:
    """Return the action as a run left it: its journaled copy with the change made.

    None when the journal holds no copy with a config (a run of an older release).
    """
    before = item.before
    if not isinstance(before, Mapping) or not isinstance(before.get("config"), Mapping):
        return None
    return {**before, "config": with_timeout(before["config"], item.new_timeout)}


def what_differs(
    expected: Mapping[str, Any], now: Mapping[str, Any], label: str
) -> list[str]:
    """Say how an action (templates inline) differs from the one expected, or []."""
    found: list[str] = []
    config = differences(expected.get("config"), now.get("config"))
    if "timeoutSeconds" in config:
        found.append(
            f"timeout now {describe_timeout(stored_timeout(now))}, {label} "
            f"{describe_timeout(stored_timeout(expected))}"
        )
    others = [path for path in config if path != "timeoutSeconds"]
    if others:
        named = ", ".join(others[:LONGEST_FIELD_LIST])
        more = ", ..." if len(others) > LONGEST_FIELD_LIST else ""
        found.append(f"its config changed since ({named}{more})")
    for key in sorted(set(expected) | set(now)):
        if key in IGNORED_IN_VERIFY or (
            key in READ_DEPENDENT and (key not in expected or key not in now)
        ):
            continue
        if expected.get(key) != now.get(key):
            found.append(f"its {key} changed since")
    return found


def refusal(
    api: ActionsApi, action: Mapping[str, Any], expected: Expectation
) -> str | None:
    """Say why `action` (as just read) may not be written, or None when it may.

    Templates are downloaded, through `api`, only when the version is not the one
    expected. An action already at the target is never refused: nothing is written.
    An action whose stored timeout is invalid (`timeouts.invalid_timeout`) is always
    refused: no run writes such a value, so someone else did, and it is kept.
    """
    problem = invalid_timeout(action)
    if problem is not None:
        return problem
    if current_timeout(action) == expected.target:
        return None
    if action.get("version") == expected.version:
        return None
    if expected.content is None:
        return (
            f"changed by someone else since (version {action.get('version')}, "
            f"expected {expected.version})"
        )
    now = {**action, "config": api.inline_templates(action)}
    found = what_differs(expected.content, now, expected.label)
    if not found:
        return None
    return f"changed by someone else since: {'; '.join(found)}"


def guarded_by(
    api: ActionsApi, expected: Expectation
) -> Callable[[Mapping[str, Any]], str | None]:
    """Return a `still_wanted` guard that refuses an action no longer as expected."""

    def still_wanted(action: Mapping[str, Any]) -> str | None:
        reason = refusal(api, action, expected)
        if reason is not None:
            logger.info("not changing %s: %s", action.get("id"), reason)
        return reason

    return still_wanted
