"""Benchmark a whole-org timeout change against a naive per-action loop (emulator).

Two runs change the same actions (every standard action whose timeout differs from
`--timeout`), each on a fresh in-process emulator with the same seed, rate limit
and injected latency:

- ours: what `action-timeouts set SECONDS --all --yes` does: one listing with
  config, a plan, `bulk.Runner` with workers (linked templates fetched and sent
  inline, the journal in a temporary directory), and one listing to verify;
- baseline: the common naive loop with plain httpx and a token: list the ids,
  then for each action in turn GET it (with config), PATCH it with its config as
  read, and GET it again to check the timeout; a 429 is waited out for its
  `Retry-After`, so the baseline is never slowed by retrying too early.

For each run it prints the wall time, the API requests the emulator logged, the
429s, the failures, the requests per changed action, the actions whose stored
document differs from the expected one (anything besides the timeout), and the
wall time divided by the floor the rate limit imposes:

    floor = needed requests / (rate limit per minute / 60)

where, for ours, needed requests = listing pages + linked templates of the changed
actions + one PATCH per changed action + verification listing pages; for the
baseline, needed requests = the API requests it sent. The emulator's window is
fixed (60 s from a client's first request in it), so a run that bursts to the
window's allowance and waits for the reset can even beat this floor.

The emulator's window is a fixed 60 s, so a run takes about one window per
`rate limit` requests it needs: with the default 300 per minute and 1000 actions,
ours takes about 5 minutes and the baseline about 9. A higher `--rate-limit`
(3000) finishes in seconds, but 1000 actions then fit in one window: the limit
does not bind, and the ratio measures throughput against latency, not pacing
(the ratio stays the same only if `--actions` grows with the limit, which takes
as many windows as before). To check the pacing quickly, run `--quick` (200
actions) at the default limit: two windows, about a minute per run.
"""

from __future__ import annotations

import argparse
import copy
import math
import shlex
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from action_timeouts.actions import (
    LIST_PAGE_SIZE,
    TEMPLATE_SLOTS,
    ActionKind,
    action_kind,
    current_timeout,
)
from action_timeouts.emulator.server import RunningEmulator, running_emulator

API_PREFIX = "/api/v2/"
ACTIONS_PATH = "/api/v2/integrations/actions"
QUICK_ACTIONS = 200
WINDOW_SECONDS = 60.0


@dataclass
class Figures:
    """What one run did and how long it took."""

    label: str
    wall_seconds: float
    changed: int
    failures: int
    log: list[dict[str, Any]]
    needed: int
    damaged: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        """Count the API requests the emulator logged (the token request excluded)."""
        return len(self.log)

    @property
    def rate_limited(self) -> int:
        """Count the 429 answers."""
        return sum(1 for entry in self.log if entry["status"] == 429)

    def by_kind(self) -> Counter[str]:
        """Count requests by what they were for."""
        return Counter(request_kind(entry) for entry in self.log)


def request_kind(entry: Mapping[str, Any]) -> str:
    """Name what a logged request was for: listing, read, template, write."""
    path, method = str(entry["path"]), str(entry["method"])
    if path == ACTIONS_PATH:
        return "listing"
    if "/templates/" in path:
        return "template"
    return "write" if method == "PATCH" else f"{method.lower()} one"


# ----------------------------------------------------------------------- emulator


@dataclass(frozen=True)
class Settings:
    """The emulator settings both runs share, and the change they make."""

    actions: int
    rate_limit: int
    latency_ms: int
    seed: int
    timeout: int
    workers: int

    @property
    def rate_per_second(self) -> float:
        """Return the rate limit in requests per second."""
        return self.rate_limit / WINDOW_SECONDS

    def floor(self, requests: int) -> float:
        """Return the least time the rate limit allows for `requests` requests."""
        return requests / self.rate_per_second


@contextmanager
def emulator(settings: Settings) -> Iterator[RunningEmulator]:
    """Serve a fresh emulator seeded and limited as the settings say."""
    with running_emulator(
        actions=settings.actions,
        seed=settings.seed,
        rate_limit=settings.rate_limit,
        latency_ms=settings.latency_ms,
    ) as running:
        yield running


def targets(stored: list[dict[str, Any]], timeout: int) -> list[str]:
    """Return the ids a `set TIMEOUT --all` changes: standard actions not at it."""
    return [
        str(action["id"])
        for action in stored
        if action_kind(action) is ActionKind.STANDARD
        and current_timeout(action) != timeout
    ]


def linked_templates(stored: list[dict[str, Any]], ids: set[str]) -> int:
    """Count the stored templates of the given actions (each one is a link)."""
    count = 0
    for action in stored:
        if action["id"] not in ids:
            continue
        config = action.get("config") or {}
        for section, inline_key, _link, _file in TEMPLATE_SLOTS:
            count += inline_key in (config.get(section) or {})
    return count


def listing_pages(actions: int) -> int:
    """Return how many pages one full listing takes."""
    return max(1, math.ceil(actions / LIST_PAGE_SIZE))


def damaged(
    before: list[dict[str, Any]], after: list[dict[str, Any]], ids: set[str], new: int
) -> int:
    """Count actions whose stored document is not the expected one after the run."""
    now = {str(action["id"]): action for action in after}
    count = 0
    for action in before:
        expected = copy.deepcopy(action)
        if action["id"] in ids:
            expected.setdefault("config", {})["timeoutSeconds"] = new
        actual = copy.deepcopy(now.get(str(action["id"]), {}))
        expected.pop("version", None)
        actual.pop("version", None)
        count += expected != actual
    return count


def api_log(running: RunningEmulator) -> list[dict[str, Any]]:
    """Return the logged requests to the API (not the login)."""
    return [
        entry
        for entry in running.state.request_log()
        if str(entry["path"]).startswith(API_PREFIX)
    ]


# ---------------------------------------------------------------------- our run


def run_ours(settings: Settings, *, via_cli: bool) -> Figures:
    """Change the timeouts with the library path of `set SECONDS --all --yes`."""
    with emulator(settings) as running:
        before = running.state.stored_actions()
        ids = set(targets(before, settings.timeout))
        needed = (
            2 * listing_pages(settings.actions)
            + linked_templates(before, ids)
            + len(ids)
        )
        with tempfile.TemporaryDirectory(prefix="bulk-set-bench-") as state_dir:
            runner = run_cli if via_cli else run_library
            started = time.perf_counter()
            changed, failures, notes = runner(running, settings, Path(state_dir))
            wall = time.perf_counter() - started
        after = running.state.stored_actions()
        figures = Figures("ours", wall, changed, failures, api_log(running), needed)
    figures.damaged = damaged(before, after, ids, settings.timeout)
    figures.notes = notes
    return figures


def run_library(
    running: RunningEmulator, settings: Settings, state_dir: Path
) -> tuple[int, int, list[str]]:
    """List, plan, apply with `bulk.Runner` and verify, as the `set` command does."""
    from action_timeouts.actions import ActionsApi
    from action_timeouts.bulk import changes_from_plan
    from action_timeouts.cli.actions_command import complete_listing
    from action_timeouts.cli.runs_command import run_changes, run_facts
    from action_timeouts.http import ApiClient
    from action_timeouts.journal import Journal
    from action_timeouts.plan import Selector, api_filters, build_plan
    from action_timeouts.regions import resolve_region

    selector = Selector(all=True)
    endpoint = resolve_region(running.base_url)
    with ApiClient(endpoint, running.client_id, running.client_secret) as client:
        api = ActionsApi(client)
        listing = complete_listing(api, api_filters(selector))
        plan = build_plan(
            listing.actions, selector, settings.timeout, total=listing.total
        )
        listed = {str(action["id"]): action for action in listing.actions}
        journal = Journal.open(state_dir / "journal.sqlite3")
        facts = run_facts(client, "set", {"all": True}, plan.requested)
        run_id = journal.start_run(**facts)
        journal.record_plan(run_id, plan.items)
        changes = changes_from_plan(plan, listed)
        report = run_changes(
            api, journal, run_id, changes, {"workers": settings.workers}
        )
        notes = [client_note(client)]
    failures = len(report.failed) + len(report.not_attempted)
    return len(report.changed), failures, notes


def client_note(client: Any) -> str:
    """Describe the API client's own counters: retries and time spent waiting."""
    stats = client.stats
    return (
        f"client: {stats.requests} requests, {stats.retries} retries "
        f"({stats.rate_limited} after 429), waited {stats.waited_seconds:.1f} s "
        "in total across workers"
    )


def run_cli(
    running: RunningEmulator, settings: Settings, state_dir: Path
) -> tuple[int, int, list[str]]:
    """Run `action-timeouts set SECONDS --all --yes` in-process and read its summary."""
    from click.testing import CliRunner

    from action_timeouts.cli import cli

    secret_file = state_dir / "secret"
    secret_file.write_text(running.client_secret, encoding="utf-8")
    arguments = [
        *("set", str(settings.timeout), "--all", "--yes", "-o", "json"),
        *("--workers", str(settings.workers), "--region", running.base_url),
        *("--client-id", running.client_id, "--client-secret-file", str(secret_file)),
    ]
    environment = {"ACTION_TIMEOUTS_STATE_DIR": str(state_dir)}
    result = CliRunner().invoke(cli, arguments, env=environment)
    summary = [line for line in result.stderr.splitlines() if line.startswith("run ")]
    return cli_counts(summary[-1] if summary else "", result.exit_code)


def cli_counts(summary: str, exit_code: int) -> tuple[int, int, list[str]]:
    """Read 'changed N' and 'failed N' from the command's summary line."""
    words = summary.replace(",", "").split()
    counts = {
        words[index]: int(words[index + 1])
        for index in range(len(words) - 1)
        if words[index + 1].isdigit()
    }
    note = f"command: exit code {exit_code}; {summary or 'no summary line'}"
    failures = counts.get("failed", 0) if summary else -1
    return counts.get("changed", 0), failures, [note]


# ----------------------------------------------------------------- the baseline


class NaiveClient:
    """Plain httpx with a bearer token; a 429 waits `Retry-After`, then resends."""

    def __init__(self, running: RunningEmulator) -> None:
        self.http = httpx.Client(base_url=running.base_url, timeout=60)
        token = self.http.post(
            "/oauth/token",
            auth=(running.client_id, running.client_secret),
            data={"grant_type": "client_credentials"},
        ).json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.waited = 0.0

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request, waiting out every 429 for as long as it asks."""
        while True:
            response = self.http.request(method, path, **kwargs)
            if response.status_code != 429:
                return response
            wait = float(response.headers.get("retry-after", "1"))
            self.waited += wait
            time.sleep(wait)

    def close(self) -> None:
        """Close the connection."""
        self.http.close()


def run_baseline(settings: Settings) -> Figures:
    """Change the same actions one by one: GET, PATCH as read, GET to check."""
    with emulator(settings) as running:
        before = running.state.stored_actions()
        ids = set(targets(before, settings.timeout))
        started = time.perf_counter()
        naive = NaiveClient(running)
        try:
            changed, failures = naive_loop(naive, ids, settings.timeout)
        finally:
            naive.close()
        wall = time.perf_counter() - started
        log = api_log(running)
        after = running.state.stored_actions()
    figures = Figures("baseline", wall, changed, failures, log, needed=len(log))
    figures.damaged = damaged(before, after, ids, settings.timeout)
    figures.notes = [f"baseline: waited {naive.waited:.1f} s on Retry-After"]
    return figures


def naive_loop(naive: NaiveClient, ids: set[str], timeout: int) -> tuple[int, int]:
    """List the ids, then update each selected action in turn."""
    changed = failures = 0
    for action_id in naive_ids(naive):
        if action_id not in ids:
            continue
        if naive_update(naive, action_id, timeout):
            changed += 1
        else:
            failures += 1
    return changed, failures


def naive_ids(naive: NaiveClient) -> list[str]:
    """Page through the listing and collect every action id."""
    found: list[str] = []
    page = 1
    while True:
        params = {"pageSize": LIST_PAGE_SIZE, "pageNumber": page}
        body = naive.send("GET", ACTIONS_PATH, params=params).json()
        found += [str(item["id"]) for item in body.get("entities", [])]
        if page >= int(body.get("pageCount") or 0):
            return found
        page += 1


def naive_update(naive: NaiveClient, action_id: str, timeout: int) -> bool:
    """GET with config, PATCH the config as read with the new timeout, GET again."""
    path = f"{ACTIONS_PATH}/{action_id}"
    params = {"expand": "contract", "includeConfig": "true"}
    read = naive.send("GET", path, params=params)
    if read.status_code != 200:
        return False
    action = read.json()
    config = {**action.get("config", {}), "timeoutSeconds": timeout}
    body = {
        "name": action["name"],
        "category": action["category"],
        "version": action["version"],
        "config": config,
    }
    if naive.send("PATCH", path, json=body).status_code != 200:
        return False
    check = naive.send("GET", path, params=params)
    return check.status_code == 200 and current_timeout(check.json()) == timeout


# ---------------------------------------------------------------------- report


def show_settings(settings: Settings, argv: list[str]) -> None:
    """Print the command line and the emulator settings."""
    command = shlex.join([sys.executable, *argv])
    print(f"command:   {command}")
    print(
        f"emulator:  {settings.actions} actions (seed {settings.seed}), rate limit "
        f"{settings.rate_limit}/min per client (fixed 60 s window), latency "
        f"{settings.latency_ms} ms per request"
    )
    print(
        f"change:    every standard action to {settings.timeout} s; "
        f"ours with {settings.workers} workers, the baseline one request at a time"
    )
    print(
        "floor:     needed requests / (rate limit / 60 s); ours needs listing pages "
        "+ linked templates + PATCHes + verification listing pages, the baseline "
        "its own request count"
    )


def show_figures(figures: Figures, settings: Settings) -> None:
    """Print one run's figures."""
    floor = settings.floor(figures.needed)
    per_change = figures.requests / figures.changed if figures.changed else math.nan
    kinds = ", ".join(
        f"{kind} {count}" for kind, count in sorted(figures.by_kind().items())
    )
    print(f"\n[{figures.label}]")
    print(f"  wall time:              {figures.wall_seconds:8.1f} s")
    print(f"  requests sent:          {figures.requests:8d}   ({kinds})")
    print(f"  429s received:          {figures.rate_limited:8d}")
    print(f"  changed / failures:     {figures.changed:8d} / {figures.failures}")
    print(f"  damaged actions:        {figures.damaged:8d}   (not as expected after)")
    print(f"  requests per change:    {per_change:8.2f}")
    print(f"  needed requests:        {figures.needed:8d}")
    print(f"  rate-limit floor:       {floor:8.1f} s")
    print(f"  wall time / floor:      {figures.wall_seconds / floor:8.2f}")
    for note in figures.notes:
        print(f"  {note}")


# ------------------------------------------------------------------------ main


def parse_arguments(argv: list[str]) -> tuple[Settings, argparse.Namespace]:
    """Read the command line into emulator settings and run switches."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=1000, help="actions in the org")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_ACTIONS} actions, a fast check"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=300,
        help="requests per minute per client (3000: fast, but the limit stops binding)",
    )
    parser.add_argument(
        "--latency-ms", type=int, default=20, help="latency per request"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the demo org")
    parser.add_argument("--timeout", type=int, default=42, help="the new timeout (s)")
    parser.add_argument("--workers", type=int, default=8, help="our bulk workers")
    parser.add_argument(
        "--run", choices=("both", "ours", "baseline"), default="both", help="which runs"
    )
    parser.add_argument(
        "--via-cli", action="store_true", help="run ours through the command in-process"
    )
    options = parser.parse_args(argv)
    actions = QUICK_ACTIONS if options.quick else options.actions
    settings = Settings(
        actions,
        options.rate_limit,
        options.latency_ms,
        options.seed,
        options.timeout,
        options.workers,
    )
    return settings, options


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; exit 1 when ours failed or damaged."""
    arguments = sys.argv[1:] if argv is None else argv
    settings, options = parse_arguments(arguments)
    show_settings(settings, [sys.argv[0], *arguments])
    runs: list[Callable[[], Figures]] = []
    if options.run in ("both", "ours"):
        runs.append(lambda: run_ours(settings, via_cli=options.via_cli))
    if options.run in ("both", "baseline"):
        runs.append(lambda: run_baseline(settings))
    results = []
    for run in runs:
        results.append(run())
        show_figures(results[-1], settings)
        sys.stdout.flush()
    ours = [figures for figures in results if figures.label == "ours"]
    return 1 if any(figures.failures or figures.damaged for figures in ours) else 0


if __name__ == "__main__":
    raise SystemExit(main())
