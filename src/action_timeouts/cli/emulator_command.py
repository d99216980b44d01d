"""`action-timeouts emulator`: run the local emulator of the data-actions API.

The emulator modules (and uvicorn, starlette) are imported inside the command, so
`action-timeouts --help` stays fast.
"""

from __future__ import annotations

import logging
import secrets
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from action_timeouts.cli.common import handle_errors
from action_timeouts.errors import ConfigurationError

if TYPE_CHECKING:
    from action_timeouts.emulator.options import EmulatorOptions
    from action_timeouts.emulator.state import EmulatorState

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_ACTIONS = 50
WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


@dataclass(frozen=True)
class ServeRequest:
    """What `emulator serve` was asked to do."""

    host: str
    port: int
    actions: int | None
    seed_dir: Path | None
    random_seed: int
    rate_limit: int
    latency_ms: int
    client_id: str | None
    options: dict[str, Any]


@click.group("emulator")
def emulator() -> None:
    """Run the local emulator of the data-actions API."""


# One option per switchable modelling choice of the emulator (see docs/EMULATOR.md).
MODELLING_OPTIONS = [
    click.option(
        "--patch-mode",
        type=click.Choice(["replace", "merge"]),
        default="replace",
        show_default=True,
        help="Whether PATCH replaces the whole config or merges into it.",
    ),
    click.option(
        "--conflict-status",
        type=click.Choice(["409", "408", "400"]),
        default="409",
        show_default=True,
        help="Status of a PATCH whose version is stale.",
    ),
    click.option(
        "--conflict-code",
        type=click.Choice(["invalid.update.wrong.version", "general.conflict"]),
        default="invalid.update.wrong.version",
        show_default=True,
        help="Error code of a 409 or 408 version conflict.",
    ),
    click.option(
        "--token-error-status",
        type=click.Choice(["401", "400"]),
        default="401",
        show_default=True,
        help="Status of a token request with bad client credentials.",
    ),
    click.option(
        "--static-patch-status",
        type=click.Choice(["400", "403"]),
        default="400",
        show_default=True,
        help="Status of a change to a built-in (static) action.",
    ),
    click.option(
        "--token-lifetime",
        type=click.IntRange(min=1),
        default=86400,
        show_default=True,
        help="Seconds a token stays valid (expires_in).",
    ),
    click.option(
        "--max-page-size",
        type=click.IntRange(min=1),
        default=100,
        show_default=True,
        help="Largest pageSize served; larger requests are clamped.",
    ),
    click.option(
        "--total/--no-total",
        "include_total",
        default=True,
        show_default=True,
        help="Whether listings carry total, pageCount and lastUri.",
    ),
    click.option(
        "--execution-timeout-status",
        type=click.IntRange(400, 599),
        default=504,
        show_default=True,
        help="Status of an execution that runs past its timeout.",
    ),
    click.option(
        "--contract-without-expand",
        is_flag=True,
        help="Show the contract even without expand=contract.",
    ),
    click.option(
        "--model-fields-only",
        is_flag=True,
        help="Show only the Action model's fields (hide other stored keys).",
    ),
    click.option(
        "--unknown-config-keys",
        type=click.Choice(["reject", "keep", "drop"]),
        default="reject",
        show_default=True,
        help="What a write does with a config key no config model defines.",
    ),
    click.option(
        "--publish-contract-change",
        type=click.Choice(["allow", "reject"]),
        default="allow",
        show_default=True,
        help="Whether a published draft may change a published action's contract.",
    ),
    click.option(
        "--unknown-patch-fields",
        type=click.Choice(["reject", "ignore"]),
        default="reject",
        show_default=True,
        help="Whether a PATCH field its input model lacks is refused or ignored.",
    ),
    click.option(
        "--url-removal",
        type=click.Choice(["allow", "reject"]),
        default="allow",
        show_default=True,
        help="Whether a write may leave an HTTP action without a request URL.",
    ),
    click.option(
        "--version-step",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="How much a write adds to the version of an action or draft.",
    ),
    click.option(
        "--draft-start-version",
        type=click.IntRange(min=0),
        default=1,
        show_default=True,
        help="The version a new draft starts at.",
    ),
]


def modelling_options(function: F) -> F:
    """Add one option per switchable modelling choice of the emulator."""
    for option in reversed(MODELLING_OPTIONS):
        function = option(function)
    return function


@emulator.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback exposes the emulator.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8787,
    show_default=True,
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--actions",
    type=click.IntRange(min=0),
    default=None,
    help=f"Generate a demo org of N actions  [default: {DEFAULT_ACTIONS}]",
)
@click.option(
    "--seed",
    "seed_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="A directory: serve the actions of its *.json files instead of a "
    "generated org (the generator's number is --random-seed).",
)
@click.option(
    "--random-seed",
    type=int,
    default=1,
    show_default=True,
    help="A number that seeds the generated org (same number, same org).",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Requests per minute per client before 429.",
)
@click.option(
    "--latency",
    "latency_ms",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="MS",
    help="Delay every emulated answer by MS milliseconds.",
)
@click.option(
    "--client-id",
    default=None,
    help="Client id to register  [default: emulator-client]",
)
@modelling_options
@handle_errors
def serve(**kwargs: Any) -> None:
    """Serve the emulated login and API until Ctrl-C.

    The environment lines for the tool go to standard output; everything else
    goes to standard error.
    """
    request = serve_request(kwargs)
    options = emulator_options(request.options)
    state, client_id, secret = seeded_state(request, options)
    run_server(request, state, client_id, secret)


def serve_request(kwargs: dict[str, Any]) -> ServeRequest:
    """Check the options of `serve` and gather them."""
    if kwargs["actions"] is not None and kwargs["seed_dir"] is not None:
        message = "--actions and --seed are mutually exclusive"
        raise click.UsageError(message)
    return ServeRequest(
        host=kwargs.pop("host"),
        port=kwargs.pop("port"),
        actions=kwargs.pop("actions"),
        seed_dir=kwargs.pop("seed_dir"),
        random_seed=kwargs.pop("random_seed"),
        rate_limit=kwargs.pop("rate_limit"),
        latency_ms=kwargs.pop("latency_ms"),
        client_id=kwargs.pop("client_id"),
        options=kwargs,
    )


def emulator_options(values: dict[str, Any]) -> EmulatorOptions:
    """Build the emulator's modelling options from the command's options."""
    from action_timeouts.emulator.options import EmulatorOptions

    return EmulatorOptions(
        patch_mode="merge" if values["patch_mode"] == "merge" else "replace",
        conflict_status=int(values["conflict_status"]),
        conflict_code=values["conflict_code"],
        token_error_status=int(values["token_error_status"]),
        static_patch_status=int(values["static_patch_status"]),
        max_page_size=values["max_page_size"],
        token_lifetime=values["token_lifetime"],
        include_total=values["include_total"],
        execution_timeout_status=values["execution_timeout_status"],
        contract_without_expand=values["contract_without_expand"],
        model_fields_only=values["model_fields_only"],
        unknown_config_keys=values["unknown_config_keys"],
        publish_contract_change=values["publish_contract_change"],
        unknown_patch_fields=values["unknown_patch_fields"],
        url_removal=values["url_removal"],
        version_step=values["version_step"],
        draft_start_version=values["draft_start_version"],
    )


def seeded_state(
    request: ServeRequest, options: EmulatorOptions
) -> tuple[EmulatorState, str, str]:
    """Build the seeded org and its client; return the state, client id and secret."""
    from action_timeouts.emulator.server import (
        DEFAULT_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        build_state,
        is_loopback,
    )

    # A fixed secret is convenient on loopback; an exposed emulator gets a random one.
    loopback = is_loopback(request.host)
    secret = DEMO_CLIENT_SECRET if loopback else secrets.token_urlsafe(24)
    client_id = request.client_id or DEFAULT_CLIENT_ID
    state = build_state(
        actions=DEFAULT_ACTIONS if request.actions is None else request.actions,
        seed=request.random_seed,
        seed_dir=request.seed_dir,
        rate_limit=request.rate_limit,
        latency_ms=request.latency_ms,
        options=options,
        client_id=client_id,
        client_secret=secret,
    )
    return state, client_id, secret


def run_server(
    request: ServeRequest, state: EmulatorState, client_id: str, secret: str
) -> None:
    """Serve in the foreground; print how to connect once the port is bound."""
    from action_timeouts.emulator.server import is_loopback, serve

    loopback = is_loopback(request.host)
    if not loopback:
        warn_exposed(request.host)
    count = len(state.stored_actions())

    def announce(base_url: str) -> None:
        print_connection(local_url(base_url, request.host), client_id, secret, count)

    try:
        serve(
            request.host,
            request.port,
            state=state,
            allow_remote=not loopback,
            on_ready=announce,
        )
    except OSError as error:
        raise cannot_listen(request, error) from error
    except KeyboardInterrupt:
        logger.debug("emulator interrupted")
    click.echo("emulator stopped", err=True)


def warn_exposed(host: str) -> None:
    """Warn that a non-loopback address exposes the emulator to the network."""
    click.echo(
        f"warning: listening on {host} exposes the emulator and its "
        "unauthenticated control plane (/__emulator__) to the network",
        err=True,
    )


def cannot_listen(request: ServeRequest, error: OSError) -> ConfigurationError:
    """Return the one-line error for an address that cannot be bound."""
    message = (
        f"cannot listen on {request.host}:{request.port}: "
        f"{error.strerror or error} (choose another --host or --port)"
    )
    return ConfigurationError(message)


def local_url(base_url: str, host: str) -> str:
    """Return the URL a local client uses, replacing a wildcard listen address."""
    if host not in WILDCARD_HOSTS:
        return base_url
    local = WILDCARD_HOSTS[host]
    shown = f"[{local}]" if ":" in local else local
    port = base_url.rsplit(":", 1)[1]
    return f"http://{shown}:{port}"


def print_connection(base_url: str, client_id: str, secret: str, count: int) -> None:
    """Print the environment for the tool on stdout and the rest on stderr."""
    for name, value in environment_lines(base_url, client_id, secret):
        click.echo(f"export {name}={shlex.quote(value)}")
    token_command = (
        f"curl -s -u {shlex.quote(f'{client_id}:{secret}')} "
        f"-d grant_type=client_credentials {base_url}/oauth/token"
    )
    lines = [
        f"emulator listening on {base_url} with {count} actions",
        f"  client id:     {client_id}",
        f"  client secret: {secret}",
        f"  get a token:   {token_command}",
        f"  list actions:  curl -s -H 'Authorization: Bearer TOKEN' "
        f"'{base_url}/api/v2/integrations/actions?includeConfig=true'",
        "Press Ctrl-C to stop.",
    ]
    click.echo("\n".join(lines), err=True)


def environment_lines(
    base_url: str, client_id: str, secret: str
) -> list[tuple[str, str]]:
    """Return the variables that point the tool at this emulator."""
    return [
        ("GENESYSCLOUD_REGION", base_url),
        ("GENESYSCLOUD_API_REGION", base_url),
        ("GENESYSCLOUD_OAUTHCLIENT_ID", client_id),
        ("GENESYSCLOUD_OAUTHCLIENT_SECRET", secret),
    ]
