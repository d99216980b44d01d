"""Where the tests find the shared corpus of action files, and what they do without it.

The corpus lives beside the repository (`<repo>/../shared/corpus/actions`) and is never
copied into it; `ACTION_TIMEOUTS_CORPUS` points elsewhere. Tests that need it are
skipped when it is missing, except in CI, where `tests/conftest.py` fails the session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENVIRONMENT_VARIABLE = "ACTION_TIMEOUTS_CORPUS"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "actions"
# Read once at import: the autouse environment fixture removes ACTION_TIMEOUTS_*
# variables while each test runs.
CORPUS_DIR = Path(os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_DIR)
MISSING_REASON = f"corpus not found at {CORPUS_DIR}; set {ENVIRONMENT_VARIABLE}"


def corpus_files() -> list[Path]:
    """Return the corpus's action files in name order, none when it is missing."""
    return sorted(CORPUS_DIR.glob("*.json"), key=lambda path: path.name)


def corpus_present() -> bool:
    """Tell whether the corpus directory exists and holds action files."""
    return bool(corpus_files())


def require_corpus() -> None:
    """Skip the calling test or fixture when the corpus is missing."""
    if not corpus_present():
        pytest.skip(MISSING_REASON)


needs_corpus = pytest.mark.skipif(not corpus_present(), reason=MISSING_REASON)
