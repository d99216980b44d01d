"""Serve the emulator with uvicorn: in a background thread for tests, or blocking.

`running_emulator` binds 127.0.0.1 on a free port, registers a client holding every
permission the emulator checks with a random secret, seeds the org, and shuts the
server down cleanly when the block ends.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from action_timeouts.emulator.app import build_app
from action_timeouts.emulator.options import EmulatorOptions
from action_timeouts.emulator.state import ALL_PERMISSIONS, EmulatorState

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "RunningEmulator",
    "build_state",
    "is_loopback",
    "running_emulator",
    "serve",
]

logger = logging.getLogger(__name__)

DEFAULT_CLIENT_ID = "emulator-client"
DEMO_CLIENT_SECRET = "emulator-demo-secret"  # only for the command-line demo server
_START_TIMEOUT_SECONDS = 10.0
_STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class RunningEmulator:
    """A served emulator: where it listens, its client's credentials, its state."""

    base_url: str
    client_id: str
    client_secret: str
    state: EmulatorState


def build_state(
    *,
    actions: int = 50,
    seed: int = 1,
    seed_dir: str | Path | None = None,
    rate_limit: int | None = None,
    latency_ms: int = 0,
    options: EmulatorOptions | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
    now: Callable[[], float] | None = None,
) -> EmulatorState:
    """Return a seeded state with one client holding every permission it checks.

    Actions and their integrations come from `seed_dir` when given, else from a
    demo org of `actions` actions generated from `seed` (none when `actions` is 0).
    `latency_ms` delays every emulated answer and survives `reset()` and
    `clear_faults()`.
    """
    chosen = options or EmulatorOptions()
    if rate_limit is not None:
        chosen = dataclasses.replace(chosen, rate_limit_per_minute=rate_limit)
    state = EmulatorState(
        chosen, now=now or time.time, seed=seed, latency_ms=latency_ms
    )
    state.add_client(client_id, client_secret, ALL_PERMISSIONS)
    documents, integrations = _seed_org(actions, seed, seed_dir)
    state.load_actions(documents)
    state.load_integrations(integrations)
    if seed_dir is None:
        from action_timeouts.emulator.seed import assign_function_timeouts

        assign_function_timeouts(state, seed)
    return state


def _seed_org(
    actions: int, seed: int, seed_dir: str | Path | None
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Return the seeded org's action documents and integration records."""
    if seed_dir is None and actions <= 0:
        return [], []
    from action_timeouts.emulator import seed as seeding

    if seed_dir is not None:
        documents = seeding.load_directory(Path(seed_dir))
        return documents, seeding.directory_integrations(Path(seed_dir), documents)
    return seeding.generate_demo_org(actions, seed), seeding.demo_integrations(seed)


@contextmanager
def running_emulator(
    actions: int = 50,
    seed: int = 1,
    seed_dir: str | Path | None = None,
    rate_limit: int | None = None,
    latency_ms: int = 0,
    *,
    options: EmulatorOptions | None = None,
    now: Callable[[], float] | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
) -> Iterator[RunningEmulator]:
    """Serve a fresh emulator on 127.0.0.1 and a free port for the block's duration."""
    client_secret = secrets.token_urlsafe(24)
    state = build_state(
        actions=actions,
        seed=seed,
        seed_dir=seed_dir,
        rate_limit=rate_limit,
        latency_ms=latency_ms,
        options=options,
        client_id=client_id,
        client_secret=client_secret,
        now=now,
    )
    with _bound_socket("127.0.0.1", 0) as sock, _serving(state, sock) as base_url:
        yield RunningEmulator(base_url, client_id, client_secret, state)


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    state: EmulatorState,
    allow_remote: bool = False,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the emulator in the foreground until interrupted.

    The control plane has no authentication, so a host that is not a loopback
    address needs `allow_remote=True`. `on_ready` receives the base URL once the
    port is bound.
    """
    if not allow_remote and not is_loopback(host):
        raise ValueError(f"{host} is not a loopback address; pass allow_remote=True")
    with _bound_socket(host, port) as sock:
        base_url = _base_url(host, sock)
        if on_ready is not None:
            on_ready(base_url)
        logger.info("emulator serving on %s", base_url)
        uvicorn.Server(_config(state)).run(sockets=[sock])


def is_loopback(host: str) -> bool:
    """Tell whether a host name or address only accepts local connections."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _config(state: EmulatorState) -> uvicorn.Config:
    return uvicorn.Config(
        build_app(state),
        log_level="warning",
        log_config=None,
        access_log=False,
        lifespan="off",
        http="h11",
        ws="none",
        proxy_headers=False,
    )


@contextmanager
def _bound_socket(host: str, port: int) -> Iterator[socket.socket]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # asyncio turns Nagle off only for sockets that name TCP as their protocol;
    # with Nagle on, every keep-alive answer waits for a delayed ACK (about 40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        yield sock
    finally:
        sock.close()


def _base_url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@contextmanager
def _serving(state: EmulatorState, sock: socket.socket) -> Iterator[str]:
    server = uvicorn.Server(_config(state))
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name="action-timeouts-emulator",
        daemon=True,
    )
    thread.start()
    try:
        _wait_until_started(server, thread)
        yield _base_url(sock.getsockname()[0], sock)
    finally:
        server.should_exit = True
        thread.join(_STOP_TIMEOUT_SECONDS)


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the emulator server did not start")
        time.sleep(0.005)
