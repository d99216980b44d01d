"""Keep resume from overwriting anyone else's edit of a journaled action.

`resume` writes actions a run recorded in the journal. Each write is allowed only
while the action is still at the version the run read. `GuardedActions` repeats
the check on every read of such an action, so a version conflict during the
resume itself, which re-reads the action, finds the other editor's change and
refuses instead of writing over it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from action_timeouts.actions import ActionsApi, Transport, current_timeout
from action_timeouts.bulk import _RefusalError as RefusedChangeError

__all__ = ["Expectation", "GuardedActions", "RefusedChangeError"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Expectation:
    """What one action must still be for a write to it to go ahead.

    `target` is the timeout the write puts: an action already there needs no write.
    `version` is the version the action must still have.
    """

    target: int | None
    version: int | None


class GuardedActions(ActionsApi):
    """An ActionsApi whose every read of a guarded action checks it as expected.

    A read that finds the action changed by someone else raises RefusedChangeError,
    so the change is recorded refused, with the reason, and nothing is written.
    """

    def __init__(
        self, client: Transport, expectations: Mapping[str, Expectation]
    ) -> None:
        super().__init__(client)
        self.expectations = dict(expectations)

    def get(self, action_id: str) -> dict[str, Any]:
        """Read one action; refuse it when it is no longer as expected."""
        action = super().get(action_id)
        expected = self.expectations.get(action_id)
        if expected is not None:
            reason = self.refusal(action, expected)
            if reason is not None:
                logger.info("not changing %s: %s", action_id, reason)
                raise RefusedChangeError(reason)
        return action

    def refusal(self, action: Mapping[str, Any], expected: Expectation) -> str | None:
        """Say why `action` (as read) may not be written, or None when it may."""
        if current_timeout(action) == expected.target:
            return None
        if action.get("version") == expected.version:
            return None
        return (
            f"changed by someone else since (version {action.get('version')}, "
            f"expected {expected.version})"
        )
