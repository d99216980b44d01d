"""Policy as code: `plan`, `apply` and `check` a TOML file of timeout rules."""

from __future__ import annotations

from typing import Any

import click

from action_timeouts.cli.actions_command import complete_listing
from action_timeouts.cli.common import (
    connection_from,
    connection_options,
    handle_errors,
    open_api,
    output_option,
    say,
)
from action_timeouts.cli.output import PLAN_FIELDS, PLAN_TABLE, emit, plan_row
from action_timeouts.cli.runs_command import (
    EXIT_PENDING,
    execute_plan,
    run_options,
    show_plan,
)

POLICY_FILE = click.option(
    "-f",
    "--file",
    "policy_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="TOML policy: [[rule]] tables (selector keys and timeout), optional default.",
)


@click.command()
@POLICY_FILE
@output_option
@connection_options
@handle_errors
def plan(policy_file: str, output_format: str, **kwargs: Any) -> None:
    """Show what applying the policy would change; nothing is sent."""
    from action_timeouts.policy import load_policy, plan_for_policy

    policy = load_policy(policy_file)
    with open_api(connection_from(kwargs)) as (api, _client):
        listing = complete_listing(api, {})
    show_plan(
        plan_for_policy(listing.actions, policy, total=listing.total), output_format
    )


@click.command()
@POLICY_FILE
@run_options
@output_option
@connection_options
@handle_errors
def apply(policy_file: str, **kwargs: Any) -> None:
    """Change every action the policy's rules disagree with, after confirmation."""
    from action_timeouts.policy import load_policy, plan_for_policy

    policy = load_policy(policy_file)
    connection = connection_from(kwargs)
    with open_api(connection) as (api, client):
        listing = complete_listing(api, {})
        policy_plan = plan_for_policy(listing.actions, policy, total=listing.total)
        warn_unused_rules(policy, policy_plan)
        listed = {str(action["id"]): action for action in listing.actions}
        summary = {"policy": str(policy_file)}
        execute_plan(
            api, client, policy_plan, listed, kwargs, command="apply", selector=summary
        )


@click.command()
@POLICY_FILE
@output_option
@connection_options
@handle_errors
def check(policy_file: str, output_format: str, **kwargs: Any) -> None:
    """Exit 0 when the org matches the policy, 2 with the drift listed when not."""
    from action_timeouts.plan import drift
    from action_timeouts.policy import load_policy, plan_for_policy

    policy = load_policy(policy_file)
    with open_api(connection_from(kwargs)) as (api, _client):
        listing = complete_listing(api, {})
    policy_plan = plan_for_policy(listing.actions, policy, total=listing.total)
    warn_unused_rules(policy, policy_plan)
    drifted = drift(policy_plan)
    if drifted or output_format != "table":
        rows = [plan_row(item) for item in drifted]
        emit(rows, PLAN_FIELDS, output_format, table=PLAN_TABLE)
    if not drifted:
        say(f"in line with {policy_file}: {policy_plan.found} actions checked")
        return
    say(f"drift: {len(drifted)} actions differ from {policy_file}")
    raise SystemExit(EXIT_PENDING)


def warn_unused_rules(policy: Any, policy_plan: Any) -> None:
    """Warn about rules that decide no action: often a typo in a name or category."""
    used = {item.rule for item in policy_plan.items}
    for rule in policy.rules:
        if rule.label not in used:
            say(
                f"warning: {rule.label} of {policy.source} decides no action "
                "(it matches none, or earlier rules take them)"
            )
