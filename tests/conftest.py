"""Keep the developer's own environment out of every test."""

from __future__ import annotations

import os

import pytest

_PREFIXES = ("GENESYSCLOUD_", "GENESYS_", "ACTION_TIMEOUTS_")


def _is_ours_to_remove(name: str) -> bool:
    """Tell whether a variable could change what the code under test does."""
    upper = name.upper()
    return upper.startswith(_PREFIXES) or upper.endswith("_PROXY") or name == "NO_COLOR"


@pytest.fixture(autouse=True)
def clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Remove Genesys, action-timeouts, proxy and NO_COLOR variables for the test.

    The user config directory points at an empty temporary folder, so no test reads
    the developer's own profiles.
    """
    for name in list(os.environ):
        if _is_ours_to_remove(name):
            monkeypatch.delenv(name)
    config_home = tmp_path_factory.getbasetemp() / "empty-config-home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
