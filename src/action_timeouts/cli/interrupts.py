"""Ctrl-C and SIGTERM: the same exception, and the same end for a journaled run.

`install` makes SIGINT and SIGTERM raise `Interrupted` (a KeyboardInterrupt, so
every cleanup that handles Ctrl-C handles a cancelled CI job too). A journaled run
is wrapped in `journaled_run` or `interrupts_end_run`: an interrupt there marks the
run interrupted, prints what the run did so far (when given how), then one line
with the run id and the resume command, lets go of the run's lock and exits 130
(SIGINT) or 143 (SIGTERM) at once.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import TYPE_CHECKING, ClassVar, NoReturn

import click

if TYPE_CHECKING:
    from action_timeouts.journal import Journal
    from action_timeouts.runlock import RunLock

logger = logging.getLogger(__name__)

SIGNAL_BASE = 128
INTERRUPTED = SIGNAL_BASE + signal.SIGINT
TERMINATED = SIGNAL_BASE + signal.SIGTERM


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; `exit_code` is 128 plus the signal number."""

    def __init__(self, number: int) -> None:
        super().__init__(signal.Signals(number).name)
        self.exit_code = SIGNAL_BASE + number


class _Held:
    """Whether interrupts are held off, and the one that arrived meanwhile."""

    active = False
    pending: int | None = None
    locks: ClassVar[list[RunLock]] = []
    """Run locks held with `holding`, let go before an interrupt exits."""


def install() -> None:
    """Make SIGINT and SIGTERM raise `Interrupted` in the main thread."""
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _on_signal)


def _on_signal(number: int, _frame: FrameType | None) -> None:
    if _Held.active:
        _Held.pending = _Held.pending or number
        return
    raise Interrupted(number)


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """Return the exit code of an interrupt: 143 for SIGTERM, else 130."""
    return getattr(interrupt, "exit_code", INTERRUPTED)


@contextmanager
def journaled_run(
    journal: Journal,
    start: Callable[[], str],
    report: Callable[[str], None] | None = None,
) -> Iterator[str]:
    """Start a run with `start()` and end it as interrupted on Ctrl-C or SIGTERM.

    `report(run_id)` prints what the run did so far when it is interrupted.

    Interrupts are held off while the run is recorded, so one arriving at any
    moment after the run exists finds the run id and ends it properly. A run lock
    that `start()` took is let go when the block ends.
    """
    _hold()
    try:
        run_id = start()
    except BaseException:
        _release()
        raise
    try:
        printing = None if report is None else lambda: report(run_id)
        with interrupts_end_run(journal, run_id, printing):
            _release()
            yield run_id
    finally:
        journal.release_run(run_id)


@contextmanager
def holding(lock: RunLock) -> Iterator[RunLock]:
    """Hold a run lock for the block; an interrupt in it lets the lock go too."""
    with lock:
        _Held.locks.append(lock)
        try:
            yield lock
        finally:
            _Held.locks.remove(lock)


@contextmanager
def interrupts_end_run(
    journal: Journal, run_id: str, report: Callable[[], None] | None = None
) -> Iterator[None]:
    """End the run as interrupted if Ctrl-C or SIGTERM arrives in the block.

    `report` prints on stdout what the run did so far, before the last line.
    """
    try:
        yield
    except KeyboardInterrupt as interrupt:
        end_interrupted(journal, run_id, exit_code(interrupt), report)
    except RuntimeError as error:
        behind = interrupt_behind(error)
        if behind is None:
            raise
        end_interrupted(journal, run_id, exit_code(behind), report)


def interrupt_behind(error: BaseException) -> KeyboardInterrupt | None:
    """Return the interrupt that an error was raised while unwinding, if any.

    An interrupt that lands while a thread waits on a condition (the main thread
    waiting for the workers) can leave the condition's lock unheld, and leaving
    the `with` block then raises RuntimeError ("cannot release un-acquired lock")
    in its place; the interrupt is still its context.
    """
    seen: BaseException | None = error.__context__
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return seen
        seen = seen.__context__
    return None


def end_interrupted(
    journal: Journal,
    run_id: str,
    code: int,
    report: Callable[[], None] | None = None,
) -> NoReturn:
    """Mark the run interrupted, say how to finish it, and leave at once.

    Workers may be waiting out a rate-limit pause; the journal already holds every
    intent, so leaving without them is as safe as a crash, and `resume` finishes.
    The run's lock is let go last, so that no lock file is left behind.
    """
    _Held.active = True  # a second Ctrl-C must not cut this short
    try:
        journal.finish_run(run_id, "interrupted")
    except Exception:
        logger.debug("could not mark run %s interrupted", run_id, exc_info=True)
    if report is not None:
        try:
            report()
        except (Exception, SystemExit):  # a reader gone, or a journal not readable
            logger.debug("could not print run %s", run_id, exc_info=True)
    click.echo(
        f"error: interrupted; `{resume_command(run_id)}` finishes the run",
        err=True,
    )
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a reader gone, or a stream closed
            stream.flush()
    with suppress(Exception):
        journal.release_run(run_id)
        for lock in list(_Held.locks):
            lock.release()
    os._exit(code)


# The connection options a resume needs again, as the command was given them.
RESUME_OPTIONS = (
    ("region", "--region"),
    ("client_id", "--client-id"),
    ("profile", "--profile"),
    ("client_secret_file", "--client-secret-file"),
)


def resume_command(run_id: str) -> str:
    """Return the `action-timeouts resume RUN` line to print, ready to run.

    The connection options the current command was given are added as given,
    shell-quoted, so settings that came from the command line come again. A
    secret is never in it: `--client-secret-file` names a file, and a secret read
    from standard input is asked for again with `--client-secret-stdin`.
    """
    words = ["action-timeouts", "resume", run_id]
    context = click.get_current_context(silent=True)
    given = context.params if context is not None else {}
    for name, flag in RESUME_OPTIONS:
        value = given.get(name)
        if isinstance(value, str):
            words += [flag, value]
    if given.get("client_secret_stdin"):
        words.append("--client-secret-stdin")
    return shlex.join(words)


def _hold() -> None:
    _Held.active, _Held.pending = True, None


def _release() -> None:
    """Stop holding interrupts off, raising the one that arrived meanwhile."""
    pending, _Held.active, _Held.pending = _Held.pending, False, None
    if pending is not None:
        raise Interrupted(pending)
