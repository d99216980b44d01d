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
def test_without_the_permission_ids_still_match_without_a_warning(
    named: RunningEmulator,
) -> None:
    """A client that may not list integrations may still select by integration id:
    every value is an id of a listed action, so the run goes on, unwarned."""
    result = invoke("set", "25", "--integration", "int-web", "--dry-run", "-o", "json")

    assert planned(result) == {"weather-get": "change"}
    assert warnings(result) == []
    assert [entry["status"] for entry in integration_requests(named)] == [403]


@pytest.mark.usefixtures("without_permission")
def test_without_the_permission_a_name_stops_before_anything_is_sent(
    named: RunningEmulator,
) -> None:
    """A name given by a client that may not list integrations stops the run with
    exit 5 and one line naming the value, the permission and the id alternative."""
    result = invoke("set", "25", "--integration", "Zendesk Support", "--yes")

    assert result.exit_code == 5, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: integration value 'Zendesk Support' is not the id")
    assert PERMISSION in line
    assert "integration_id" in line
    assert patches(named.state.request_log()) == []


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [
        pytest.param(403, "not.authorized", 5, id="other-403"),
        pytest.param(404, "not.found", 11, id="404"),
    ],
)
def test_another_failure_of_the_integrations_list_is_an_error(
    named: RunningEmulator, status: int, code: str, exit_code: int
) -> None:
    """Only a missing permission lets ids match without names: any other refusal of
    the integrations list, or a 404 it should never give, stops the run."""
    body = json.dumps({"status": status, "code": code, "message": "no"})
    named.state.inject_raw_response(
        1,
        status,
        body,
        content_type="application/json",
        methods=["GET"],
        path_prefix=INTEGRATIONS_PATH,
    )

    result = invoke("set", "25", "--integration", "int-web", "--yes")

    assert result.exit_code == exit_code, result.stderr
    if status == 404:
        assert "the integrations list" in result.stderr
    assert patches(named.state.request_log()) == []


def test_a_value_matching_two_integrations_is_warned_about_even_quietly(
    named: RunningEmulator,
) -> None:
    """A value that is one integration's id and another's name selects the actions
    of both, and a warning that -q does not hide names each of them."""
    named.state.load_integrations(
        [*SMALL_ORG_INTEGRATIONS[:3], {"id": "int-function", "name": "int-web"}]
    )

    result = invoke(
        "-q", "set", "25", "--integration", "int-web", "--dry-run", "-o", "json"
    )

    assert planned(result) == {"weather-get": "change", "function-1": "skip"}
    (warning,) = warnings(result)
    assert "integration 'int-web' matches 2 integrations" in warning
    assert "int-web ('Weather Web Services')" in warning
    assert "int-function ('int-web')" in warning


def test_names_are_compared_in_normal_form_without_surrounding_space(
    named: RunningEmulator,
) -> None:
    """An integration name stored decomposed and with a trailing space is matched
    by the same name typed composed, in another case."""
    decomposed = "Mu\u0308ller "
    named.state.load_integrations(
        [*SMALL_ORG_INTEGRATIONS[:2], {"id": "int-web", "name": decomposed}]
    )

    result = invoke("set", "25", "--integration", "müller", "--dry-run", "-o", "json")

    assert planned(result) == {"weather-get": "change"}
    assert warnings(result) == []


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
def test_a_policy_without_the_permission_matches_ids_unwarned(
    named: RunningEmulator, tmp_path: Path
) -> None:
    """Without the permission a policy whose integrations are all ids of listed
    actions is planned by id, with no warning."""
    policy = write_policy(tmp_path, '[[rule]]\nintegration = "INT-WEB"\ntimeout = 45\n')

    result = invoke("plan", "-f", str(policy), "-o", "json")

    assert planned(result) == {"weather-get": "change"}
    assert warnings(result) == []


@pytest.mark.parametrize(
    ("quiet", "command", "extra"),
    [
        pytest.param([], "apply", ["--yes"], id="apply"),
        pytest.param([], "check", [], id="check"),
        pytest.param(["-q"], "check", [], id="check-quiet"),
        pytest.param([], "plan", [], id="plan"),
    ],
)
@pytest.mark.usefixtures("without_permission")
def test_a_policy_naming_an_integration_without_the_permission_stops(
    named: RunningEmulator,
    tmp_path: Path,
    quiet: list[str],
    command: str,
    extra: list[str],
) -> None:
    """A rule naming an integration by name, read by a client that cannot list
    integrations, stops every policy command with exit 5 before anything is sent:
    the default must not take that integration's actions instead."""
    policy = write_policy(
        tmp_path,
        'default = 45\n\n[[rule]]\nintegration = "Zendesk Support"\ntimeout = 5\n',
    )
    before = stored_timeouts(named)

    result = invoke(*quiet, command, "-f", str(policy), *extra)

    assert result.exit_code == 5, result.stderr
    (line,) = result.stderr.splitlines()
    assert "'Zendesk Support' (rule 1 of" in line
    assert PERMISSION in line
    assert stored_timeouts(named) == before
    assert patches(named.state.request_log()) == []


def test_a_rule_matching_two_integrations_is_warned_about(
    named: RunningEmulator, tmp_path: Path
) -> None:
    """A rule whose integration is the name of two integrations takes the actions of
    both, and a warning names the rule and each integration."""
    named.state.load_integrations(
        [
            {"id": "int-zendesk", "name": "Support"},
            {"id": "int-web", "name": "support"},
        ]
    )
    policy = write_policy(tmp_path, '[[rule]]\nintegration = "Support"\ntimeout = 45\n')

    result = invoke("-q", "plan", "-f", str(policy), "-o", "json")

    assert planned(result) == dict.fromkeys({"weather-get", *ZENDESK_ACTIONS}, "change")
    (warning,) = warnings(result)
    assert "rule 1 of" in warning
    assert "integration 'Support' matches 2 integrations" in warning
    assert "int-zendesk ('Support'), int-web ('support')" in warning
