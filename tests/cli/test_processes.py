"""The installed command as a real process: old variable names and a terminal prompt."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from urllib.parse import urlsplit

import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import (
    PROMPT,
    STANDARD_IDS,
    command_line,
    many_actions,
    patches,
    read_terminal,
    run_subprocess,
    timeout_of,
    web_action,
)


def legacy_environment(emulator: RunningEmulator, action_id: str) -> dict[str, str]:
    """Return an environment configured only with the older GENESYS_* names."""
    port = urlsplit(emulator.base_url).port
    return {
        **os.environ,
        "GENESYS_CLIENT_ID": emulator.client_id,
        "GENESYS_CLIENT_SECRET": emulator.client_secret,
        "GENESYS_ENV_NAME": f"localhost:{port}",
        "GENESYS_ACTION_ID": action_id,
    }


def test_old_style_environment_sets_and_verifies(emulator: RunningEmulator) -> None:
    """With only the old GENESYS_* variables, `set 10` raises that action to 10 s."""
    before = emulator.state.stored_action("order-lookup")

    completed = run_subprocess(
        ["set", "10"], env=legacy_environment(emulator, "order-lookup")
    )

    assert completed.returncode == 0, completed.stderr
    after = emulator.state.stored_action("order-lookup")
    assert timeout_of(after) == 10
    assert after["version"] == before["version"] + 1
    assert "5 s -> 10 s" in completed.stderr
    assert "verified" in completed.stderr
    assert len(patches(emulator.state.request_log())) == 1


def test_old_style_environment_shows_in_config(emulator: RunningEmulator) -> None:
    """`config show` names the older variables as the sources, secret masked."""
    env = legacy_environment(emulator, "order-lookup")

    completed = run_subprocess(["config", "show"], env=env)

    assert completed.returncode == 0, completed.stderr
    for name in ("GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET", "GENESYS_ENV_NAME"):
        assert name in completed.stdout
    assert emulator.client_secret not in completed.stdout


def run_with_terminal(
    arguments: list[str],
    answer: str,
    env: dict[str, str],
    *,
    signal_number: int | None = None,
) -> tuple[int, str]:
    """Run the command on a terminal, answer its prompt, return its code and stderr.

    With `signal_number`, the prompt is answered by that signal (Ctrl-C) instead;
    an answer of "\x04" at the start of a line is end-of-file (Ctrl-D).
    """
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*command_line(), *arguments],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(terminal)
    try:
        assert process.stderr is not None
        stderr = read_until(
            process.stderr.fileno(), PROMPT, deadline=time.monotonic() + 20
        )
        if signal_number is not None:
            process.send_signal(signal_number)
        elif answer == "\x04":
            os.write(controller, answer.encode())
        else:
            os.write(controller, f"{answer}\n".encode())
        _out, rest = process.communicate(timeout=20)
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, stderr + rest.decode()


def read_until(descriptor: int, marker: str, *, deadline: float) -> str:
    """Read a pipe until `marker` appears, failing at the deadline."""
    seen = b""
    while marker.encode() not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} in {seen.decode(errors='replace')!r}"
        ready, _, _ = select.select([descriptor], [], [], left)
        assert ready, f"no {marker!r} in time: {seen!r}"
        chunk = os.read(descriptor, 4096)
        assert chunk, f"the command ended before asking: {seen!r}"
        seen += chunk
    return seen.decode()


@pytest.fixture
def process_env(emulator: RunningEmulator) -> dict[str, str]:
    """Return an environment pointing the GENESYSCLOUD_* variables at the emulator."""
    return {
        **os.environ,
        "GENESYSCLOUD_OAUTHCLIENT_ID": emulator.client_id,
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": emulator.client_secret,
        "GENESYSCLOUD_REGION": emulator.base_url,
    }


def test_terminal_answer_yes_applies(
    emulator: RunningEmulator, process_env: dict[str, str]
) -> None:
    """On a terminal, answering "y" to the question applies the plan."""
    code, stderr = run_with_terminal(["set", "20", "--all"], "y", process_env)

    assert code == 0, stderr
    assert "Change 4 actions?" in stderr
    stored = {action["id"]: action for action in emulator.state.stored_actions()}
    assert all(timeout_of(stored[action_id]) == 20 for action_id in STANDARD_IDS)
    assert "changed 4" in stderr


def test_the_question_for_one_action_is_in_the_singular(
    emulator: RunningEmulator, process_env: dict[str, str]
) -> None:
    """One action to change is asked as "Change 1 action?"."""
    arguments = ["set", "21", "--category", "Web Services Data Actions"]

    code, stderr = run_with_terminal(arguments, "n", process_env)

    assert code == 1
    assert "Change 1 action?" in stderr


@pytest.mark.parametrize("answer", ["n", ""])
def test_terminal_answer_no_cancels(
    emulator: RunningEmulator, process_env: dict[str, str], answer: str
) -> None:
    """On a terminal, answering "n" (or just Enter) cancels: exit 1, nothing changed."""
    before = emulator.state.stored_actions()

    code, stderr = run_with_terminal(["set", "20", "--all"], answer, process_env)

    assert code == 1
    assert "cancelled" in stderr
    assert emulator.state.stored_actions() == before
    assert patches(emulator.state.request_log()) == []


@pytest.mark.parametrize(
    ("answer", "signal_number", "code"),
    [
        pytest.param("", signal.SIGINT, 130, id="ctrl-c"),
        pytest.param("\x04", None, 1, id="ctrl-d"),
    ],
)
def test_ctrl_c_or_ctrl_d_at_the_question_cancels(
    emulator: RunningEmulator,
    process_env: dict[str, str],
    answer: str,
    signal_number: int | None,
    code: int,
) -> None:
    """Ctrl-C (130) or Ctrl-D (1) at the question cancels in one line, nothing sent."""
    before = emulator.state.stored_actions()

    exit_code, stderr = run_with_terminal(
        ["set", "20", "--all"], answer, process_env, signal_number=signal_number
    )

    assert exit_code == code, stderr
    assert stderr.strip().splitlines()[-1] == "error: cancelled: nothing was changed"
    assert "Abort" not in stderr
    assert emulator.state.stored_actions() == before
    assert patches(emulator.state.request_log()) == []


def test_no_terminal_and_no_yes_exits_1(
    emulator: RunningEmulator, process_env: dict[str, str]
) -> None:
    """With stdin not a terminal and no --yes, a selection run exits 1 unchanged."""
    before = emulator.state.stored_actions()

    completed = subprocess.run(
        [
            *command_line(),
            "set",
            "15",
            "--below",
            "15",
            "--category",
            "Acme Web Services",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=process_env,
        timeout=30,
        check=False,
    )

    assert completed.returncode == 1
    assert "use --yes to confirm without a terminal" in completed.stderr
    assert emulator.state.stored_actions() == before


def run_into_a_closed_pipe(
    arguments: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run the command with stdout a pipe whose reader has already gone."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            [*command_line(), *arguments],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=30,
            check=False,
        )
    finally:
        os.close(writer)


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["list", "-o", "ndjson"], id="list"),
        pytest.param(["history", "-o", "ndjson"], id="history"),
        pytest.param(["set", "20", "--all", "--dry-run"], id="plan"),
        pytest.param(["--help"], id="help"),
    ],
)
def test_closed_stdout_ends_quietly(
    emulator: RunningEmulator, process_env: dict[str, str], arguments: list[str]
) -> None:
    """Output into a pipe closed early (`| head -1`) ends with 141 and no message."""
    assert (
        run_subprocess(["set", "10", "order-lookup"], env=process_env).returncode == 0
    )

    completed = run_into_a_closed_pipe(arguments, process_env)

    assert completed.returncode == 141
    assert completed.stderr == ""


def test_head_of_a_long_listing_is_quiet(
    emulator: RunningEmulator, process_env: dict[str, str]
) -> None:
    """`list -o ndjson | head -1` prints one action and nothing on stderr."""
    emulator.state.reset()
    emulator.state.load_actions(many_actions(600))
    command = " ".join([*command_line(), "list", "-o", "ndjson"])

    completed = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} | head -1"],
        capture_output=True,
        text=True,
        env=process_env,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 141
    assert len(completed.stdout.splitlines()) == 1
    assert completed.stderr == ""


@pytest.mark.parametrize("output", ["json", "table", "csv", "ndjson"])
def test_head_of_a_long_listing_ends_141_in_every_format(
    emulator: RunningEmulator, process_env: dict[str, str], output: str
) -> None:
    """`list | head -1` of a large org ends 141 quietly, whatever the format."""
    emulator.state.reset()
    emulator.state.load_actions(many_actions(1500))
    command = " ".join([*command_line(), "list", "-o", output])

    completed = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} | head -1"],
        capture_output=True,
        text=True,
        env=process_env,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 141, completed.stderr
    assert len(completed.stdout.splitlines()) == 1
    assert completed.stderr == ""


def realistic_org() -> list[dict[str, object]]:
    """Return actions with uuid ids and long names, as a real org has."""
    names = [
        "Register Estimated Wait Time for Callback",
        "Vérifier le solde du compte client",
        "Acme Web Services Custom Auth",
        "Search Contact by Phone Number",
    ]
    actions = [
        web_action(f"{number:08d}-d8f1-4adf-91b7-584a2265b1f5", name)
        for number, name in enumerate(names)
    ]
    actions[2]["id"] = "customAuth_-_4787f546-1826-4134-87c3-1af77bac28bf"
    return actions


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["set", "20", "--all"], id="confirmation"),
        pytest.param(["set", "20", "--all", "--dry-run"], id="dry-run"),
        pytest.param(["list"], id="list"),
    ],
)
def test_tables_are_readable_at_80_columns(
    emulator: RunningEmulator, process_env: dict[str, str], arguments: list[str]
) -> None:
    """On an 80-column terminal no line is wider and no name is cut mid-word."""
    emulator.state.reset()
    emulator.state.load_actions(realistic_org())

    text = read_terminal(arguments, process_env, answer="n")

    lines = [line for line in text.splitlines() if line.strip()]
    assert all(len(line) <= 80 for line in lines), text
    for action in realistic_org():
        assert any(str(action["name"]) in line for line in lines), text
        assert any(str(action["id"]) in line for line in lines), text


@pytest.mark.parametrize("answer", ["maybe", "yess", "0"])
def test_an_answer_other_than_yes_cancels(
    emulator: RunningEmulator, process_env: dict[str, str], answer: str
) -> None:
    """Only y or yes says yes: any other answer cancels at once, nothing sent."""
    before = emulator.state.stored_actions()

    code, stderr = run_with_terminal(["set", "20", "--all"], answer, process_env)

    assert code == 1
    # The answer is echoed on the terminal, not on stderr, so the line goes on.
    assert stderr.endswith("[y/N]: error: cancelled: nothing was changed\n")
    assert emulator.state.stored_actions() == before
    assert patches(emulator.state.request_log()) == []
