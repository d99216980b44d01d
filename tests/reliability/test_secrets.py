"""The client secret and its tokens appear nowhere; TLS is required and verified.

A canary client with a recognisable secret is registered in the emulator, and every
token the emulator issues for it is recorded. After runs that succeed and runs that
fail, stdout, stderr at `-vv`, every log record (the HTTP libraries' debug records
included), exception texts and tracebacks, and the raw bytes of the journal files
are searched for the secret, its HTTP Basic form and each token.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import sqlite3
import ssl
import stat
import subprocess
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner, Result

from action_timeouts.cli import COMMANDS, cli
from action_timeouts.cli import common as cli_common
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.emulator.state import ALL_PERMISSIONS
from action_timeouts.errors import (
    ActionTimeoutsError,
    BadResponseError,
    ConfigurationError,
)
from action_timeouts.http import ApiClient
from action_timeouts.regions import Endpoint, resolve_region
from action_timeouts.settings import describe_settings, load_settings
from cli.helpers import run_subprocess, web_action

pytestmark = pytest.mark.usefixtures("credentials", "no_backoff")

CANARY = "canary-SECRET-7f3a9c"
CANARY_CLIENT = "canary-client"
RUN = "{last run}"
VIEW_ONLY = ["integrations:action:view"]


@dataclass
class Canary:
    """The canary secret, the tokens issued for it, and the search for them."""

    tokens: list[str] = field(default_factory=list)

    def forms(self) -> list[str]:
        """Return every form in which the secret or a token could leak."""
        basic = base64.b64encode(f"{CANARY_CLIENT}:{CANARY}".encode()).decode()
        return [CANARY, basic, *self.tokens]

    def assert_absent(self, where: str, content: str | bytes) -> None:
        """Fail, naming the place, when any form appears in `content`."""
        data = (
            content.encode("utf-8", "replace") if isinstance(content, str) else content
        )
        for form in self.forms():
            assert form.encode() not in data, f"{form[:12]}... leaked into {where}"


class RecordingHandler(logging.Handler):
    """Keep every log record as formatted text, exception tracebacks included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Store the record as it would be printed."""
        self.texts.append(self.format(record))


@pytest.fixture
def canary(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Canary:
    """Log in as the canary client, recording every token the emulator issues."""
    found = Canary()
    state = emulator.state
    state.add_client(CANARY_CLIENT, CANARY, ALL_PERMISSIONS)
    issue = state.issue_token

    def recording(client_id: str, client_secret: str) -> tuple[str, int]:
        token, lifetime = issue(client_id, client_secret)
        found.tokens.append(token)
        return token, lifetime

    monkeypatch.setattr(state, "issue_token", recording)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", CANARY_CLIENT)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", CANARY)
    return found


@pytest.fixture
def log_records(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingHandler]:
    """Record every log record at debug level, httpx's and httpcore's included."""
    handler = RecordingHandler()
    configure = cli_common.configure_logging

    def configure_and_listen(verbosity: int, quiet: bool) -> None:
        configure(verbosity, quiet)
        logging.getLogger("action_timeouts").addHandler(handler)
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.DEBUG)

    monkeypatch.setattr(cli_common, "configure_logging", configure_and_listen)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)
    for name in ("action_timeouts", "httpx", "httpcore"):
        logging.getLogger(name).removeHandler(handler)


@dataclass(frozen=True)
class Scenario:
    """Commands run one after another, each with its expected exit code."""

    id: str
    commands: tuple[tuple[tuple[str, ...], int], ...]
    prepare: Callable[[RunningEmulator], object] | None = None
    stdin: str | None = None
    logs_in: bool = True


def secret_file(_emulator: RunningEmulator) -> None:
    """Write the canary secret to a file in the working directory."""
    Path("canary.secret").write_text(CANARY + "\n", encoding="utf-8")


def other_secret(emulator: RunningEmulator) -> None:
    """Give the canary client another secret, so the canary is refused."""
    emulator.state.add_client(CANARY_CLIENT, "the-real-secret-0123456789", [])


SCENARIOS = [
    Scenario("show", ((("show", "order-lookup"), 0),)),
    Scenario(
        "show-revealed", ((("show", "order-lookup", "--reveal", "-o", "json"), 0),)
    ),
    Scenario("list", ((("list", "-o", "json"), 0), (("list",), 0))),
    Scenario("set-one", ((("set", "10", "order-lookup"), 0),)),
    Scenario("set-all", ((("set", "20", "--all", "--yes"), 0),)),
    Scenario(
        "undo",
        (
            (("set", "20", "--all", "--yes"), 0),
            (("history", RUN), 0),
            (("undo", RUN, "--yes"), 0),
        ),
    ),
    Scenario(
        "config-show",
        ((("config", "show"), 0), (("config", "show", "-o", "json"), 0)),
        logs_in=False,
    ),
    Scenario(
        "secret-from-stdin",
        ((("set", "10", "order-lookup", "--client-secret-stdin"), 0),),
        stdin=CANARY + "\n",
    ),
    Scenario(
        "secret-from-file",
        ((("config", "show", "--client-secret-file", "canary.secret"), 0),),
        secret_file,
        logs_in=False,
    ),
    Scenario(
        "wrong-secret",
        ((("set", "10", "order-lookup"), 4),),
        other_secret,
        logs_in=False,
    ),
    Scenario(
        "forbidden",
        ((("set", "10", "order-lookup"), 5),),
        lambda emu: emu.state.add_client(CANARY_CLIENT, CANARY, VIEW_ONLY),
    ),
    Scenario(
        "server-500s",
        ((("show", "order-lookup"), 11),),
        lambda emu: emu.state.set_error_rate(1.0, status=500),
    ),
    Scenario(
        "server-503s-retried",
        ((("list",), 11),),
        lambda emu: emu.state.set_error_rate(1.0, status=503),
    ),
    Scenario(
        "login-500s",
        ((("list",), 11),),
        lambda emu: emu.state.set_error_rate(1.0, status=500, path_prefix="/oauth"),
        logs_in=False,
    ),
    Scenario(
        "dropped-connections",
        ((("show", "order-lookup"), 10),),
        lambda emu: emu.state.inject_drops(50),
    ),
    Scenario(
        "dropped-login",
        ((("list",), 10),),
        lambda emu: emu.state.inject_drops(50, path_prefix="/oauth"),
        logs_in=False,
    ),
    Scenario(
        "write-answer-dropped",
        ((("set", "10", "order-lookup"), 0),),
        lambda emu: emu.state.inject_commit_without_answer(1),
    ),
    Scenario(
        "verification-error",
        ((("set", "--unset", "order-lookup"), 12),),
        lambda emu: emu.state.set_options(patch_mode="merge"),
    ),
]


def invoke(*args: str, stdin: str | None = None) -> Result:
    """Run the command line in-process at the most verbose level."""
    return CliRunner().invoke(
        cli, ["-vv", *args], input=stdin, prog_name="action-timeouts"
    )


def last_run_id(journal_path: Path) -> str:
    """Return the id of the newest run in the journal."""
    with sqlite3.connect(journal_path) as connection:
        row = connection.execute(
            "SELECT id FROM runs ORDER BY started_at DESC"
        ).fetchone()
    return str(row[0])


def result_texts(result: Result) -> dict[str, str]:
    """Return everything a run printed or raised, by where it came from."""
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    if result.exc_info is not None:
        texts["exception"] = "".join(traceback.format_exception(*result.exc_info))
    return texts


def journal_bytes(journal_path: Path) -> dict[str, bytes]:
    """Return the raw bytes of the journal file and its companion files."""
    files = [
        journal_path.with_name(journal_path.name + end) for end in ("", "-wal", "-shm")
    ]
    return {path.name: path.read_bytes() for path in files if path.exists()}


@pytest.mark.parametrize(
    "scenario", [pytest.param(scenario, id=scenario.id) for scenario in SCENARIOS]
)
def test_secret_and_tokens_never_appear(
    scenario: Scenario,
    emulator: RunningEmulator,
    canary: Canary,
    log_records: RecordingHandler,
    journal_path: Path,
) -> None:
    """No output, log record, traceback or journal byte holds the secret or a token."""
    if scenario.prepare is not None:
        scenario.prepare(emulator)

    for template, code in scenario.commands:
        args = [last_run_id(journal_path) if a == RUN else a for a in template]
        result = invoke(*args, stdin=scenario.stdin)
        assert result.exit_code == code, result.stderr
        for where, text in result_texts(result).items():
            canary.assert_absent(f"{where} of {' '.join(args)}", text)

    assert log_records.texts
    canary.assert_absent("the log records", "\n".join(log_records.texts))
    for name, data in journal_bytes(journal_path).items():
        canary.assert_absent(name, data)
    assert bool(canary.tokens) == scenario.logs_in


def library_failures() -> list[Any]:
    """Return the emulator set-ups under which a read fails, one per kind of error."""
    return [
        pytest.param(other_secret, id="wrong-secret"),
        pytest.param(
            lambda emu: emu.state.add_client(CANARY_CLIENT, CANARY, []), id="forbidden"
        ),
        pytest.param(lambda emu: emu.state.set_error_rate(1.0, 500), id="server-500"),
        pytest.param(lambda emu: emu.state.inject_drops(50), id="dropped"),
        pytest.param(
            lambda emu: emu.state.inject_raw_response(
                9, 200, '{"access_token": 5}', path_prefix="/oauth"
            ),
            id="bad-login-answer",
        ),
    ]


def failure_of_a_read(client: ApiClient) -> ActionTimeoutsError:
    """Return the error a read raises; its traceback ends in this frame."""
    try:
        client.get_json("/api/v2/integrations/actions/order-lookup")
    except ActionTimeoutsError as error:
        return error
    raise AssertionError("the read should have failed")


@pytest.mark.parametrize("prepare", library_failures())
def test_library_errors_never_carry_the_secret(
    prepare: Callable[[RunningEmulator], object],
    emulator: RunningEmulator,
    canary: Canary,
) -> None:
    """An error's text, repr, attributes and traceback (with locals) hold no secret."""
    prepare(emulator)
    endpoint = resolve_region(emulator.base_url)

    with ApiClient(endpoint, CANARY_CLIENT, CANARY) as client:
        error = failure_of_a_read(client)

    canary.assert_absent("str(error)", str(error))
    canary.assert_absent("repr(error)", repr(error))
    canary.assert_absent("the error's attributes", repr(vars(error)))
    chain = traceback.TracebackException.from_exception(error, capture_locals=True)
    canary.assert_absent("the traceback with locals", "".join(chain.format()))


CANARY_TOKEN = "canary-TOKEN-0b5e2d91"


def assert_error_holds_no_secret(canary: Canary, error: ActionTimeoutsError) -> None:
    """Fail when an error's text, repr, attributes or traceback show a secret."""
    canary.assert_absent("str(error)", str(error))
    canary.assert_absent("repr(error)", repr(error))
    canary.assert_absent("the error's attributes", repr(vars(error)))
    chain = traceback.TracebackException.from_exception(error, capture_locals=True)
    canary.assert_absent("the traceback with locals", "".join(chain.format()))


def test_a_token_that_cannot_be_a_header_is_refused_at_login(
    emulator: RunningEmulator, canary: Canary, log_records: RecordingHandler
) -> None:
    """A login answer whose token cannot be sent in a header (it ends in a newline)
    is a malformed answer: no API request is sent with it, and neither the error
    nor any log line shows it."""
    login_answer = {"access_token": CANARY_TOKEN + "\n", "expires_in": 86400}
    emulator.state.inject_raw_response(
        1,
        200,
        json.dumps(login_answer),
        content_type="application/json",
        path_prefix="/oauth",
    )
    canary.tokens.append(CANARY_TOKEN)
    start = len(emulator.state.request_log())

    with ApiClient(resolve_region(emulator.base_url), CANARY_CLIENT, CANARY) as client:
        error = failure_of_a_read(client)

    assert isinstance(error, BadResponseError)
    assert "login answer" in str(error)
    assert "malformed" in str(error)
    sent = [entry["path"] for entry in emulator.state.request_log()[start:]]
    assert sent == ["/oauth/token"]
    assert_error_holds_no_secret(canary, error)
    canary.assert_absent("the log records", "\n".join(log_records.texts))


def quoting_credentials(
    failing_path: str, error_class: type[httpx.RequestError]
) -> httpx.MockTransport:
    """Answer logins with the canary token; fail requests to `failing_path` with an
    exception whose text quotes their Authorization header, as h11 does."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == failing_path:
            header = request.headers["authorization"].encode()
            raise error_class(f"Illegal header value {header!r}", request=request)
        answer = {"access_token": CANARY_TOKEN, "expires_in": 86400}
        return httpx.Response(200, json=answer)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("failing_path", "error_class"),
    [
        pytest.param(
            "/api/v2/integrations/actions/order-lookup",
            httpx.LocalProtocolError,
            id="api-no-answer",
        ),
        pytest.param(
            "/api/v2/integrations/actions/order-lookup",
            httpx.DecodingError,
            id="api-unreadable",
        ),
        pytest.param("/oauth/token", httpx.LocalProtocolError, id="login-no-answer"),
    ],
)
def test_exception_texts_that_quote_credentials_are_scrubbed(
    canary: Canary,
    log_records: RecordingHandler,
    failing_path: str,
    error_class: type[httpx.RequestError],
) -> None:
    """An HTTP-library exception that quotes the Authorization header (the token,
    or the login's HTTP Basic credentials) reaches no error text, chained cause,
    traceback or log line with the credential in it."""
    canary.tokens.append(CANARY_TOKEN)
    transport = quoting_credentials(failing_path, error_class)
    endpoint = resolve_region("http://127.0.0.1:9")

    with ApiClient(endpoint, CANARY_CLIENT, CANARY, transport=transport) as client:
        error = failure_of_a_read(client)

    assert "[redacted]" in str(error)
    assert_error_holds_no_secret(canary, error)
    assert log_records.texts
    canary.assert_absent("the log records", "\n".join(log_records.texts))


def test_settings_and_clients_never_show_the_secret(emulator: RunningEmulator) -> None:
    """repr, str and the `config show` rows of settings, and client reprs, mask it."""
    settings = load_settings(
        client_id=CANARY_CLIENT, client_secret=CANARY, region=emulator.base_url
    )
    shown = [repr(settings), str(settings), f"{settings}", f"{settings!r}"]
    shown += [" ".join(row) for row in describe_settings(settings)]
    assert settings.endpoint is not None
    with ApiClient(settings.endpoint, CANARY_CLIENT, CANARY) as client:
        shown += [repr(client), str(client), repr(client.auth)]

    assert settings.client_secret == CANARY
    for text in shown:
        assert CANARY not in text


@pytest.mark.parametrize(
    "region",
    [
        "http://api.mypurecloud.ie",
        "http://login.mypurecloud.ie",
        "http://mypurecloud.com",
        "http://example.com:8080",
        "http://10.0.0.1:8080",
        "http://0.0.0.0:8080",
        "http://localhost.example.com:8080",
        "http://127.0.0.1.nip.io:8080",
    ],
)
def test_plain_http_is_refused_for_anything_but_loopback(region: str) -> None:
    """A plain http:// region that is not loopback is a configuration error."""
    with pytest.raises(ConfigurationError, match="http"):
        resolve_region(region)


@pytest.mark.parametrize(
    "region", ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"]
)
def test_plain_http_is_allowed_on_loopback(region: str) -> None:
    """The local emulator is reached over plain http:// on a loopback address."""
    endpoint = resolve_region(region)

    assert endpoint.is_loopback
    assert endpoint.api_base.startswith("http://")


@pytest.mark.parametrize(
    ("api_base", "login_base"),
    [
        pytest.param("http://api.example.com", "https://login.example.com", id="api"),
        pytest.param("https://api.example.com", "http://login.example.com", id="login"),
        pytest.param("ftp://api.example.com", "https://login.example.com", id="ftp"),
    ],
)
def test_an_endpoint_built_by_hand_cannot_be_plain_http(
    api_base: str, login_base: str
) -> None:
    """A library caller cannot make an endpoint that sends credentials without TLS."""
    with pytest.raises(ConfigurationError, match="https://"):
        Endpoint("by-hand", api_base, login_base)


def test_clients_are_built_with_verification_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every httpx client the API client builds verifies certificates and hosts."""
    built: list[httpx.Client] = []
    original = httpx.Client.__init__

    def recording(client: httpx.Client, *args: Any, **kwargs: Any) -> None:
        assert kwargs.get("verify", True) is True
        original(client, *args, **kwargs)
        built.append(client)

    monkeypatch.setattr(httpx.Client, "__init__", recording)
    with ApiClient(resolve_region("eu-west-1"), CANARY_CLIENT, CANARY):
        pass

    assert len(built) == 2
    for client in built:
        context = client._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname


def test_no_option_turns_verification_off() -> None:
    """No command has an option that could weaken TLS (insecure, verify, ssl...)."""
    weakening = re.compile(r"insecure|verify|ssl|tls|cert", re.IGNORECASE)
    context = click.Context(cli)
    names: list[str] = []
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert command is not None
        commands = [command]
        if isinstance(command, click.Group):
            commands += [command.get_command(context, sub) for sub in command.commands]
        for each in commands:
            assert each is not None
            names += [opt for param in each.params for opt in param.opts]

    assert names
    assert [name for name in names if weakening.search(name)] == []


@dataclass
class TlsServer:
    """A local HTTPS server with a self-signed certificate, counting requests."""

    url: str
    certificate: Path
    requests: list[str]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    """Serve HTTPS on 127.0.0.1 with a certificate no default store trusts."""
    folder = tmp_path_factory.mktemp("tls")
    key, certificate = folder / "key.pem", folder / "certificate.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(certificate), "-days", "2",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    requests: list[str] = []

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            requests.append(self.path)
            body = b'{"error": "invalid_client", "description": "refused"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield TlsServer(f"https://127.0.0.1:{server.server_port}", certificate, requests)
    server.shutdown()
    server.server_close()


def tls_environment(server: TlsServer, **extra: str) -> dict[str, str]:
    """Return a process environment pointing the canary client at the TLS server."""
    environment = {
        **os.environ,
        "GENESYSCLOUD_OAUTHCLIENT_ID": CANARY_CLIENT,
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": CANARY,
        "GENESYSCLOUD_REGION": server.url,
        **extra,
    }
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        if name not in extra:
            environment.pop(name, None)
    return environment


def test_untrusted_certificate_is_refused_whatever_the_environment(
    tls_server: TlsServer,
) -> None:
    """Variables that switch verification off elsewhere leave it on: exit 10 at once.

    A certificate that fails verification is reported on the first attempt, since
    retrying cannot change the outcome.
    """
    before = len(tls_server.requests)
    environment = tls_environment(
        tls_server,
        PYTHONHTTPSVERIFY="0",
        CURL_CA_BUNDLE="",
        REQUESTS_CA_BUNDLE="",
        HTTPX_VERIFY="0",
        SSL_VERIFY="false",
    )

    completed = run_subprocess(["-vv", "list"], env=environment)

    assert completed.returncode == 10, completed.stderr
    assert "certificate of 127.0.0.1 could not be verified" in completed.stderr
    assert "retrying" not in completed.stderr
    assert "Traceback" not in completed.stderr
    assert CANARY not in completed.stdout + completed.stderr
    assert len(tls_server.requests) == before


def test_ssl_cert_file_replaces_the_trusted_authorities(tls_server: TlsServer) -> None:
    """SSL_CERT_FILE is read by httpx: its certificates become the trusted ones.

    Verification stays on (the server's name is checked against its certificate);
    the variable only changes which authorities are trusted, as it does for most
    TLS clients. The README says so.
    """
    environment = tls_environment(tls_server, SSL_CERT_FILE=str(tls_server.certificate))

    completed = run_subprocess(["list"], env=environment)

    assert completed.returncode == 4, completed.stderr
    assert tls_server.requests[-1] == "/oauth/token"


def test_journal_is_private_whatever_the_umask(
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The journal's new directories are 0700 and its files 0600, even with umask 0."""
    state_dir = tmp_path / "deep" / "er" / "state"
    monkeypatch.setenv("ACTION_TIMEOUTS_STATE_DIR", str(state_dir))
    previous = os.umask(0)
    try:
        result = invoke("set", "10", "order-lookup")
    finally:
        os.umask(previous)

    assert result.exit_code == 0, result.stderr
    for directory in (tmp_path / "deep", tmp_path / "deep" / "er", state_dir):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    journal_files = list(state_dir.iterdir())
    assert journal_files
    for path in journal_files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


# The search itself: leaks planted on purpose are found


def planted_action(emulator: RunningEmulator) -> None:
    """Store an action whose header value is the canary secret."""
    action = web_action("planted", "Planted", timeout=5, headers={"X-Key": CANARY})
    emulator.state.load_actions([action])


def answer_with_canary(emulator: RunningEmulator, status: int, **more: Any) -> None:
    """Answer the next read of order-lookup with the canary in its message."""
    body = {"message": f"refused: {CANARY}", "code": "bad.request", "status": status}
    emulator.state.inject_raw_response(
        1,
        status,
        json.dumps(body),
        content_type="application/json",
        methods=["GET"],
        path_prefix="/api/v2/integrations/actions/order-lookup",
        **more,
    )


def test_a_secret_planted_in_a_log_line_is_found(
    emulator: RunningEmulator, canary: Canary, log_records: RecordingHandler
) -> None:
    """A correlation id holding the secret, logged at -vv, is found in the log."""
    answer_with_canary(emulator, 400, headers={"inin-correlation-id": CANARY})

    invoke("show", "order-lookup")

    with pytest.raises(AssertionError, match="leaked into the log records"):
        canary.assert_absent("the log records", "\n".join(log_records.texts))


def test_a_secret_planted_in_an_error_message_is_found(
    emulator: RunningEmulator, canary: Canary
) -> None:
    """A server message holding the secret, printed as the error line, is found on
    stderr."""
    answer_with_canary(emulator, 400)

    result = invoke("show", "order-lookup")

    assert result.exit_code == 11
    texts = result_texts(result)
    with pytest.raises(AssertionError, match="leaked into stderr"):
        canary.assert_absent("stderr", texts["stderr"])


def test_a_secret_planted_in_the_journal_is_found(
    emulator: RunningEmulator, canary: Canary, journal_path: Path
) -> None:
    """An action whose header holds the secret is journaled as read; the search of
    the journal's bytes finds it."""
    planted_action(emulator)

    result = invoke("set", "10", "planted")

    assert result.exit_code == 0, result.stderr
    with pytest.raises(AssertionError, match="leaked into the journal"):
        canary.assert_absent(
            "the journal", b"".join(journal_bytes(journal_path).values())
        )


def test_a_secret_planted_in_stdout_is_found(
    emulator: RunningEmulator, canary: Canary
) -> None:
    """`show --reveal` prints a header value that is the secret; stdout is searched."""
    planted_action(emulator)

    result = invoke("show", "planted", "--reveal", "-o", "json")

    assert result.exit_code == 0, result.stderr
    texts = result_texts(result)
    with pytest.raises(AssertionError, match="leaked into stdout"):
        canary.assert_absent("stdout", texts["stdout"])


def test_a_secret_planted_in_an_exception_is_found(
    emulator: RunningEmulator, canary: Canary
) -> None:
    """An error whose text holds the secret is caught by the exception search."""
    answer_with_canary(emulator, 400)

    with ApiClient(resolve_region(emulator.base_url), CANARY_CLIENT, CANARY) as client:
        error = failure_of_a_read(client)

    with pytest.raises(AssertionError, match=r"leaked into str\(error\)"):
        assert_error_holds_no_secret(canary, error)


@pytest.mark.parametrize("form", ["secret", "basic", "token"])
def test_every_form_of_the_secret_is_searched_for(
    form: str, emulator: RunningEmulator, canary: Canary
) -> None:
    """The secret, its HTTP Basic form and each token issued for it are each found
    when planted in a text."""
    assert invoke("show", "order-lookup").exit_code == 0
    secret, basic, *tokens = canary.forms()
    planted = {"secret": secret, "basic": basic, "token": tokens[0]}[form]

    with pytest.raises(AssertionError, match="leaked into a planted line"):
        canary.assert_absent("a planted line", f"before {planted} after")
