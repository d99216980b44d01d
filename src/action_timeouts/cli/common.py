"""What every command shares: connection options, output formats, errors, messages."""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Literal, NoReturn, TypeVar

import click

from action_timeouts.errors import EXIT_CODES, ActionTimeoutsError

if TYPE_CHECKING:
    from action_timeouts.actions import ActionsApi
    from action_timeouts.http import ApiClient
    from action_timeouts.settings import Settings

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
OUTPUT_FORMATS = ("table", "json", "ndjson", "csv")
EXIT_CLOSED_STDOUT = 141  # as a process ended by SIGPIPE: 128 + 13
MAX_WORKERS = 64
WORKERS = click.IntRange(1, MAX_WORKERS)
CANCELLED = "cancelled: nothing was changed"
CHANGING_COMMANDS = frozenset({"set", "apply", "undo", "resume"})
# Characters that would move the cursor, recolour, hide text or reverse it on a
# terminal: C0 and C1 controls, DEL, line and paragraph separators and the
# bidirectional embeddings, overrides and isolates.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Larger writes to a pipe can lose their end silently when the reader goes away
# mid-write; writes of at most a buffer each report the closed pipe.
WRITE_CHUNK = 8192


@dataclass
class Connection:
    """The connection options a command was given."""

    region: str | None = None
    client_id: str | None = None
    client_secret_file: str | None = None
    client_secret_stdin: bool = False
    profile: str | None = None
    resolved: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        """Resolve settings from these options, the environment, .env and profiles.

        They are resolved once per command: the secret is read from standard input
        once, and a warning about the settings is given once.
        """
        if self.resolved is None:
            self.resolved = self._load()
        return self.resolved

    def _load(self) -> Settings:
        from action_timeouts.settings import (
            MAX_SECRET_LENGTH,
            load_settings,
            read_secret_file,
            read_secret_stream,
        )

        secret = None
        if self.client_secret_file:
            secret = read_secret_file(self.client_secret_file)
        elif self.client_secret_stdin:
            # One line, so that a secret typed at a terminal needs no end-of-file.
            line = sys.stdin.readline(MAX_SECRET_LENGTH + 1)
            secret = read_secret_stream(io.StringIO(line))
        return load_settings(
            client_id=self.client_id,
            client_secret=secret,
            region=self.region,
            profile=self.profile,
        )


def connection_options(function: F) -> F:
    """Add the options that say which org to talk to and how to log in."""
    options = [
        click.option(
            "--region",
            metavar="REGION",
            help="Region (eu-west-1), domain (mypurecloud.ie) or localhost:PORT.",
        ),
        click.option("--client-id", metavar="ID", help="OAuth client id."),
        click.option(
            "--client-secret-file",
            metavar="PATH",
            # Not click.Path: every problem with the file is a configuration error
            # (exit 3), reported by read_secret_file, a directory included.
            help="Read the OAuth client secret from this file.",
        ),
        click.option(
            "--client-secret-stdin",
            is_flag=True,
            help="Read the OAuth client secret from standard input.",
        ),
        click.option("--profile", metavar="NAME", help="Profile of the config file."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def connection_from(kwargs: dict[str, Any]) -> Connection:
    """Pop the connection options out of a command's keyword arguments."""
    return Connection(
        region=kwargs.pop("region"),
        client_id=kwargs.pop("client_id"),
        client_secret_file=kwargs.pop("client_secret_file"),
        client_secret_stdin=kwargs.pop("client_secret_stdin"),
        profile=kwargs.pop("profile"),
    )


@contextmanager
def open_api(connection: Connection) -> Iterator[tuple[ActionsApi, ApiClient]]:
    """Open one shared API client for the command's whole run."""
    from action_timeouts.actions import ActionsApi
    from action_timeouts.http import ApiClient

    client_id, secret, endpoint = connection.settings().require_credentials()
    client = ApiClient(endpoint, client_id, secret)
    try:
        yield ActionsApi(client), client
    finally:
        client.close()


def output_option(function: F) -> F:
    """Add `--output` to a command that prints data."""
    return click.option(
        "--output",
        "-o",
        "output_format",
        type=click.Choice(OUTPUT_FORMATS),
        default="table",
        show_default=True,
        help="How to print the data on stdout.",
    )(function)


def handle_errors(function: F) -> F:
    """Turn library errors into a one-line message and their documented exit code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except BrokenPipeError:
            leave_quietly()
        except click.exceptions.Abort as abort:
            cancel(abort)
        except ActionTimeoutsError as error:
            fail(advised(error), error.exit_code)
        except KeyboardInterrupt as interrupt:
            from action_timeouts.cli.interrupts import exit_code

            fail("interrupted", exit_code(interrupt))
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as error:
            from action_timeouts.cli.interrupts import exit_code, interrupt_behind

            behind = interrupt_behind(error)
            if behind is not None:
                fail("interrupted", exit_code(behind))
            logger.debug("unexpected error", exc_info=True)
            fail(
                f"unexpected {type(error).__name__}: {error} (-vv shows details)",
                EXIT_CODES["failure"],
            )
        return None

    return wrapper  # type: ignore[return-value]


def leave_quietly() -> NoReturn:
    """End at once, silently, when whoever read stdout went away (`| head -1`).

    Python flushes stdout again on its way out; pointing stdout at the null device
    keeps that flush from failing and printing a message.
    """
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(EXIT_CLOSED_STDOUT)


def advised(error: ActionTimeoutsError) -> str:
    """Return an error's message, with what to do when the message lacks it."""
    from action_timeouts.errors import ServerError

    message = str(error)
    if not isinstance(error, ServerError):
        return message
    context = click.get_current_context(silent=True)
    command = context.info_name if context else None
    if command in CHANGING_COMMANDS:
        where = " (`action-timeouts history` lists any run it started, and its outcome)"
    else:
        where = "; nothing was changed"
    return f"{message}: the server failed, try again later{where}"


def cancel(abort: click.exceptions.Abort) -> NoReturn:
    """End a question answered with Ctrl-C (130, 143) or end-of-file (1).

    Click turns both into Abort; the interrupt or EOFError it came from is kept
    as its context.
    """
    from action_timeouts.cli.interrupts import exit_code

    cause = abort.__context__
    code = (
        exit_code(cause)
        if isinstance(cause, KeyboardInterrupt)
        else EXIT_CODES["failure"]
    )
    click.echo("", err=True)  # the question's line was left unfinished
    fail(CANCELLED, code)


def printable(text: str) -> str:
    """Return `text` safe for a terminal: control and bidi characters escaped.

    A newline reads `\\n`, an escape character `\\x1b`, a right-to-left override
    `\\u202e`, so data can neither restyle the terminal nor split a line.
    """
    return UNPRINTABLE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    character = match.group()
    if character in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[character]
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def write_text(text: str, stream: IO[str] | None = None) -> None:
    """Write `text` on stdout (or `stream`) in chunks, flushing each.

    A closed stdout is reported by every chunk, so it ends the command with 141
    however large the output is.
    """
    stream = sys.stdout if stream is None else stream
    try:
        for start in range(0, len(text), WRITE_CHUNK):
            stream.write(text[start : start + WRITE_CHUNK])
            stream.flush()
    except BrokenPipeError:
        if stream is not sys.stdout:
            raise
        leave_quietly()


def fail(message: str, code: int) -> NoReturn:
    """Print an error on stderr, as one line, and exit with `code`."""
    line = printable(message.strip()) or "failed"
    click.echo(f"error: {line}", err=True)
    raise SystemExit(code)


def say(message: str) -> None:
    """Print a progress or status message on stderr, unless -q was given."""
    if not is_quiet():
        click.echo(printable(message), err=True)


def is_quiet() -> bool:
    """Tell whether -q was given."""
    context = click.get_current_context(silent=True)
    root = context.find_root() if context else None
    return bool(root and root.meta.get("quiet"))


def configure_logging(verbosity: int, quiet: bool) -> None:
    """Send library log events to stderr at the level -v/-vv/-q asks for."""
    level = logging.WARNING
    if verbosity == 1:
        level = logging.INFO
    elif verbosity >= 2:
        level = logging.DEBUG
    if quiet:
        level = logging.ERROR
    handler = logging.StreamHandler(sys.stderr)
    if verbosity >= 2:
        handler.setFormatter(PrintableFormatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(MessageFormatter())
    package_logger = logging.getLogger("action_timeouts")
    package_logger.handlers[:] = [handler]
    package_logger.setLevel(level)
    package_logger.propagate = False
    for noisy in ("httpx", "httpcore"):  # their request lines would repeat ours
        logging.getLogger(noisy).setLevel(logging.WARNING)


class PrintableFormatter(logging.Formatter):
    """Format log records with their message made `printable` (one line)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        """Format the record, its message with control characters escaped."""
        record.message = printable(record.message)
        return super().formatMessage(record)


class MessageFormatter(logging.Formatter):
    """Write a log record as the CLI writes its own messages: `warning: ...`."""

    def format(self, record: logging.LogRecord) -> str:
        """Return `level: message`, the level in lower case."""
        return f"{record.levelname.lower()}: {printable(record.getMessage())}"


def use_colour(stream: IO[str] | None = None) -> bool:
    """Tell whether output to `stream` (stderr unless given) may be styled.

    Every styled output asks this one question: only a terminal gets colour or
    bold, and never while `NO_COLOR` is set to a value that is not empty
    (https://no-color.org).
    """
    stream = sys.stderr if stream is None else stream
    return stream.isatty() and not os.environ.get("NO_COLOR")


def colour_system(stream: IO[str] | None = None) -> Literal["auto"] | None:
    """Return the `color_system` of a rich console writing to `stream`.

    None makes rich write no escape code at all, bold included, which its own
    `no_color` switch would keep.
    """
    return "auto" if use_colour(stream) else None


def styled(text: str, **styles: Any) -> str:
    """Return `text` in click's `styles` for stderr when colour is on, else plain."""
    return click.style(text, **styles) if use_colour() else text


def print_rows(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], output_format: str
) -> None:
    """Print rows on stdout as a table, JSON, NDJSON or CSV, values as they are."""
    from action_timeouts.cli.output import emit

    emit(rows, columns, output_format, people=False)


def confirm_or_refuse(question: str, assume_yes: bool) -> None:
    """Ask on a terminal; refuse without one unless --yes was given."""
    if assume_yes:
        return
    if not sys.stdin.isatty():
        message = (
            "no terminal to ask for confirmation, so nothing was changed; use --yes "
            "to confirm without a terminal"
        )
        raise ActionTimeoutsError(message)
    if not answered_yes(f"{question} [y/N]: "):
        raise ActionTimeoutsError("cancelled: nothing was changed")


def answered_yes(prompt: str) -> bool:
    """Ask on stderr and read one line of the terminal: only y or yes says yes.

    Ctrl-C and end-of-file become click's Abort, the interrupt kept as its
    context. The line is read with `readline`, not `input()`: `input()` discards
    an exception raised while it flushes its prompt, so a Ctrl-C arriving then
    would be lost and the question would wait for an answer forever.
    """
    try:
        click.echo(prompt, nl=False, err=True)
        line = sys.stdin.readline()
    except KeyboardInterrupt as interrupt:
        raise click.Abort() from interrupt
    if not line:  # end of file: Ctrl-D on an empty line
        raise click.Abort()
    return line.strip().lower() in ("y", "yes")
