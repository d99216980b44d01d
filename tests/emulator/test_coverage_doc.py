"""docs/EMULATOR.md names every route, switch, fault kind and control route."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from starlette.routing import Route

from action_timeouts.emulator.app import ActionsApi
from action_timeouts.emulator.control import FAULT_METHODS, control_routes
from action_timeouts.emulator.documents import ACTIONS_PATH
from action_timeouts.emulator.options import EmulatorOptions
from action_timeouts.emulator.state import EmulatorState

DOC = Path(__file__).resolve().parents[2] / "docs" / "EMULATOR.md"


@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text(encoding="utf-8")


def api_rows() -> list[str]:
    """Return the table row start the document must have for each API route."""
    rows = []
    for route in ActionsApi(EmulatorState()).routes():
        assert isinstance(route, Route)
        path = route.path.removeprefix(ACTIONS_PATH) or "(base path)"
        path = path.replace("{action_id}", "{id}").replace("{file_name}", "{file}")
        shown = path if path == "(base path)" else f"`{path}`"
        rows += [f"| {method} | {shown} |" for method in sorted(route.methods or ())]
    return [row for row in rows if not row.startswith("| HEAD ")]


def control_rows() -> list[str]:
    """Return the table row start the document must have for each control route."""
    rows = []
    for route in control_routes(EmulatorState()):
        assert isinstance(route, Route)
        methods = sorted((route.methods or set()) - {"HEAD"})
        path = route.path.replace("{action_id}", "{id}")
        rows += [f"| {method} | `{path}` |" for method in methods]
    return rows


@pytest.mark.parametrize("row", api_rows())
def test_every_api_route_is_listed(text: str, row: str) -> None:
    """Each route the emulator serves has a row in the endpoint table."""
    assert row in text


@pytest.mark.parametrize("row", control_rows())
def test_every_control_route_is_listed(text: str, row: str) -> None:
    """Each control-plane route has a row in the control-plane table."""
    assert row in text


@pytest.mark.parametrize(
    "name", [option.name for option in dataclasses.fields(EmulatorOptions)]
)
def test_every_modelling_switch_is_listed(text: str, name: str) -> None:
    """Each emulator option has a row in the modelling-choices table."""
    assert f"| `{name}` |" in text


@pytest.mark.parametrize("kind", sorted(FAULT_METHODS))
def test_every_fault_kind_is_listed(text: str, kind: str) -> None:
    """Each fault kind has a row naming its state method."""
    assert f"| `{kind}` | `{FAULT_METHODS[kind]}(" in text
