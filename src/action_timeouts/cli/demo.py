"""The guided demo: a generated org on a local emulator, one safe change, proven."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from action_timeouts.actions import (
    ActionKind,
    ActionsApi,
    action_kind,
    current_timeout,
    describe_timeout,
    differences,
    set_timeout,
)
from action_timeouts.cli.actions_command import LIST_COLUMNS, list_row
from action_timeouts.cli.common import styled
from action_timeouts.cli.output import print_table

SHORT_TIMEOUT = 5
DEMO_TARGET = 10


def run_demo(action_count: int, random_seed: int) -> None:
    """Start an emulator, then list, dry-run, apply and verify one change."""
    from action_timeouts.emulator.server import running_emulator
    from action_timeouts.http import ApiClient
    from action_timeouts.regions import resolve_region

    step(0, f"Starting a local emulator with a generated org of {action_count} actions")
    with running_emulator(actions=action_count, seed=random_seed) as emulator:
        click.echo(f"    emulator at {emulator.base_url}", err=True)
        endpoint = resolve_region(emulator.base_url)
        client = ApiClient(endpoint, emulator.client_id, emulator.client_secret)
        with client:
            walk_through(ActionsApi(client), emulator.state)


def walk_through(api: ActionsApi, state: Any) -> None:
    """The demo's steps, against any API and the emulator's stored truth."""
    step(1, f"Actions with a timeout of {SHORT_TIMEOUT} s or less")
    listing = api.list_all()
    short = [
        action
        for action in listing.actions
        if (current_timeout(action) or 60) <= SHORT_TIMEOUT
        and action_kind(action) is ActionKind.STANDARD
    ]
    print_table([demo_row(action) for action in short], LIST_COLUMNS)
    click.echo(
        f"    {len(listing.actions)} actions listed (API total {listing.total})",
        err=True,
    )
    target = pick_target(short)
    if target is None:
        click.echo("    no short timeout in this org; nothing to demonstrate", err=True)
        return
    action_id = str(target["id"])
    before = state.stored_action(action_id)

    step(
        2, f"Dry run: {target['name']} from {describe_timeout(current_timeout(target))}"
    )
    planned = set_timeout(api, action_id, DEMO_TARGET, dry_run=True)
    click.echo(
        f"    would change {describe_timeout(planned.old)} -> "
        f"{describe_timeout(planned.new)} at version {planned.version_before}; "
        "nothing sent",
        err=True,
    )

    step(3, "Apply: PATCH the whole config, templates inline, only the timeout new")
    result = set_timeout(api, action_id, DEMO_TARGET)
    click.echo(
        f"    {result.outcome}: version {result.version_before} -> "
        f"{result.version_after}, {result.conflicts} conflicts",
        err=True,
    )

    step(4, "Verify: read back and compare with what was intended")
    read_back = api.get(action_id)
    click.echo(
        f"    timeout now {describe_timeout(current_timeout(read_back))}", err=True
    )

    step(5, "Everything else is unchanged (the emulator's stored truth)")
    after = state.stored_action(action_id)
    changed = differences(before, after)
    for path in changed:
        click.echo(f"    changed: {path}", err=True)
    untouched = sorted(set(flatten_paths(before)) - set(changed))
    click.echo(f"    unchanged: {len(untouched)} fields, templates included", err=True)
    click.echo("Done. Nothing left the machine.", err=True)


def demo_row(action: Mapping[str, Any]) -> dict[str, Any]:
    """A list row with the timeout written for people."""
    row = list_row(action)
    return {**row, "timeout": describe_timeout(row["timeout"])}


def pick_target(actions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Prefer a 3-second action whose templates live behind links."""

    def score(action: Mapping[str, Any]) -> tuple[bool, bool]:
        config = action.get("config") or {}
        linked = "requestTemplateUri" in (config.get("request") or {})
        return (current_timeout(action) == 3, linked)

    return max(actions, key=score, default=None)


def flatten_paths(value: object, path: str = "") -> list[str]:
    """List the dotted paths of every leaf in a JSON value."""
    if isinstance(value, dict) and value:
        found: list[str] = []
        for key, item in value.items():
            found.extend(flatten_paths(item, f"{path}.{key}" if path else str(key)))
        return found
    return [path]


def step(number: int, title: str) -> None:
    """Print a numbered step heading on stderr."""
    click.echo(styled(f"[{number}] {title}", bold=True), err=True)
