"""`demo`: the guided walk-through on its own local emulator."""

from __future__ import annotations

from .helpers import run_subprocess


def test_demo_runs_to_the_end() -> None:
    """`action-timeouts demo` walks through every step and exits 0."""
    completed = run_subprocess(["demo"], timeout=60)

    assert completed.returncode == 0, completed.stderr
    for step in range(6):
        assert f"[{step}]" in completed.stderr
    assert "changed: config.timeoutSeconds" in completed.stderr
    assert "Done." in completed.stderr
    assert completed.stdout.split()[0] == "id"


def test_demo_with_another_org_size_and_seed() -> None:
    """`demo --actions N --seed S` runs against a generated org of that size."""
    completed = run_subprocess(["demo", "--actions", "15", "--seed", "3"], timeout=60)

    assert completed.returncode == 0, completed.stderr
    assert "15 actions listed (API total 15)" in completed.stderr
