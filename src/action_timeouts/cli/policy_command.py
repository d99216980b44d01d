"""Policy as code: `plan`, `apply` and `check` a TOML file of timeout rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from action_timeouts.cli.actions_command import complete_listing
from action_timeouts.cli.common import (
    connection_from,
    connection_options,
    fail,
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

if TYPE_CHECKING:
    from action_timeouts.plan import Plan
    from action_timeouts.policy import Policy

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
    policy_plan = plan_for_policy(listing.actions, policy, total=listing.total)
    show_plan(policy_plan, output_format)
    warn_unused_rules(policy, policy_plan, listing.actions)


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
        warn_unused_rules(policy, policy_plan, listing.actions)
        listed = {str(action["id"]): action for action in listing.actions}
        summary = {"policy": str(policy_file)}
        execute_plan(
            api, client, policy_plan, listed, kwargs, command="apply", selector=summary
        )


@click.command()
@POLICY_FILE
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 2 also when a rule decides no action (a typo in a name or category).",
)
@output_option
@connection_options
@handle_errors
def check(policy_file: str, strict: bool, output_format: str, **kwargs: Any) -> None:
    """Exit 0 when the org matches the policy, 2 with the drift listed when not.

    With --strict, a rule that decides no action also exits 2.
    """
    from action_timeouts.plan import drift
    from action_timeouts.policy import load_policy, plan_for_policy

    policy = load_policy(policy_file)
    with open_api(connection_from(kwargs)) as (api, _client):
        listing = complete_listing(api, {})
    policy_plan = plan_for_policy(listing.actions, policy, total=listing.total)
    unused = warn_unused_rules(policy, policy_plan, listing.actions)
    drifted = drift(policy_plan)
    if drifted or output_format != "table":
        rows = [plan_row(item) for item in drifted]
        emit(rows, PLAN_FIELDS, output_format, table=PLAN_TABLE)
    if drifted:
        say(f"drift: {len(drifted)} actions differ from {policy_file}")
    else:
        say(f"in line with {policy_file}: {policy_plan.found} actions checked")
    if strict and unused:
        labels = ", ".join(unused)
        fail(
            f"--strict: {labels} of {policy_file} decide no action; fix or remove them",
            EXIT_PENDING,
        )
    if drifted:
        raise SystemExit(EXIT_PENDING)


def warn_unused_rules(
    policy: Policy, policy_plan: Plan, actions: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Warn about rules that decide no action (often a typo); return their labels.

    A rule naming ids the org does not have is warned about too.
    """
    from action_timeouts.cli.hints import explain_empty_selection
    from action_timeouts.plan import NOT_FOUND

    found = [item for item in policy_plan.items if item.reason != NOT_FOUND]
    used = {item.rule for item in found}
    unused: list[str] = []
    for rule in policy.rules:
        missing = [
            item.action_id
            for item in policy_plan.missing
            if item.action_id in rule.selector.ids
        ]
        if rule.label in used:
            if missing:
                say(
                    f"warning: {rule.label} of {policy.source} names ids not in the "
                    f"org: {', '.join(missing)}"
                )
            continue
        unused.append(rule.label)
        hint = explain_empty_selection(actions, rule.selector)
        if hint.startswith("no action matches"):
            hint = "earlier rules take every action it matches"
        say(f"warning: {rule.label} of {policy.source} decides no action: {hint}")
    return unused
