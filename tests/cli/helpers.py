"""Helpers shared by the command-line tests: action documents, runs, journal reads."""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from action_timeouts.cli import cli
from action_timeouts.emulator.server import RunningEmulator

ACME = "Acme Web Services"
ZENDESK = "Zendesk Data Actions"
WEB = "Web Services Data Actions"
REQUEST_TEMPLATE = '{\r\n  "order": "${input.orderId}",\r\n  "note": "données ✓"\r\n}'
SUCCESS_TEMPLATE = '{"status": ${status}, "text": "réponse reçue — 受信"}'
SECRET_BEARER = "Bearer sk-live-0123456789abcdef"
SECRET_API_KEY = "key-9f8e7d6c5b4a39281706"
ENTRY_POINT = Path(sys.executable).with_name("action-timeouts")
PROMPT = "[y/N]"


def web_action(
    action_id: str,
    name: str,
    *,
    category: str = ACME,
    integration: str = "int-acme",
    timeout: int | None = None,
    secure: bool = False,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return a web-services action with both templates inline."""
    config: dict[str, Any] = {} if timeout is None else {"timeoutSeconds": timeout}
    config["request"] = {
        "requestUrlTemplate": "https://orders.example.invalid/v1/${input.orderId}",
        "requestType": "POST",
        "headers": dict(headers or {"Accept": "application/json"}),
        "requestTemplate": REQUEST_TEMPLATE,
    }
    config["response"] = {
        "translationMap": {"status": "$.state"},
        "translationMapDefaults": {"status": '"UNKNOWN"'},
        "successTemplate": SUCCESS_TEMPLATE,
    }
    return {
        "id": action_id,
        "name": name,
        "category": category,
        "integrationId": integration,
        "secure": secure,
        "contract": {
            "input": {"inputSchema": {"type": "object"}},
            "output": {"successSchema": {"type": "object"}},
        },
        "config": config,
    }


def function_action(action_id: str, name: str) -> dict[str, Any]:
    """Return a function action (it runs code, so it has no request URL)."""
    action = web_action(action_id, name, category="Function Data Actions")
    action["integrationId"] = "int-function"
    action["integrationType"] = "function-data-actions"
    action["config"] = {"timeoutSeconds": 15}
    return action


def small_org() -> list[dict[str, Any]]:
    """Return the org most tests start from: five standard actions and three others.

    Standard: order-lookup 5 s, customer-lookup unset (secure), ticket-create 30 s,
    sms-send 60 s, weather-get 20 s. Others: a custom-auth, a built-in and a function
    action, which a run always skips.
    """
    return [
        web_action("order-lookup", "Lookup Order", timeout=5),
        web_action("customer-lookup", "Lookup Customer", secure=True),
        web_action(
            "ticket-create",
            "Create Ticket",
            category=ZENDESK,
            integration="int-zendesk",
            timeout=30,
        ),
        web_action(
            "sms-send",
            "Send SMS",
            category=ZENDESK,
            integration="int-zendesk",
            timeout=60,
        ),
        web_action(
            "weather-get",
            "Get Weather",
            category=WEB,
            integration="int-web",
            timeout=20,
        ),
        web_action("customAuth_-_int-acme", "Acme Custom Auth"),
        web_action("static_builtin-1", "Built-in Lookup", timeout=10),
        function_action("function-1", "Compute Score"),
    ]


STANDARD_IDS = (
    "order-lookup",
    "customer-lookup",
    "ticket-create",
    "sms-send",
    "weather-get",
)
SKIPPED_IDS = ("customAuth_-_int-acme", "static_builtin-1", "function-1")


def many_actions(count: int) -> list[dict[str, Any]]:
    """Return `count` standard actions; every third has no timeout."""
    return [
        web_action(
            f"bulk-{number:03d}",
            f"Bulk Action {number:03d}",
            category=ACME if number % 2 else ZENDESK,
            timeout=None if number % 3 == 0 else 1 + number % 50,
        )
        for number in range(count)
    ]


def invoke(*args: str) -> Result:
    """Run the command line in-process, stdout and stderr kept apart."""
    return CliRunner().invoke(cli, list(args), prog_name="action-timeouts")


def command_line() -> list[str]:
    """Return how to start the installed command in a subprocess."""
    if ENTRY_POINT.exists():
        return [str(ENTRY_POINT)]
    return [sys.executable, "-m", "action_timeouts"]


def run_subprocess(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run the installed command as a real process and capture its output."""
    return subprocess.run(
        [*command_line(), *args],
        env=dict(os.environ if env is None else env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def read_terminal(
    arguments: list[str], env: dict[str, str], answer: str, *, columns: int = 80
) -> str:
    """Run the command on a terminal (80 columns unless told), answer any prompt,
    and return all the text it wrote."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*command_line(), *arguments],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env={**env, "COLUMNS": str(columns)},
    )
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + 20
        while process.poll() is None or select.select([controller], [], [], 0)[0]:
            assert time.monotonic() < deadline, seen
            if not select.select([controller], [], [], 0.1)[0]:
                continue
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed with the process
                break
            seen += chunk
            if PROMPT.encode() in chunk:
                os.write(controller, f"{answer}\n".encode())
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
        process.wait()
    return seen.decode().replace("\r\n", "\n")


def timeout_of(action: Mapping[str, Any]) -> int | None:
    """Return the stored explicit timeout of an action, None when absent."""
    config = action.get("config") or {}
    return config.get("timeoutSeconds")


def all_but_timeout(action: Mapping[str, Any]) -> dict[str, Any]:
    """Return an action without its version and explicit timeout, for comparisons."""
    config = {
        key: value
        for key, value in (action.get("config") or {}).items()
        if key != "timeoutSeconds"
    }
    rest = {key: value for key, value in action.items() if key != "version"}
    return {**rest, "config": config}


def stored_timeouts(emulator: RunningEmulator) -> dict[str, int | None]:
    """Return every stored action's explicit timeout, by id."""
    return {
        action["id"]: timeout_of(action) for action in emulator.state.stored_actions()
    }


def patches(log: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return the PATCH requests of a request log."""
    return [entry for entry in log if entry["method"] == "PATCH"]


def journal_states(path: Path, run_id: str | None = None) -> dict[str, int]:
    """Count a journal's item rows per state (read-only, safe while a run writes)."""
    if not path.exists():
        return {}
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        query = "SELECT state, COUNT(*) FROM items"
        rows = (
            connection.execute(query + " WHERE run_id = ? GROUP BY state", (run_id,))
            if run_id
            else connection.execute(query + " GROUP BY state")
        ).fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        connection.close()
    return dict(rows)


def last_run_id() -> str:
    """Return the id of the newest run, read through `history -o json`."""
    result = invoke("history", "-o", "json")
    assert result.exit_code == 0, result.output
    runs: list[dict[str, Any]] = json.loads(result.stdout)
    return str(runs[0]["id"])
