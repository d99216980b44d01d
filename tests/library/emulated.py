"""Helpers for library tests that talk to the emulator over real HTTP."""

from __future__ import annotations

import copy
import functools
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from action_timeouts.actions import ACTIONS_PATH, differences
from action_timeouts.emulator.seed import load_directory
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.http import ApiClient, RetryPolicy
from action_timeouts.regions import resolve_region
from corpus import CORPUS_DIR, corpus_files, require_corpus

# High enough that no test meets the real limiter unless it lowers it on purpose.
UNREACHED_RATE_LIMIT = 1_000_000
# Keys that a timeout change is allowed to move.
TIMEOUT_CHANGE_PATHS = ("config.timeoutSeconds", "version")
CRLF_TEMPLATE = '{\r\n  "order": "${input.orderId}",\r\n  "note": "日本 ✓"\r\n}\r\n'
VELOCITY_TEMPLATE = (
    '#set($q = "${input.query}")\n'
    '{"query": "$esc.jsonString($q)", "n": #if($input.n)$input.n#{else}0#end}'
)


def fast_policy(**changes: Any) -> RetryPolicy:
    """Return a retry policy without jitter whose backoff is a few milliseconds."""
    values: dict[str, Any] = {
        "jitter": False,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
    }
    values.update(changes)
    return RetryPolicy(**values)


def make_client(
    emu: RunningEmulator,
    *,
    credentials: tuple[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    policy: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ApiClient:
    """Return a real API client of the emulator (its own client unless told)."""
    client_id, client_secret = credentials or (emu.client_id, emu.client_secret)
    return ApiClient(
        resolve_region(emu.base_url),
        client_id,
        client_secret,
        policy=policy or fast_policy(),
        sleep=sleep,
        transport=transport,
    )


AnswerRewrite = Callable[[httpx.Request, httpx.Response], httpx.Response]


class RewrittenAnswers(httpx.BaseTransport):
    """Send every request to the emulator, then replace chosen answers.

    The emulator has processed the request (a PATCH has committed) before its answer
    is swapped for the one `rewrite` returns: what a gateway that mangles answers
    does. `rewrite` applies to the next `count` requests with that method whose path
    ends with `path_suffix`.
    """

    def __init__(
        self, method: str, path_suffix: str, rewrite: AnswerRewrite, count: int = 1
    ) -> None:
        self.inner = httpx.HTTPTransport()
        self.method, self.path_suffix = method, path_suffix
        self.rewrite, self.left = rewrite, count

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Forward the request; rewrite its answer while rewrites are left."""
        response = self.inner.handle_request(request)
        chosen = request.method == self.method and request.url.path.endswith(
            self.path_suffix
        )
        if not chosen or self.left <= 0:
            return response
        self.left -= 1
        response.read()
        response.close()
        return self.rewrite(request, response)

    def close(self) -> None:
        """Close the connections to the emulator."""
        self.inner.close()


@functools.cache
def _corpus() -> tuple[tuple[str, dict[str, Any]], ...]:
    files = corpus_files()
    documents = load_directory(CORPUS_DIR)
    return tuple(zip((file.stem for file in files), documents, strict=True))


def corpus_documents() -> list[tuple[str, dict[str, Any]]]:
    """Return (file stem, action document) for every corpus file, as fresh copies.

    The calling test or fixture is skipped when the corpus is missing.
    """
    require_corpus()
    return copy.deepcopy(list(_corpus()))


def web_action(action_id: str, name: str = "Lookup Order", **config: Any) -> Any:
    """Return a web-services action with both templates inline and `config` extras."""
    return {
        "id": action_id,
        "name": name,
        "category": "Acme Web Services",
        "integrationId": "integration-1",
        "secure": False,
        "contract": {
            "input": {"inputSchema": {"type": "object"}},
            "output": {"successSchema": {"type": "object"}},
        },
        "config": {
            **config,
            "request": {
                "requestUrlTemplate": "https://orders.example.invalid/${input.id}",
                "requestType": "POST",
                "headers": {"Accept": "application/json", "X-Trace": "عربى"},
                "requestTemplate": CRLF_TEMPLATE,
            },
            "response": {
                "translationMap": {"status": "$.state"},
                "translationMapDefaults": {"status": '"UNKNOWN"'},
                "successTemplate": VELOCITY_TEMPLATE,
            },
        },
    }


def function_action(action_id: str, **config: Any) -> Any:
    """Return a function data action (no request URL; the platform runs code)."""
    return {
        "id": action_id,
        "name": "Compute Score",
        "category": "Function Data Actions",
        "integrationId": "integration-2",
        "integrationType": "function-data-actions",
        "secure": True,
        "contract": {"input": {"inputSchema": {"type": "object"}}},
        "config": {**config, "function": {"handler": "index.handler"}},
    }


def changed_paths(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """List the dotted paths where two stored actions differ."""
    return differences(dict(before), dict(after))


def unexpected_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[str]:
    """List the differences between two stored actions beyond timeout and version.

    The check is a strict deep comparison of the JSON texts (so 1, 1.0 and true
    differ); `differences` only names the paths for the report.
    """
    if _canonical(before) == _canonical(after):
        return []
    paths = changed_paths(before, after)
    return [path for path in paths if path not in TIMEOUT_CHANGE_PATHS] or [
        "(a difference of JSON type only)"
    ]


def _canonical(action: Mapping[str, Any]) -> str:
    """Return the action as sorted JSON text without its timeout and version."""
    trimmed = copy.deepcopy(dict(action))
    trimmed.pop("version", None)
    config = trimmed.get("config")
    if isinstance(config, dict):
        config.pop("timeoutSeconds", None)
    return json.dumps(trimmed, sort_keys=True, ensure_ascii=False)


def requests(
    emu: RunningEmulator, method: str | None = None, *, start: int = 0
) -> list[dict[str, Any]]:
    """Return the logged API requests (from index `start`) with that method."""
    return [
        entry
        for entry in emu.state.request_log()[start:]
        if entry["path"].startswith("/api/v2")
        and (method is None or entry["method"] == method)
    ]


def action_reads(entries: list[dict[str, Any]], action_id: str) -> list[Any]:
    """Return the logged GETs of one action's own document (not its templates)."""
    path = f"{ACTIONS_PATH}/{action_id}"
    return [e for e in entries if e["method"] == "GET" and e["path"] == path]


def logins(emu: RunningEmulator, *, start: int = 0) -> int:
    """Count the token requests logged from index `start`."""
    log = emu.state.request_log()[start:]
    return sum(1 for entry in log if entry["path"] == "/oauth/token")
