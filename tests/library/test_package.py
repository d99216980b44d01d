"""The package's public surface: each module's `__all__`, and what a script imports."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

import action_timeouts

PACKAGE_DIRECTORY = Path(action_timeouts.__file__).parent
# The library's modules, and the emulator's entry point; not the command line (a
# program, not an API) nor the emulator's internals.
MODULES = sorted(
    [
        f"action_timeouts.{path.stem}"
        for path in PACKAGE_DIRECTORY.glob("*.py")
        if path.stem not in ("__init__", "__main__")
    ]
    + ["action_timeouts", "action_timeouts.emulator.server"]
)
# Names defined at module level without an underscore that are kept out of
# `__all__` on purpose: tuning constants and SQL text the module alone uses.
DELIBERATELY_PRIVATE: dict[str, set[str]] = {
    "action_timeouts": {"TYPE_CHECKING"},
    "action_timeouts.guard": {"LONGEST_FIELD_LIST"},
    "action_timeouts.journal": {
        "BUSY_SECONDS",
        "PLAN_STATES",
        "RUNS_HINT",
        "RUN_ID_ATTEMPTS",
    },
    "action_timeouts.journal_files": {
        "APP_NAME",
        "DIRECTORY_MODE",
        "FILE_MODE",
        "FILE_NAME",
        "NO_FOLLOW",
        "SHARED_BITS",
        "SIDE_FILES",
    },
    "action_timeouts.paging": {"ENVELOPE_COUNTS", "LONGEST_QUOTED_COUNT"},
    "action_timeouts.plan": {"GLOB_CHARACTERS", "MAX_FILTER_IDS"},
    "action_timeouts.policy": {
        "RULE_KEYS",
        "SELECTOR_KEYS",
        "TOML_POSITION",
        "TOP_LEVEL_KEYS",
        "UNSET_WORD",
    },
    "action_timeouts.timeouts": {"LONGEST_QUOTED_VALUE"},
}
ALWAYS_PRIVATE = {"logger"}  # every module's own logger


def source_of(module_name: str) -> Path:
    """Return the file a module is read from."""
    module = importlib.import_module(module_name)
    assert module.__file__ is not None
    return Path(module.__file__)


def defined_names(module_name: str) -> set[str]:
    """Return the names a module defines at its top level (imports left out)."""
    tree = ast.parse(source_of(module_name).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def imported_from(module_name: str) -> set[str]:
    """Return the names other modules of the package import from `module_name`."""
    found: set[str] = set()
    for path in PACKAGE_DIRECTORY.rglob("*.py"):
        if path == source_of(module_name):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == module_name:
                found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_is_exported_or_deliberately_private(
    module_name: str,
) -> None:
    """Each name a module defines without an underscore is in its `__all__`, or is
    one of the few kept private on purpose."""
    module = importlib.import_module(module_name)
    private = DELIBERATELY_PRIVATE.get(module_name, set())
    public = {name for name in defined_names(module_name) if not name.startswith("_")}

    assert public - set(module.__all__) - private - ALWAYS_PRIVATE == set()
    assert private <= public, "a deliberately private name is no longer defined"
    assert not private & set(module.__all__)


@pytest.mark.parametrize("module_name", MODULES)
def test_every_exported_name_exists(module_name: str) -> None:
    """Each name in a module's `__all__` can be imported from it, once."""
    module = importlib.import_module(module_name)

    assert len(module.__all__) == len(set(module.__all__))
    for name in module.__all__:
        assert getattr(module, name) is not None, name


@pytest.mark.parametrize("module_name", MODULES)
def test_names_kept_private_are_not_imported_elsewhere(module_name: str) -> None:
    """No other module of the package imports a name kept out of `__all__`."""
    private = DELIBERATELY_PRIVATE.get(module_name, set()) | ALWAYS_PRIVATE

    assert imported_from(module_name) & private == set()


def test_the_package_exports_what_a_script_needs() -> None:
    """The settings loader, the client, the actions API, set_timeout and every
    error are importable from the package itself, as the same objects."""
    from action_timeouts import actions, errors, http, settings

    expected = {
        "load_settings": settings.load_settings,
        "ApiClient": http.ApiClient,
        "ActionsApi": actions.ActionsApi,
        "set_timeout": actions.set_timeout,
    }
    for name in errors.__all__:
        if isinstance(getattr(errors, name), type):
            expected[name] = getattr(errors, name)

    for name, value in expected.items():
        assert name in action_timeouts.__all__
        assert getattr(action_timeouts, name) is value


def test_an_unknown_name_is_an_attribute_error() -> None:
    """Asking the package for a name it does not export fails as for any module."""
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = action_timeouts.no_such_name  # type: ignore[attr-defined]


def test_importing_the_package_loads_nothing_else() -> None:
    """`import action_timeouts` imports none of its modules, httpx or typing; a
    name is imported when it is first asked for."""
    code = (
        "import sys; import action_timeouts; "
        "print(sorted(name for name, module in sys.modules.items() if module and "
        "(name.startswith('action_timeouts.') or "
        "name.split('.')[0] in ('httpx', 'typing', 'click', 'rich'))))"
        "; action_timeouts.ApiClient; print('httpx' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == ["[]", "True"]


def test_the_package_declares_its_types() -> None:
    """The package ships `py.typed`, so type checkers read its annotations."""
    assert resources.files("action_timeouts").joinpath("py.typed").is_file()
