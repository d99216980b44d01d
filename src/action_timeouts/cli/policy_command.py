"""Policy as code: `plan`, `apply` and `check` a TOML file of timeout rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from action_timeouts.cli.actions_command import (
    check_integrations,
    complete_listing,
    integration_names_for,
)
from action_timeouts.cli.common import (
    connection_from,
    connection_options,
    fail,
    handle_errors,
    open_api,
    output_option,
    say,
)
from action_timeouts.cli.output import (
    PLAN_FIELDS,
    PLAN_TABLE,
    emit,
    plan_document,
    plan_row,
)
from action_timeouts.cli.runs_command import (
    EXIT_PENDING,
    execute_plan,
    run_options,
    show_plan,
)

if TYPE_CHECKING:
    from action_timeouts.actions import ActionsApi
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
    from action_timeouts.policy import load_policy

    policy = load_policy(policy_file)
    with open_api(connection_from(kwargs)) as (api, _client):
        org = plan_org(api, policy)
    show_plan(org.plan, output_format)
    warn_unused_rules(policy, org)


@click.command()
@POLICY_FILE
@run_options
@output_option
@connection_options
@handle_errors
def apply(policy_file: str, **kwargs: Any) -> None:
    """Change every action the policy's rules disagree with, after confirmation."""
    from action_timeouts.policy import load_policy

    policy = load_policy(policy_file)
    connection = connection_from(kwargs)
    with open_api(connection) as (api, client):
        org = plan_org(api, policy)
        warn_unused_rules(policy, org)
        listed = {str(action["id"]): action for action in org.actions}
        summary = {"policy": str(policy_file)}
        execute_plan(
            api, client, org.plan, listed, kwargs, command="apply", selector=summary
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
    from action_timeouts.policy import load_policy

    policy = load_policy(policy_file)
    with open_api(connection_from(kwargs)) as (api, _client):
        org = plan_org(api, policy)
    policy_plan = org.plan
    unused = warn_unused_rules(policy, org)
    drifted = drift(policy_plan)
    if drifted or output_format != "table":
        rows = [plan_row(item) for item in drifted]
        document = plan_document(policy_plan)
        emit(rows, PLAN_FIELDS, output_format, table=PLAN_TABLE, document=document)
    if drifted:
        noun = "action differs" if len(drifted) == 1 else "actions differ"
        invalid = sum(1 for item in drifted if item.status == "skip")
        also = (
            f" ({invalid} with an invalid stored timeout, which is never written "
            "over: fix it in Genesys Cloud)"
            if invalid
            else ""
        )
        say(f"drift: {len(drifted)} {noun} from {policy_file}{also}")
    else:
        say(f"in line with {policy_file}: {policy_plan.found} actions checked")
    if strict and unused:
        labels = ", ".join(unused)
        verb = "decides" if len(unused) == 1 else "decide"
        them = "it" if len(unused) == 1 else "them"
        fail(
            f"--strict: {labels} of {policy_file} {verb} no action; fix or remove "
            f"{them}",
            EXIT_PENDING,
        )
    if drifted:
        raise SystemExit(EXIT_PENDING)


@dataclass(frozen=True)
class PolicyOrg:
    """The org as a policy sees it: its actions, integration names and the plan.

    `integration_names` is None when no rule names an integration, or when the
    names could not be read and every rule's integration is an id of a listed
    action (rules then match integration ids only).
    """

    actions: Sequence[Mapping[str, Any]]
    integration_names: Mapping[str, str] | None
    plan: Plan


def plan_org(api: ActionsApi, policy: Policy) -> PolicyOrg:
    """Plan the policy over every action, with the integration names its rules need."""
    from action_timeouts.policy import plan_for_policy

    values = {
        f"{rule.label} of {policy.source}": rule.selector.integrations
        for rule in policy.rules
    }
    names = integration_names_for(api.client, values)
    listing = complete_listing(api, {})
    check_integrations(values, names, listing.actions)
    policy_plan = plan_for_policy(
        listing.actions, policy, total=listing.total, integration_names=names
    )
    return PolicyOrg(listing.actions, names, policy_plan)


def warn_unused_rules(policy: Policy, org: PolicyOrg) -> list[str]:
    """Warn about rules that decide no action (often a typo); return their labels.

    A rule naming ids the org does not have is warned about too.
    """
    from action_timeouts.cli.hints import explain_empty_selection
    from action_timeouts.plan import NOT_FOUND

    policy_plan = org.plan
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
        hint = explain_empty_selection(
            org.actions, rule.selector, integration_names=org.integration_names
        )
        if hint.startswith("no action matches"):
            hint = "earlier rules take every action it matches"
        say(f"warning: {rule.label} of {policy.source} decides no action: {hint}")
    return unused
