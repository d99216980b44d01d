"""Apply a plan to many actions at once, journaled, verified, undoable and resumable."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from action_timeouts.actions import (
    ActionsApi,
    ChangeResult,
    StillWanted,
    all_wanted,
    current_timeout,
    set_timeout,
    timeout_unchanged,
    verify,
    verify_listed,
    version_unchanged,
)
from action_timeouts.errors import (
    ActionTimeoutsError,
    AuthenticationError,
    ChangedSinceError,
    InUseError,
    JournalWriteError,
    PermissionDeniedError,
    TimeoutNotClearedError,
)

if TYPE_CHECKING:
    from action_timeouts.journal import Journal
    from action_timeouts.plan import Plan

__all__ = [
    "DEFAULT_WORKERS",
    "FATAL_ERRORS",
    "JOURNAL_ERRORS",
    "Change",
    "Progress",
    "RunReport",
    "Runner",
    "changes_from_plan",
]

logger = logging.getLogger(__name__)

DEFAULT_WORKERS = 8
# A journal that cannot record a write (another process holds it locked, the disk
# is full): no write may be sent whose intent is not on disk.
JOURNAL_ERRORS = (InUseError, JournalWriteError)
# Errors that would fail every remaining action the same way: stop the run.
FATAL_ERRORS = (AuthenticationError, PermissionDeniedError, *JOURNAL_ERRORS)
Progress = Callable[[str, str], None]  # (action id, outcome)


@dataclass
class Change:
    """One action to change: where it is now and where it should go.

    `known` is the action as already read (the listing a plan was made from).
    `expected_version` and `still_wanted` guard a change decided earlier: each read
    before a write, the first and every re-read after a version conflict, must still
    be at `expected_version` and satisfy `still_wanted` (see `set_timeout`), or the
    action is refused and left as it is. With `expected_version` the action is read
    afresh rather than taken from `known`.
    """

    action_id: str
    new: int | None
    known: Mapping[str, Any] | None = None
    expected_version: int | None = None
    still_wanted: StillWanted | None = None


@dataclass
class RunReport:
    """Counts and failures of one bulk run."""

    run_id: str | None
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    not_attempted: list[str] = field(default_factory=list)
    stopped_by: ActionTimeoutsError | None = None
    """The error that stopped the run (one of `FATAL_ERRORS`), or None."""
    stopped_at: str | None = None
    """The action whose change met `stopped_by`."""

    @property
    def ok(self) -> bool:
        """Tell whether every attempted change succeeded."""
        return not self.failed and not self.not_attempted

    def outcomes(self) -> dict[str, str]:
        """Map each action this run touched to what happened to it."""
        found = dict.fromkeys(self.changed, "changed")
        found.update(dict.fromkeys(self.unchanged, "unchanged"))
        found.update(dict.fromkeys(self.not_attempted, "not attempted"))
        found.update(dict.fromkeys(self.refused, "refused"))
        found.update(dict.fromkeys(self.failed, "failed"))
        found.update(dict.fromkeys(self.refused_by_server(), "failed"))
        return found

    def reasons(self) -> dict[str, str]:
        """Map each action refused or failed to why, the one that stopped a run too."""
        return {**self.refused, **self.failed, **self.refused_by_server()}

    def refused_by_server(self) -> dict[str, str]:
        """The change the server refused when an error stopped the run, and why.

        It stays pending in the journal, so `resume` sends it again once the cause
        is fixed; for people it failed. A journal that could not record is no
        refusal of the server.
        """
        stopped_at, error = self.stopped_at, self.stopped_by
        if stopped_at not in self.not_attempted or error is None:
            return {}
        if isinstance(error, JOURNAL_ERRORS):
            return {}
        return {stopped_at: str(error)}


class Runner:
    """Runs changes concurrently through one shared client, journaling each one."""

    def __init__(
        self,
        api: ActionsApi,
        journal: Journal | None,
        run_id: str | None,
        *,
        workers: int = DEFAULT_WORKERS,
        progress: Progress | None = None,
        first_alone: bool = False,
    ) -> None:
        self.api = api
        self.journal = journal
        self.run_id = run_id
        self.workers = max(1, workers)
        self.progress = progress
        self.first_alone = first_alone
        self.report = RunReport(run_id)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._results: dict[str, ChangeResult] = {}

    def run(self, changes: Iterable[Change]) -> RunReport:
        """Apply every change, then verify all of them with one listing.

        An exception in the calling thread (Ctrl-C) stops the run at once: changes
        not started are dropped and workers are not waited for, since one may be
        waiting out a long rate-limit pause. Every intent is already journaled.

        An error of `FATAL_ERRORS` stops the run too; it is in `stopped_by`, and the
        refused change stays pending in the journal, with the ones not started, for
        `resume` once the cause is fixed. With `first_alone` the first change is
        made before any other starts, so such an error costs one write, not one per
        worker. A journal that cannot record an outcome stops the run the same way;
        the changes made are then left unverified, since the journal could not
        record their verification, and `resume` reads them back.

        A run that clears timeouts makes its first clearing change alone, before
        any other, and reads it back at once: on a platform that merges config
        the timeout stays, every other clearing would end the same way, so the run
        stops there (`stopped_by` is a TimeoutNotClearedError, that action failed,
        the rest pending).
        """
        pending = list(changes)
        clearing = [index for index, one in enumerate(pending) if one.new is None]
        if clearing:
            self._apply_one(pending.pop(clearing[0]), read_back=True)
        elif self.first_alone and pending:
            self._apply_one(pending.pop(0))
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="apply")
        try:
            list(pool.map(self._apply_one, pending))
        except BaseException:
            self._stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        self._verify_all()
        return self.report

    def _apply_one(self, change: Change, *, read_back: bool = False) -> None:
        if self._stop.is_set():
            self._note(change.action_id, "not attempted", self.report.not_attempted)
            return
        try:
            result = self._change(change, read_back=read_back)
        except TimeoutNotClearedError as error:
            # Sent and read back: failed, and no other clearing is worth sending.
            self._halt(change.action_id, error)
            self._fail(change.action_id, error)
        except FATAL_ERRORS as error:
            # Left pending, not failed: `resume` reads the action and decides.
            self._halt(change.action_id, error)
            self._note(change.action_id, "not attempted", self.report.not_attempted)
        except ActionTimeoutsError as error:
            self._fail(change.action_id, error)
        else:
            self._record_result(result)

    def _halt(self, action_id: str, error: ActionTimeoutsError) -> None:
        """Stop the run: no change starts after this one."""
        self._stop.set()
        with self._lock:
            if self.report.stopped_by is None:
                self.report.stopped_by, self.report.stopped_at = error, action_id
        logger.info("run stopped at %s: %s", action_id, error)

    def _change(self, change: Change, *, read_back: bool) -> ChangeResult:
        known, guard = change.known, change.still_wanted
        if change.expected_version is not None:
            known = None
            guard = all_wanted(guard, version_unchanged(change.expected_version))
        return set_timeout(
            self.api,
            change.action_id,
            change.new,
            known=known,
            before_write=self._journal_intent(change),
            read_back=read_back,
            still_wanted=guard,
        )

    def _journal_intent(
        self, change: Change
    ) -> Callable[[dict[str, Any], dict[str, Any]], None] | None:
        journal, run_id = self.journal, self.run_id
        if journal is None or run_id is None:
            return None

        def record(action: dict[str, Any], _body: dict[str, Any]) -> None:
            journal.record_intent(
                run_id, change.action_id, action, current_timeout(action), change.new
            )

        return record

    def _record_result(self, result: ChangeResult) -> None:
        with self._lock:
            self._results[result.action_id] = result
        if result.outcome == "unchanged":
            self._outcome(result.action_id, "unchanged", after_version=None)
            self._note(result.action_id, "unchanged", self.report.unchanged)
            return
        self._outcome(result.action_id, "changed", after_version=result.version_after)
        self._note(result.action_id, "changed", self.report.changed)

    def _fail(self, action_id: str, error: Exception) -> None:
        reason = str(error)
        if isinstance(error, ChangedSinceError):
            reason = error.reason
            self._outcome(action_id, "refused", reason=reason)
            with self._lock:
                self.report.refused[action_id] = reason
            self._tell(action_id, "refused")
            return
        logger.warning("action %s failed: %s", action_id, reason)
        self._outcome(action_id, "failed", reason=reason)
        with self._lock:
            self.report.failed[action_id] = reason
        self._tell(action_id, "failed")

    def _verify_all(self) -> None:
        """Re-list once and check every changed action against what was intended.

        The listing shows templates as links, so templates are checked by presence
        (`verify_listed`) and not downloaded again: that would cost one request per
        template. An action missing from the listing, or every action when the
        listing fails, is read and checked in full: its templates byte for byte and
        its other fields against the action as read before the change.
        """
        changed = {
            key: result
            for key, result in self._results.items()
            if result.outcome == "changed" and result.intended is not None
        }
        if not changed or isinstance(self.report.stopped_by, JOURNAL_ERRORS):
            return
        try:
            listed = {item["id"]: item for item in self.api.list_all().actions}
        except ActionTimeoutsError as error:
            listed = {}
            logger.warning("bulk read-back failed (%s); reading one by one", error)
        for action_id, result in changed.items():
            self._verify_one(action_id, result, listed.get(action_id))

    def _verify_one(
        self, action_id: str, result: ChangeResult, listed: Mapping[str, Any] | None
    ) -> None:
        assert result.intended is not None
        try:
            if listed is not None:
                after = listed
                verify_listed(result.before or after, after, result.intended)
            else:
                after = self.api.get(action_id)
                verify(self.api, result.before or after, after, result.intended)
        except ActionTimeoutsError as error:
            with self._lock:
                self.report.changed.remove(action_id)
            self._fail(action_id, error)
            return
        self._outcome(action_id, "verified", after_version=int(after["version"]))

    def _outcome(
        self,
        action_id: str,
        state: str,
        *,
        reason: str | None = None,
        after_version: int | None = None,
    ) -> None:
        if self.journal is None or self.run_id is None:
            return
        try:
            self.journal.record_outcome(
                self.run_id,
                action_id,
                state,
                reason=reason,
                after_version=after_version,
            )
        except JOURNAL_ERRORS as error:
            # The journal still says what it said before (an intent at most), which
            # is true: `resume` learns the rest by reading the action.
            self._halt(action_id, error)

    def _note(self, action_id: str, outcome: str, bucket: list[str]) -> None:
        with self._lock:
            bucket.append(action_id)
        self._tell(action_id, outcome)

    def _tell(self, action_id: str, outcome: str) -> None:
        if self.progress is not None:
            self.progress(action_id, outcome)


def changes_from_plan(
    plan: Plan, listed: Mapping[str, Mapping[str, Any]]
) -> list[Change]:
    """Turn the plan's pending items into changes, each with the action as listed.

    Each change goes ahead only while the action keeps the timeout the plan saw:
    the selection and the new value were decided on it, so an action whose timeout
    another editor moved meanwhile is refused rather than set over their choice.
    """
    return [
        Change(
            item.action_id,
            item.new,
            known=listed.get(item.action_id),
            still_wanted=timeout_unchanged(item.old),
        )
        for item in plan.items
        if item.status == "change"
    ]
