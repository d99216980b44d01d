"""Where the journal lives on disk, and how its files are kept private.

The journal file and SQLite's companion files are mode 0600, since action
documents can hold header values and templates. Directories created for the
journal get mode 0700; an existing directory is left as it is, since it may be
shared on purpose (`ACTION_TIMEOUTS_STATE_DIR`), and one open to other users is
warned of in one line. In such a directory another user could plant the files
first, so a journal file, side file or run lock that is a symbolic link or belongs
to another user is refused before anything is written to it.
"""

from __future__ import annotations

import errno
import logging
import os
import shlex
import stat
from collections.abc import Mapping
from pathlib import Path

from action_timeouts.errors import ConfigurationError

__all__ = [
    "STATE_DIR_ENV",
    "cannot_open",
    "default_journal_path",
    "open_private",
    "prepare_file",
    "restrict_side_files",
]

logger = logging.getLogger(__name__)

APP_NAME = "action-timeouts"
FILE_NAME = "journal.sqlite3"
STATE_DIR_ENV = "ACTION_TIMEOUTS_STATE_DIR"
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
SHARED_BITS = stat.S_IRWXG | stat.S_IRWXO  # a directory others may list or enter
SIDE_FILES = ("-wal", "-shm")
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def default_journal_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return where the journal lives: $ACTION_TIMEOUTS_STATE_DIR or the state dir."""
    import platformdirs

    variables = os.environ if environ is None else environ
    override = variables.get(STATE_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser() / FILE_NAME
    return Path(platformdirs.user_state_dir(APP_NAME)) / FILE_NAME


def _make_private_directories(directory: Path) -> None:
    """Create `directory` and any missing parents with mode 0700.

    A directory that already exists is left as it is, since it may be shared on
    purpose (`ACTION_TIMEOUTS_STATE_DIR`); one that others may enter is warned of.
    """
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
        os.chmod(folder, DIRECTORY_MODE)
    if not missing:
        _warn_if_shared(directory)


def _warn_if_shared(directory: Path) -> None:
    """Warn, in one line, when the group or others may use the journal's directory."""
    try:
        found = directory.stat().st_mode
    except OSError:
        return  # opening the journal reports what is wrong with the directory
    permissions = stat.S_IMODE(found)
    if stat.S_ISDIR(found) and permissions & SHARED_BITS:
        logger.warning(
            "the journal's directory %s is open to other users (mode %s): "
            "`chmod 700 %s` makes it private",
            directory,
            f"{permissions:04o}",
            shlex.quote(str(directory)),
        )


def prepare_file(path: Path) -> None:
    """Create the journal file private before SQLite opens it, or make it private.

    The file and any side file SQLite left must be the current user's own and not
    symbolic links, else ConfigurationError, with nothing written.
    """
    _make_private_directories(path.parent)
    for side in _side_files(path):
        _refuse_unsafe(side, "journal file")
    os.close(open_private(path, "journal file"))


def restrict_side_files(path: Path) -> None:
    """Make SQLite's companion files (WAL, shared memory) private as well.

    They are changed by path, never opened: closing a descriptor of a file SQLite
    has open would let go of the process's locks on it.
    """
    for side in _side_files(path):
        if os.path.lexists(side):
            _refuse_unsafe(side, "journal file")
            os.chmod(side, FILE_MODE)


def open_private(path: Path, what: str) -> int:
    """Open a file of the journal's for reading and writing, made mode 0600.

    `what` names the file in the refusal: a symbolic link, or a file that belongs
    to another user, is ConfigurationError, left as it is.
    """
    _refuse_unsafe(path, what)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_RDWR | NO_FOLLOW, FILE_MODE)
    except OSError as error:
        if error.errno == errno.ELOOP:
            message = _unsafe(path, what, "is a symbolic link")
            raise ConfigurationError(message) from None
        raise
    try:
        _refuse_foreign(path, os.fstat(descriptor), what)
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, FILE_MODE)
        else:
            os.chmod(path, FILE_MODE)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _refuse_unsafe(path: Path, what: str) -> None:
    """Refuse an existing `path` that is a symbolic link or another user's file."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(found.st_mode):
        raise ConfigurationError(_unsafe(path, what, "is a symbolic link"))
    _refuse_foreign(path, found, what)


def _refuse_foreign(path: Path, found: os.stat_result, what: str) -> None:
    getuid = getattr(os, "getuid", None)
    if getuid is not None and found.st_uid != getuid():
        reason = f"belongs to another user (uid {found.st_uid})"
        raise ConfigurationError(_unsafe(path, what, reason))


def _unsafe(path: Path, what: str, reason: str) -> str:
    return (
        f"the {what} {path} {reason}: remove it, or point {STATE_DIR_ENV} at a "
        "private directory; nothing was changed"
    )


def _side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in SIDE_FILES]


def cannot_open(path: Path, error: Exception) -> str:
    """Say why the journal file cannot be opened or created, and what to do."""
    blocker = _file_in_the_way(path.parent)
    if blocker is not None:
        return (
            f"cannot open the journal {path}: {blocker} is a file, not a directory: "
            f"point {STATE_DIR_ENV} at a directory, or move the file aside; nothing "
            "was changed"
        )
    if path.is_dir():
        return (
            f"cannot open the journal {path}: it is a directory: move it aside, or "
            f"point {STATE_DIR_ENV} at another directory; nothing was changed"
        )
    return (
        f"cannot open the journal {path} ({error}): point {STATE_DIR_ENV} at a "
        "directory you can write; nothing was changed"
    )


def _file_in_the_way(directory: Path) -> Path | None:
    """Return the nearest existing folder of `directory` when it is not a directory."""
    for folder in (directory, *directory.parents):
        if folder.exists():
            return None if folder.is_dir() else folder
    return None
