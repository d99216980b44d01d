"""Where settings come from, and the exit codes of configuration and API errors."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from action_timeouts.actions import ACTIONS_PATH, CONFLICT_ATTEMPTS, LISTING_ATTEMPTS
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.emulator.state import EDIT, VIEW

from .helpers import invoke, patches, timeout_of

FULL = (*VIEW, *EDIT)


def test_missing_credentials_exit_3_naming_what_to_set(
    emulator: RunningEmulator,
) -> None:
    """With no credentials anywhere, a command exits 3 and names the variables."""
    result = invoke("list")

    assert result.exit_code == 3
    assert "GENESYSCLOUD_OAUTHCLIENT_ID" in result.stderr
    assert emulator.state.request_log() == []


def test_dotenv_in_the_working_directory_is_read(
    emulator: RunningEmulator, cli_environment: Path
) -> None:
    """A .env file in the working directory supplies the settings."""
    (cli_environment / ".env").write_text(
        f"GENESYSCLOUD_OAUTHCLIENT_ID={emulator.client_id}\n"
        f"GENESYSCLOUD_OAUTHCLIENT_SECRET={emulator.client_secret}\n"
        f"GENESYSCLOUD_REGION={emulator.base_url}\n"
    )

    listed = invoke("list", "-o", "json")
    shown = invoke("config", "show", "-o", "json")

    assert listed.exit_code == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 8
    sources = {row["setting"]: row["source"] for row in json.loads(shown.stdout)}
    assert sources["client_id"].startswith(".env")
    assert emulator.client_secret not in shown.stdout


@pytest.mark.usefixtures("credentials")
def test_wrong_secret_exits_4(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials the login refuses exit 4, without printing the secret."""
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "not-the-secret-at-all")

    result = invoke("list")

    assert result.exit_code == 4
    assert "not-the-secret-at-all" not in result.output


@pytest.mark.usefixtures("credentials")
def test_a_region_set_to_the_secret_exits_3_without_showing_it(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GENESYSCLOUD_REGION holding the client secret exits 3 in one line that says
    so without the value, and nothing is sent."""
    monkeypatch.setenv("GENESYSCLOUD_REGION", emulator.client_secret)

    result = invoke("-vv", "list")

    assert result.exit_code == 3
    assert emulator.client_secret not in result.output
    assert result.stderr.splitlines()[-1] == (
        "error: the region from environment GENESYSCLOUD_REGION looks like the "
        "client secret, not a region: check which variable holds what"
    )
    assert emulator.state.request_log() == []


def test_missing_permission_exits_5(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that may view but not edit gets exit 5 naming the permission."""
    emulator.state.add_client("viewer", "viewer-secret-0123456789", VIEW)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "viewer")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "viewer-secret-0123456789")
    monkeypatch.setenv("GENESYSCLOUD_REGION", emulator.base_url)

    result = invoke("set", "10", "order-lookup")

    assert result.exit_code == 5
    assert "integrations:action:edit" in result.stderr
    assert timeout_of(emulator.state.stored_action("order-lookup")) == 5


def use_view_only_client(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Log in as a client that may view actions but not edit them."""
    emulator.state.add_client("viewer", "viewer-secret-0123456789", VIEW)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "viewer")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "viewer-secret-0123456789")


@pytest.mark.usefixtures("credentials")
@pytest.mark.parametrize("workers", ["1", "8"])
def test_bulk_run_without_permission_stops_at_the_first_write(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """A forbidden bulk write stops the run after one PATCH, exit 5: the refused
    action is listed failed with the server's reason, the rest not attempted, and
    the last line says what to fix."""
    use_view_only_client(emulator, monkeypatch)

    result = invoke("set", "20", "--all", "--yes", "--workers", workers)

    assert result.exit_code == 5
    [sent] = patches(emulator.state.request_log())
    refused_id = sent["path"].rsplit("/", 1)[-1]
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("error: PATCH ")
    assert "give the client integrations:action:edit, then" in lines[-1]
    assert (
        "changed 0, unchanged 1, skipped 3, refused 0, failed 1, not attempted 3"
        in (result.stderr)
    )
    [failed] = [line for line in lines if line.startswith("  failed ")]
    assert failed.startswith(f"  failed {refused_id}: PATCH ")
    assert "permission denied" in failed
    rows = {row.split()[0]: row for row in result.stdout.splitlines()[1:] if row}
    assert " failed " in rows[refused_id]


@pytest.mark.usefixtures("credentials")
def test_run_stopped_by_permission_resumes_once_fixed(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stopped run is interrupted with its changes pending; resume finishes it."""
    use_view_only_client(emulator, monkeypatch)
    invoke("set", "20", "--all", "--yes")
    run = json.loads(invoke("history", "-o", "json").stdout)[0]
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", emulator.client_id)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", emulator.client_secret)

    resumed = invoke("resume", run["id"])

    assert run["status"] == "interrupted"
    assert run["counts"]["failed"] == 0
    assert resumed.exit_code == 0, resumed.stderr
    for action_id in ("order-lookup", "customer-lookup", "ticket-create", "sms-send"):
        assert timeout_of(emulator.state.stored_action(action_id)) == 20


def test_the_printed_resume_line_carries_the_connection_options(
    emulator: RunningEmulator, cli_environment: Path
) -> None:
    """A run stopped with its settings given only as options prints a resume line
    that repeats them (the secret file's path, never the secret) and works as
    printed."""
    emulator.state.add_client("viewer", "viewer-secret-0123456789", VIEW)
    (cli_environment / "my secret.txt").write_text("viewer-secret-0123456789\n")
    options = ["--region", emulator.base_url, "--client-id", "viewer"]
    options += ["--client-secret-file", "my secret.txt"]

    stopped = invoke("set", "20", "--all", "--yes", *options)
    emulator.state.add_client("viewer", "viewer-secret-0123456789", FULL)
    printed = re.findall(r"`(action-timeouts resume [^`]+)`", stopped.stderr)[-1]
    resumed = invoke(*shlex.split(printed)[1:])

    assert stopped.exit_code == 5, stopped.stderr
    assert printed.endswith(
        f"--region {emulator.base_url} --client-id viewer "
        "--client-secret-file 'my secret.txt'"
    )
    assert resumed.exit_code == 0, resumed.stderr
    for action_id in ("order-lookup", "customer-lookup", "ticket-create", "sms-send"):
        assert timeout_of(emulator.state.stored_action(action_id)) == 20


@pytest.mark.usefixtures("credentials")
def test_an_action_that_keeps_changing_exits_8(emulator: RunningEmulator) -> None:
    """`set` of an action another editor saves again before every write gives up
    after the conflicts allowed: exit 8, one line, the action as the editor left it."""
    before = emulator.state.stored_action("order-lookup")
    emulator.state.concurrent_edit("order-lookup", times=CONFLICT_ATTEMPTS + 4)

    result = invoke("set", "12", "order-lookup")

    assert result.exit_code == 8
    [line] = result.stderr.splitlines()
    assert line.startswith("error: action order-lookup kept changing while being ")
    assert "try again later (correlation id " in line
    after = emulator.state.stored_action("order-lookup")
    assert after == {**before, "version": before["version"] + CONFLICT_ATTEMPTS}
    sent = patches(emulator.state.request_log())
    assert [entry["status"] for entry in sent] == [409] * CONFLICT_ATTEMPTS


@pytest.mark.usefixtures("credentials")
def test_a_rate_limit_longer_than_the_wait_budget_exits_9(
    emulator: RunningEmulator,
) -> None:
    """A 429 whose Retry-After is longer than the wait budget (300 s of waiting per
    request; nothing changes it) is not waited for: exit 9, one line, nothing sent."""
    before = emulator.state.stored_actions()
    emulator.state.inject_429(1, retry_after="3600")

    result = invoke("set", "12", "order-lookup")

    assert result.exit_code == 9
    [line] = result.stderr.splitlines()
    assert line.startswith("error: GET /api/v2/integrations/actions/order-lookup")
    assert "3600 s more would pass the wait budget of 300 s; try again later" in line
    assert emulator.state.stored_actions() == before
    assert patches(emulator.state.request_log()) == []


def short_listing(emulator: RunningEmulator) -> None:
    """Answer the next listings with one action and a total of all eight."""
    page = {
        "entities": [emulator.state.stored_action("order-lookup")],
        "pageSize": 100,
        "pageNumber": 1,
        "total": len(emulator.state.stored_actions()),
        "pageCount": 1,
    }
    emulator.state.inject_raw_response(
        LISTING_ATTEMPTS,
        200,
        json.dumps(page),
        content_type="application/json",
        methods=["GET"],
        path_prefix=ACTIONS_PATH,
    )


@pytest.mark.usefixtures("credentials")
@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["list"], id="list"),
        pytest.param(["set", "20", "--all", "--yes"], id="bulk-set"),
    ],
)
def test_a_listing_short_of_its_total_is_refused(
    emulator: RunningEmulator, journal_path: Path, arguments: list[str]
) -> None:
    """A listing that keeps returning fewer actions than the total it announces is
    refused after its attempts: exit 11, one line, nothing printed or sent."""
    before = emulator.state.stored_actions()
    short_listing(emulator)

    result = invoke(*arguments)

    assert result.exit_code == 11
    [line] = result.stderr.splitlines()
    assert line == (
        "error: the actions list returned 1 action but the API reports 8; nothing was "
        "done, try again"
    )
    assert result.stdout == ""
    assert emulator.state.stored_actions() == before
    assert patches(emulator.state.request_log()) == []
    assert not journal_path.exists()


@pytest.mark.usefixtures("credentials")
def test_quiet_keeps_stderr_for_errors_only(emulator: RunningEmulator) -> None:
    """`-q` drops the progress and counts lines but keeps the data on stdout."""
    result = invoke("-q", "set", "20", "--all", "--yes", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout)["counts"]["changed"] == 4


DISAGREEING_REGIONS = {
    "GENESYSCLOUD_REGION": "eu-west-1",
    "GENESYSCLOUD_API_REGION": "https://api.mypurecloud.com",
}


def test_library_warnings_look_like_the_cli_warnings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A warning logged by the library is printed as `warning: ...`, one line."""
    for name, value in DISAGREEING_REGIONS.items():
        monkeypatch.setenv(name, value)

    result = invoke("config", "show")

    assert result.exit_code == 0, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("warning: environment: GENESYSCLOUD_API_REGION and ")


def test_debug_output_keeps_the_logger_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """With -vv a warning keeps its level and logger name, as debug lines do."""
    for name, value in DISAGREEING_REGIONS.items():
        monkeypatch.setenv(name, value)

    result = invoke("-vv", "config", "show")

    assert "WARNING action_timeouts.settings: environment: " in result.stderr
