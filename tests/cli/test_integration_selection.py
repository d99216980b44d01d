"""Selecting actions by integration id or name: `set --integration` and a policy's
`integration`, with the names read from the integrations list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from action_timeouts.emulator.server import RunningEmulator

from .helpers import invoke, patches, stored_timeouts

pytestmark = pytest.mark.usefixtures("credentials")

INTEGRATIONS_PATH = "/api/v2/integrations"
PERMISSION = "integrations:integration:view"
ZENDESK_ACTIONS = {"ticket-create", "sms-send"}
SMALL_ORG_INTEGRATIONS = [
    {"id": "int-acme", "name": "Acme REST"},
    {"id": "int-zendesk", "name": "Zendesk Support", "type": "zendesk-data-actions"},
    {"id": "int-web", "name": "Weather Web Services"},
    {"id": "int-function", "name": "Scoring", "type": "function-data-actions"},
]
WITHOUT_INTEGRATIONS = "actions-only-client"


@pytest.fixture
def named(emulator: RunningEmulator) -> RunningEmulator:
    """Register the small org's integrations, with their names."""
    emulator.state.load_integrations(SMALL_ORG_INTEGRATIONS)
    return emulator


@pytest.fixture
def without_permission(
    named: RunningEmulator, credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Log in as a client that may read and change actions but not list integrations."""
    permissions = ["integrations:action:view", "integrations:action:edit"]
    named.state.add_client(WITHOUT_INTEGRATIONS, "secret", permissions)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", WITHOUT_INTEGRATIONS)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "secret")


def planned(result: Result) -> dict[str, str]:
    """Return the status of each action in a JSON plan."""
    assert result.exit_code == 0, result.stderr
    return {item["id"]: item["status"] for item in json.loads(result.stdout)["items"]}


def integration_requests(emulator: RunningEmulator) -> list[dict[str, Any]]:
    """Return the logged requests of the integrations list."""
    return [
        entry
        for entry in emulator.state.request_log()
        if entry["path"] == INTEGRATIONS_PATH
    ]


def warnings(result: Result) -> list[str]:
    """Return the warning lines of stderr."""
    return [line for line in result.stderr.splitlines() if line.startswith("warning")]


def write_policy(tmp_path: Path, text: str) -> Path:
    """Write a policy file and return its path."""
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------- set


@pytest.mark.parametrize(
    "value",
    ["Zendesk Support", "zendesk support", "ZENDESK SUPPORT", "zEnDeSk SuPpOrT"],
)
def test_set_selects_an_integration_by_its_name_in_any_case(
    named: RunningEmulator, value: str
) -> None:
    """`--integration NAME` selects exactly the actions of the integration of that
    name, whatever the case, and a dry run sends nothing."""
    result = invoke("set", "25", "--integration", value, "--dry-run", "-o", "json")

    assert planned(result) == dict.fromkeys(ZENDESK_ACTIONS, "change")
    assert patches(named.state.request_log()) == []
    assert warnings(result) == []


@pytest.mark.parametrize("value", ["int-web", "INT-WEB"])
def test_set_still_selects_an_integration_by_its_id(
    named: RunningEmulator, value: str
) -> None:
    """`--integration ID` keeps selecting by integration id, ignoring case."""
    result = invoke("set", "25", "--integration", value, "--dry-run", "-o", "json")

    assert planned(result) == {"weather-get": "change"}


def test_ids_and_names_may_be_given_together(named: RunningEmulator) -> None:
    """Integration values are alternatives, whether ids or names."""
    result = invoke(
        "set",
        *("25", "--integration", "int-web", "--integration", "zendesk support"),
        *("--dry-run", "-o", "json"),
    )

    assert planned(result) == dict.fromkeys({"weather-get", *ZENDESK_ACTIONS}, "change")


def test_a_run_by_name_changes_only_that_integrations_actions(
    named: RunningEmulator,
) -> None:
    """A real run by integration name changes the actions of that integration and
    leaves every other action as it was."""
    before = stored_timeouts(named)

    result = invoke("set", "25", "--integration", "weather web services", "--yes")

    assert result.exit_code == 0, result.stderr
    assert stored_timeouts(named) == {**before, "weather-get": 25}


def test_the_names_are_read_once_per_run(named: RunningEmulator) -> None:
    """A run with integration selectors lists the integrations once."""
    result = invoke(
        "set",
        *("25", "--integration", "Acme REST", "--integration", "int-web"),
        "--dry-run",
    )

    assert result.exit_code == 0, result.stderr
    assert len(integration_requests(named)) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(
            ["set", "25", "--category", "Zendesk Data Actions", "--dry-run"], id="set"
        ),
        pytest.param(["set", "25", "--all", "--dry-run"], id="set-all"),
        pytest.param(["set", "25", "--id", "order-lookup", "--yes"], id="set-id"),
        pytest.param(["list"], id="list"),
    ],
)
def test_no_integration_selector_reads_no_integrations(
    named: RunningEmulator, arguments: list[str]
) -> None:
    """Without an integration selector the integrations list is never requested."""
    result = invoke(*arguments)

    assert result.exit_code == 0, result.stderr
    assert integration_requests(named) == []


def test_a_name_no_integration_has_says_how_values_were_compared(
    named: RunningEmulator,
) -> None:
    """A value that is no integration's id or name selects nothing, and the warning
    says both were compared."""
    result = invoke("set", "25", "--integration", "Nowhere REST", "--dry-run")

    assert result.exit_code == 0, result.stderr
    (warning,) = warnings(result)
    assert "nothing selected: no action has integration 'Nowhere REST'" in warning
    assert "id and name" in warning


# ---------------------------------------------------- without the permission


@pytest.mark.usefixtures("without_permission")
def test_without_the_permission_ids_still_match_after_one_warning(
    named: RunningEmulator,
) -> None:
    """A client that may not list integrations is warned once, naming the permission,
    and its integration ids still select their actions."""
    result = invoke("set", "25", "--integration", "int-web", "--dry-run", "-o", "json")

    assert planned(result) == {"weather-get": "change"}
    (warning,) = warnings(result)
    assert PERMISSION in warning
    assert "ids only" in warning
    assert [entry["status"] for entry in integration_requests(named)] == [403]


@pytest.mark.usefixtures("without_permission")
def test_without_the_permission_a_name_selects_nothing_and_says_why(
    named: RunningEmulator,
) -> None:
    """A name given by a client that may not list integrations selects nothing; the
    hint says that names need the permission, and nothing is changed."""
    result = invoke("set", "25", "--integration", "Zendesk Support", "--yes")

    assert result.exit_code == 0, result.stderr
    first, second = warnings(result)
    assert PERMISSION in first
    assert second.startswith("warning: nothing selected: no action has integration id")
    assert f"needs the OAuth client to hold {PERMISSION}" in second
    assert patches(named.state.request_log()) == []


# ---------------------------------------------------------------------- policy


def test_a_policy_rule_selects_an_integration_by_name(
    named: RunningEmulator, tmp_path: Path
) -> None:
    """A rule's `integration` may name the integration, in any case."""
    policy = write_policy(
        tmp_path, '[[rule]]\nintegration = "zendesk SUPPORT"\ntimeout = 45\n'
    )

    result = invoke("plan", "-f", str(policy), "-o", "json")

    assert planned(result) == dict.fromkeys(ZENDESK_ACTIONS, "change")
    assert warnings(result) == []
    assert len(integration_requests(named)) == 1


def test_apply_by_integration_name_changes_those_actions(
    named: RunningEmulator, tmp_path: Path
) -> None:
    """`apply` of a rule naming an integration changes that integration's actions
    only, and `check` then finds the org in line."""
    policy = write_policy(
        tmp_path, '[[rule]]\nintegration = "Zendesk Support"\ntimeout = 45\n'
    )
    before = stored_timeouts(named)

    applied = invoke("apply", "-f", str(policy), "--yes")
    checked = invoke("check", "-f", str(policy))

    assert applied.exit_code == 0, applied.stderr
    assert stored_timeouts(named) == {**before, "ticket-create": 45, "sms-send": 45}
    assert checked.exit_code == 0, checked.stderr


def test_a_policy_without_integration_rules_reads_no_integrations(
    named: RunningEmulator, tmp_path: Path
) -> None:
    """A policy whose rules name no integration never requests the list."""
    policy = write_policy(tmp_path, '[[rule]]\nname = "Lookup*"\ntimeout = 10\n')

    for command in ("plan", "check"):
        invoke(command, "-f", str(policy))

    assert integration_requests(named) == []


@pytest.mark.usefixtures("without_permission")
def test_a_policy_without_the_permission_matches_ids_and_warns(
    named: RunningEmulator, tmp_path: Path
) -> None:
    """Without the permission a policy's integration ids still match, one warning
    names the permission, and a rule naming an integration by name decides no
    action, saying names need the permission."""
    policy = write_policy(
        tmp_path,
        '[[rule]]\nintegration = "int-web"\ntimeout = 45\n\n'
        '[[rule]]\nintegration = "Zendesk Support"\ntimeout = 40\n',
    )

    result = invoke("plan", "-f", str(policy), "-o", "json")

    assert planned(result) == {"weather-get": "change"}
    first, second = warnings(result)
    assert PERMISSION in first
    assert "ids only" in first
    assert second.startswith("warning: rule 2 of")
    assert PERMISSION in second
