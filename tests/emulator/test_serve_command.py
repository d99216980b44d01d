"""`action-timeouts emulator serve`: options, what it prints, and how it stops."""

from __future__ import annotations

import dataclasses
import logging
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from action_timeouts.cli import cli
from action_timeouts.cli.emulator_command import serve
from action_timeouts.emulator.options import EmulatorOptions
from action_timeouts.emulator.seed import FUNCTION_TIMEOUTS
from action_timeouts.emulator.server import DEMO_CLIENT_SECRET
from action_timeouts.emulator.state import EmulatorState
from corpus import CORPUS_DIR, needs_corpus

from .helpers import ACTIONS, bearer, get_token


@dataclass
class FakeServe:
    """Stands in for the blocking server: records the call, announces, returns."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(
        self,
        host: str,
        port: int,
        *,
        state: EmulatorState,
        allow_remote: bool,
        on_ready: Any,
    ) -> None:
        self.calls.append({"host": host, "state": state, "allow_remote": allow_remote})
        on_ready(f"http://{host}:{port or 4321}")

    @property
    def state(self) -> EmulatorState:
        return self.calls[-1]["state"]


@pytest.fixture(autouse=True)
def package_logging() -> Iterator[None]:
    """Undo the logging set-up each in-process CLI run makes, for later tests."""
    logger = logging.getLogger("action_timeouts")
    handlers, level, propagate = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


@pytest.fixture
def fake_serve(monkeypatch: pytest.MonkeyPatch) -> FakeServe:
    fake = FakeServe()
    monkeypatch.setattr("action_timeouts.emulator.server.serve", fake)
    return fake


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["emulator", "serve", *args])


def exports(stdout: str) -> dict[str, str]:
    """Parse the `export NAME=value` lines of standard output."""
    pairs = [line.removeprefix("export ").split("=", 1) for line in stdout.splitlines()]
    return {name: shlex.split(value)[0] for name, value in pairs}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """Hold a loopback port open so the emulator cannot bind it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_importing_the_command_loads_no_server_code() -> None:
    """The command module imports neither the emulator nor uvicorn nor starlette."""
    code = (
        "import sys, action_timeouts.cli.emulator_command\n"
        "heavy = ('uvicorn', 'starlette', 'action_timeouts.emulator')\n"
        "print([name for name in heavy if name in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_loopback_prints_environment_on_stdout(fake_serve: FakeServe) -> None:
    """Standard output holds only the export lines; the rest goes to stderr."""
    result = run("--port", "8799", "--actions", "5")
    assert result.exit_code == 0, result.output
    assert exports(result.stdout) == {
        "GENESYSCLOUD_REGION": "http://127.0.0.1:8799",
        "GENESYSCLOUD_API_REGION": "http://127.0.0.1:8799",
        "GENESYSCLOUD_OAUTHCLIENT_ID": "emulator-client",
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": DEMO_CLIENT_SECRET,
    }
    assert "emulator listening on http://127.0.0.1:8799 with 5 actions" in result.stderr
    assert "-d grant_type=client_credentials http://127.0.0.1:8799/oauth/token" in (
        result.stderr
    )
    assert fake_serve.calls[0]["allow_remote"] is False


def test_wildcard_host_warns_and_gets_a_random_secret(fake_serve: FakeServe) -> None:
    """A non-loopback host warns, uses a random secret and prints a local URL."""
    result = run("--host", "0.0.0.0", "--port", "8799", "--actions", "1")
    assert result.exit_code == 0, result.output
    assert "warning: listening on 0.0.0.0 exposes the emulator" in result.stderr
    variables = exports(result.stdout)
    assert variables["GENESYSCLOUD_REGION"] == "http://127.0.0.1:8799"
    assert variables["GENESYSCLOUD_OAUTHCLIENT_SECRET"] != DEMO_CLIENT_SECRET
    assert fake_serve.calls[0]["allow_remote"] is True


def test_every_modelling_switch_has_an_option() -> None:
    """Each field of EmulatorOptions can be set from the command line."""
    fields = {item.name for item in dataclasses.fields(EmulatorOptions)}
    fields = fields - {"rate_limit_per_minute"} | {"rate_limit"}
    assert fields <= {param.name for param in serve.params}


def test_demo_org_has_50_actions_by_default(fake_serve: FakeServe) -> None:
    """Without --actions or --seed the org is a generated one of 50 actions."""
    assert run().exit_code == 0
    assert len(fake_serve.state.stored_actions()) == 50


def test_modelling_options_reach_the_state(fake_serve: FakeServe) -> None:
    """Every modelling switch of the command lands in the emulator's options."""
    result = run(
        *("--patch-mode", "merge", "--conflict-status", "400"),
        *("--token-error-status", "400", "--static-patch-status", "403"),
        *("--token-lifetime", "30", "--max-page-size", "10", "--no-total"),
        *("--execution-timeout-status", "408", "--contract-without-expand"),
        *("--model-fields-only", "--unknown-config-keys", "keep"),
        *("--publish-contract-change", "reject", "--unknown-patch-fields", "ignore"),
        *("--version-step", "3", "--draft-start-version", "0"),
        *("--conflict-code", "general.conflict", "--url-removal", "reject"),
        *("--rate-limit", "60", "--client-id", "my-client"),
    )
    assert result.exit_code == 0, result.output
    options = fake_serve.state.options
    assert (options.patch_mode, options.conflict_status) == ("merge", 400)
    assert (options.token_error_status, options.static_patch_status) == (400, 403)
    assert (options.token_lifetime, options.max_page_size) == (30, 10)
    assert (options.include_total, options.execution_timeout_status) == (False, 408)
    assert (options.contract_without_expand, options.model_fields_only) == (True, True)
    assert options.unknown_config_keys == "keep"
    assert options.publish_contract_change == "reject"
    assert options.unknown_patch_fields == "ignore"
    assert (options.version_step, options.draft_start_version) == (3, 0)
    assert options.conflict_code == "general.conflict"
    assert options.url_removal == "reject"
    assert options.rate_limit_per_minute == 60
    assert exports(result.stdout)["GENESYSCLOUD_OAUTHCLIENT_ID"] == "my-client"


@needs_corpus
def test_seed_directory_serves_the_corpus(fake_serve: FakeServe) -> None:
    """--seed DIR loads the directory's files and nothing else."""
    result = run("--seed", str(CORPUS_DIR))
    assert result.exit_code == 0, result.output
    assert len(fake_serve.state.stored_actions()) == 87


def test_generated_function_actions_get_function_timeouts(
    fake_serve: FakeServe,
) -> None:
    """Function actions of a generated org get a 1-15 s function timeout each."""
    assert run("--actions", "60", "--random-seed", "4").exit_code == 0
    state = fake_serve.state
    functions = [
        action["id"]
        for action in state.stored_actions()
        if "requestUrlTemplate" not in action["config"].get("request", {})
    ]
    assert functions
    seconds = {state.function_timeout(action_id) for action_id in functions}
    assert seconds <= set(FUNCTION_TIMEOUTS)


def test_actions_and_seed_are_exclusive() -> None:
    """Asking for a generated org and a seed directory at once is a usage error."""
    result = run("--actions", "3", "--seed", str(CORPUS_DIR))
    assert result.exit_code == 2
    assert "--actions and --seed are mutually exclusive" in result.stderr


def test_bad_seed_file_is_a_one_line_error(tmp_path: Path) -> None:
    """A seed file that is not an action object stops with one line, exit 2."""
    (tmp_path / "list.json").write_text("[1]", encoding="utf-8")
    result = run("--seed", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: seed file list.json: expected a JSON object (one action), "
        "found an array"
    ]


def test_bad_integrations_file_is_a_one_line_error(tmp_path: Path) -> None:
    """An integrations.json beside the actions that is not a list stops with one
    line naming it, exit 2."""
    (tmp_path / "a.json").write_text('{"name": "A", "integrationId": "i"}', "utf-8")
    (tmp_path / "integrations.json").write_text('{"i": "Acme"}', encoding="utf-8")

    result = run("--seed", str(tmp_path))

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: seed file integrations.json: expected a JSON list of integrations "
        "(id, name, type), found an object"
    ]


def test_port_in_use_is_a_configuration_error(busy_port: int) -> None:
    """A port already taken stops with one line and exit code 3."""
    result = run("--port", str(busy_port), "--actions", "1")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{busy_port}: ")
    assert len(result.stderr.splitlines()) == 1


def test_serves_until_interrupted() -> None:
    """A real server answers with the printed credentials and stops on Ctrl-C."""
    command = [sys.executable, "-c", "from action_timeouts.cli import main; main()"]
    arguments = ["emulator", "serve", "--port", "0", "--actions", "6"]
    process = subprocess.Popen(
        command + arguments,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        variables = exports("".join(process.stdout.readline() for _ in range(4)))
        base_url = variables["GENESYSCLOUD_REGION"]
        with httpx.Client(base_url=base_url, timeout=5) as http:
            client_id = variables["GENESYSCLOUD_OAUTHCLIENT_ID"]
            secret = variables["GENESYSCLOUD_OAUTHCLIENT_SECRET"]
            headers = bearer(get_token(http, client_id, secret))
            assert http.get(ACTIONS, headers=headers).status_code == 200
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert stderr.rstrip().endswith("emulator stopped")
