"""Bad input, local or from the server: the documented exit code and one clear line.

Every case runs the command line in-process against the emulator with working
credentials in the environment, so a request the tool should not send would reach
it. A local case must send nothing at all, not even a token request; a server-side
case must leave the emulator's stored actions exactly as they were.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from action_timeouts.cli import cli
from action_timeouts.emulator.server import RunningEmulator
from cli.helpers import run_subprocess

pytestmark = pytest.mark.usefixtures("credentials", "no_backoff")

ONE = "/api/v2/integrations/actions/order-lookup"
TEMPLATE = f"{ONE}/templates/requesttemplate.vm"
HTML_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
ELSEWHERE = "http://example.invalid/api/v2/integrations/actions/order-lookup"
LONGEST_ERROR_LINE = 600


@dataclass
class Arrange:
    """What a case may prepare: files, environment variables and emulator faults."""

    work: Path
    config_dir: Path
    emulator: RunningEmulator
    monkeypatch: pytest.MonkeyPatch

    def file(self, name: str, content: str | bytes) -> Path:
        """Write a file in the working directory (or below it) and return its path."""
        path = self.work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def config(self, text: str) -> None:
        """Write the user's config.toml."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "config.toml").write_text(text, encoding="utf-8")

    def setenv(self, name: str, value: str) -> None:
        """Set an environment variable for this case."""
        self.monkeypatch.setenv(name, value)

    def delenv(self, *names: str) -> None:
        """Remove environment variables for this case."""
        for name in names:
            self.monkeypatch.delenv(name, raising=False)


Prepare = Callable[[Arrange], object]


@dataclass(frozen=True)
class Case:
    """One bad input: the command line, its exit code and what its error must say."""

    id: str
    args: tuple[str, ...]
    code: int
    says: str
    prepare: Prepare | None = None
    stdin: str | None = None
    local: bool = True


def files(named: dict[str, str | bytes]) -> Prepare:
    """Prepare files in the working directory (name -> content)."""

    def prepare(arrange: Arrange) -> None:
        for name, content in named.items():
            arrange.file(name, content)

    return prepare


def config_file(text: str) -> Prepare:
    """Prepare the user's config.toml."""
    return lambda arrange: arrange.config(text)


def without(*names: str) -> Prepare:
    """Prepare an environment without these variables."""
    return lambda arrange: arrange.delenv(*names)


def both(*prepares: Prepare) -> Prepare:
    """Prepare several things."""

    def prepare(arrange: Arrange) -> None:
        for each in prepares:
            each(arrange)

    return prepare


def variable(name: str, value: str) -> Prepare:
    """Prepare one environment variable."""
    return lambda arrange: arrange.setenv(name, value)


def raw_answer(
    status: int,
    body: str,
    *,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
    methods: tuple[str, ...] | None = ("GET",),
    path: str = ONE,
) -> Prepare:
    """Prepare the emulator to answer every matching request with these bytes."""

    def prepare(arrange: Arrange) -> None:
        arrange.emulator.state.inject_raw_response(
            20,
            status,
            body,
            content_type=content_type,
            headers=headers,
            methods=methods,
            path_prefix=path,
        )

    return prepare


def latin1_template(arrange: Arrange) -> None:
    """Answer the request template with bytes in ISO-8859-1, which is not UTF-8."""
    arrange.emulator.state.inject_raw_response(
        20,
        200,
        "café".encode("latin-1"),
        content_type="text/plain; charset=ISO-8859-1",
        methods=("GET",),
        path_prefix=TEMPLATE,
    )


def view_only_client(arrange: Arrange) -> None:
    """Log in as a client that may read actions but not edit them."""
    arrange.emulator.state.add_client(
        "viewer", "viewer-secret-0123456789", ["integrations:action:view"]
    )
    arrange.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "viewer")
    arrange.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "viewer-secret-0123456789")


def stored_timeout(value: object) -> Prepare:
    """Store order-lookup with this timeoutSeconds, which no PATCH could write."""

    def prepare(arrange: Arrange) -> None:
        state = arrange.emulator.state
        action = state.stored_action("order-lookup")
        action["config"]["timeoutSeconds"] = value
        state.load_actions([action])

    return prepare


def listing_page(**envelope: object) -> Prepare:
    """Answer every listing with one empty page whose envelope holds these fields."""
    body = json.dumps({"entities": [], **envelope})
    # 1e400 is a float too big for a double: json.dumps cannot write it.
    body = body.replace('"1e400"', "1e400")
    return raw_answer(200, body, content_type="application/json", path=ACTIONS)


ACTIONS = ONE[: -len("/order-lookup")]
ACTION_WITHOUT_VERSION = json.dumps(
    {"id": "order-lookup", "name": "Lookup Order", "config": {"timeoutSeconds": 5}}
)
ACTION_WITH_VERSION_TRUE = json.dumps(
    {
        "id": "order-lookup",
        "name": "Lookup Order",
        "version": True,
        "config": {"timeoutSeconds": 5},
    }
)
SHADOWED = """
[[rule]]
category = "Acme Web Services"
timeout = 10

[[rule]]
category = "Acme Web Services"
secure = true
timeout = 20
"""
CREDENTIALS = (
    "GENESYSCLOUD_OAUTHCLIENT_ID",
    "GENESYSCLOUD_OAUTHCLIENT_SECRET",
    "GENESYSCLOUD_REGION",
)


def set_to(seconds: str, *more: str) -> tuple[str, ...]:
    """Command line of `set SECONDS order-lookup ...`."""
    return ("set", seconds, "order-lookup", *more)


CASES = [
    # -- timeout values: exit 2, nothing sent ---------------------------------------
    Case("timeout-zero", set_to("0"), 2, "from 1 to 60"),
    Case("timeout-61", set_to("61"), 2, "from 1 to 60"),
    Case("timeout-negative", set_to("-1"), 2, "from 1 to 60"),
    Case("timeout-negative-after-dashes", ("set", "--", "-1", "x"), 2, "from 1 to 60"),
    Case("timeout-fraction", set_to("1.5"), 2, "whole number of seconds"),
    Case("timeout-word", set_to("ten"), 2, "whole number of seconds"),
    Case("timeout-empty", set_to(""), 2, "whole number of seconds"),
    Case("timeout-huge", set_to("9" * 5000), 2, "from 1 to 60"),
    Case("timeout-exponent", set_to("1e3"), 2, "whole number of seconds"),
    Case("timeout-hex", set_to("0x10"), 2, "whole number of seconds"),
    Case("timeout-plus-sign", set_to("+5"), 2, "whole number of seconds"),
    Case("timeout-superscript-digit", set_to("²"), 2, "whole number of seconds"),
    Case("timeout-arabic-indic-digit", set_to("٣"), 2, "whole number of seconds"),
    Case("below-zero", ("set", "10", "--below", "0", "--all"), 2, "from 1 to 60"),
    Case("unknown-option", set_to("10", "--dry-rnu"), 2, "did you mean --dry-run?"),
    Case("unknown-option-in-a-selection", ("set", "10", "--all", "--yse"), 2, "--yes?"),
    Case("output-format", set_to("10", "-o", "xml"), 2, "'xml' is not one of"),
    Case("below-word", ("set", "10", "--below", "ten", "--all"), 2, "--below"),
    Case("workers-word", set_to("10", "--workers", "many"), 2, "--workers"),
    Case("list-unknown-option", ("list", "--bogus"), 2, "list --help"),
    Case("unknown-command", ("frobnicate",), 2, "no such command 'frobnicate'"),
    # -- settings: exit 3, nothing sent ---------------------------------------------
    Case("region-unknown", set_to("10", "--region", "mars-1"), 3, "known regions"),
    Case(
        "region-plain-http",
        set_to("10", "--region", "http://api.mypurecloud.ie"),
        3,
        "use https://",
    ),
    Case(
        "region-plain-http-from-environment",
        set_to("10"),
        3,
        "use https://",
        variable("GENESYSCLOUD_REGION", "http://login.mypurecloud.de"),
    ),
    Case(
        "region-with-password",
        set_to("10", "--region", "https://u:hunter2-0123456789@api.mypurecloud.ie"),
        3,
        "credentials do not belong in the URL",
    ),
    Case(
        "region-with-path",
        set_to("10", "--region", "https://api.mypurecloud.ie/api/v2"),
        3,
        "give only the base URL",
    ),
    Case(
        "region-other-scheme",
        set_to("10", "--region", "ftp://api.mypurecloud.ie"),
        3,
        "use https://",
    ),
    Case(
        "dotenv-bad-line",
        set_to("10"),
        3,
        "line 2: cannot parse",
        files({".env": "GENESYS_ACTION_ID=order-lookup\nthis line is 'not valid\n"}),
    ),
    Case(
        "config-malformed-toml",
        set_to("10"),
        3,
        "malformed TOML",
        config_file("[profiles.prod\nregion = 'eu-west-1'\n"),
    ),
    Case(
        "config-unknown-profile-key",
        set_to("10", "--profile", "prod"),
        3,
        "allowed: action_id, client_id",
        config_file("[profiles.prod]\nclient_secert = 'x'\n"),
    ),
    Case("profile-unknown", set_to("10", "--profile", "nope"), 3, "[profiles.nope]"),
    Case(
        "config-default-profile-a-number",
        set_to("10"),
        3,
        "config.toml: default_profile must be the name of a profile, as a string",
        config_file("default_profile = 5\n"),
    ),
    Case(
        "config-secret-file-empty",
        set_to("10", "--profile", "prod"),
        3,
        "[profiles.prod]: client_secret_file is empty: give the path of the file",
        config_file('[profiles.prod]\nclient_secret_file = ""\n'),
    ),
    Case(
        "config-profile-not-a-table",
        set_to("10", "--profile", "emu"),
        3,
        "config.toml: profiles.emu must be a table ([profiles.emu] with client_id",
        config_file("[profiles]\nemu = 5\n"),
    ),
    Case(
        "credentials-missing",
        set_to("10"),
        3,
        "set GENESYSCLOUD_OAUTHCLIENT_ID",
        without(*CREDENTIALS),
    ),
    Case(
        "secret-missing",
        set_to("10"),
        3,
        "GENESYSCLOUD_OAUTHCLIENT_SECRET (or --client-secret-file)",
        without("GENESYSCLOUD_OAUTHCLIENT_SECRET"),
    ),
    Case(
        "secret-file-missing",
        set_to("10", "--client-secret-file", "no-such.secret"),
        3,
        "cannot read the secret file no-such.secret",
    ),
    Case(
        "secret-file-empty",
        set_to("10", "--client-secret-file", "empty.secret"),
        3,
        "holds no client secret",
        files({"empty.secret": "\n"}),
    ),
    Case(
        "secret-file-not-text",
        set_to("10", "--client-secret-file", "binary.secret"),
        3,
        "not UTF-8 text",
        files({"binary.secret": b"\xff\xfe\x00secret"}),
    ),
    Case(
        "secret-file-two-lines",
        set_to("10", "--client-secret-file", "two.secret"),
        3,
        "the secret file two.secret holds more than one line; it must hold only the "
        "secret",
        files({"two.secret": "first-secret-0123456789\nsecond-secret-0123456789\n"}),
    ),
    Case(
        "secret-file-of-profile-missing",
        set_to("10", "--profile", "prod"),
        3,
        "cannot read the secret file",
        both(
            without("GENESYSCLOUD_OAUTHCLIENT_SECRET"),
            config_file("[profiles.prod]\nclient_secret_file = 'gone.secret'\n"),
        ),
    ),
    Case(
        "secret-file-is-a-directory",
        set_to("10", "--client-secret-file", "."),
        3,
        "cannot read the secret file .: it is a directory; give the file that holds",
    ),
    Case(
        "secret-stdin-empty",
        set_to("10", "--client-secret-stdin"),
        3,
        "holds no client secret",
        stdin="",
    ),
    Case(
        "secret-stdin-blank",
        set_to("10", "--client-secret-stdin"),
        3,
        "holds no client secret",
        stdin="   \n",
    ),
    Case(
        "secret-stdin-endless",
        set_to("10", "--client-secret-stdin"),
        3,
        "standard input holds more than 4096 characters; it must hold only the "
        "client secret",
        stdin="x" * 100_000,
    ),
    Case(
        "secret-file-huge",
        set_to("10", "--client-secret-file", "huge.secret"),
        3,
        "the secret file huge.secret holds more than 4096 characters",
        files({"huge.secret": "s" * 5_000_000}),
    ),
    # -- actions that can never take a timeout: exit 7, nothing sent ----------------
    Case("custom-auth", ("set", "10", "customAuth_-_int-acme"), 7, "custom auth"),
    Case("custom-auth-unset", ("set", "--unset", "customAuth_-_x"), 7, "custom auth"),
    Case("built-in", ("set", "10", "static_builtin-1"), 7, "built-in"),
    # -- what to change: exit 2, nothing sent ---------------------------------------
    Case("id-and-selectors", set_to("10", "--all"), 2, "not both"),
    Case("no-selection", ("set", "10"), 2, "--all for every action"),
    Case("too-many-arguments", set_to("10", "extra"), 2, "at most one ACTION_ID"),
    Case("unset-with-two-ids", ("set", "--unset", "a", "b"), 2, "at most one"),
    Case("action-id-path", ("set", "10", "../../oauth/token"), 2, "not an action id"),
    Case("show-action-id-path", ("show", "a/b?c=d"), 2, "not an action id"),
    Case("action-id-huge", ("set", "10", "x" * 5000), 2, "5000 characters"),
    Case(
        "action-id-from-environment",
        ("show",),
        2,
        "not an action id",
        both(variable("GENESYS_ACTION_ID", "a b"), without("GENESYSCLOUD_REGION")),
    ),
    Case("selector-id-junk", ("set", "10", "--id", "bad id!"), 2, "not an action id"),
    Case(
        "ids-file-junk",
        ("set", "10", "--ids-file", "ids.txt"),
        2,
        "ids.txt, line 2: not an action id",
        files({"ids.txt": "order-lookup\nrm -rf /\n"}),
    ),
    Case(
        "ids-file-empty",
        ("set", "10", "--ids-file", "ids.txt"),
        2,
        "no action ids",
        files({"ids.txt": "# nothing here\n\n"}),
    ),
    Case(
        "ids-file-missing",
        ("set", "10", "--ids-file", "missing.txt"),
        2,
        "cannot read ids file missing.txt",
    ),
    # -- policy files: exit 2, nothing sent -----------------------------------------
    Case(
        "policy-bad-toml",
        ("plan", "-f", "p.toml"),
        2,
        "line 2, column",
        files({"p.toml": "[[rule]]\ntimeout = = 10\n"}),
    ),
    Case(
        "policy-unknown-key",
        ("plan", "-f", "p.toml"),
        2,
        "unknown key 'timout'",
        files({"p.toml": '[[rule]]\nname = "a*"\ntimout = 10\n'}),
    ),
    Case(
        "policy-shadowed-rule",
        ("plan", "-f", "p.toml"),
        2,
        "rule 2",
        files({"p.toml": SHADOWED}),
    ),
    Case(
        "policy-timeout-61",
        ("plan", "-f", "p.toml"),
        2,
        "from 1 to 60",
        files({"p.toml": '[[rule]]\nname = "a*"\ntimeout = 61\n'}),
    ),
    Case(
        "policy-timeout-word",
        ("apply", "-f", "p.toml", "--yes"),
        2,
        "from 1 to 60",
        files({"p.toml": '[[rule]]\nname = "a*"\ntimeout = "ten"\n'}),
    ),
    Case(
        "policy-empty",
        ("check", "-f", "p.toml"),
        2,
        "no [[rule]] and no default",
        files({"p.toml": "# nothing yet\n"}),
    ),
    Case("policy-missing", ("plan", "-f", "nope.toml"), 2, "cannot read policy file"),
    # -- runs of the journal: exit 2, nothing sent ----------------------------------
    Case("history-unknown-run", ("history", "nope"), 2, "action-timeouts history"),
    Case("undo-unknown-run", ("undo", "nope", "--yes"), 2, "action-timeouts history"),
    Case("resume-unknown-run", ("resume", "nope"), 2, "action-timeouts history"),
    # -- the server says no: sent, nothing changed ----------------------------------
    Case(
        "wrong-secret",
        set_to("10"),
        4,
        "check the client ID and secret",
        variable("GENESYSCLOUD_OAUTHCLIENT_SECRET", "not-the-secret"),
        local=False,
    ),
    Case(
        "unknown-action",
        ("set", "10", "no-such-action"),
        6,
        "action no-such-action not found: check the id",
        local=False,
    ),
    Case(
        "permission-missing",
        set_to("10"),
        5,
        "integrations:action:edit",
        view_only_client,
        local=False,
    ),
    # -- answers that are not what the API promises: exit 11 ------------------------
    Case(
        "html-502-page",
        set_to("10"),
        11,
        "server error 502",
        raw_answer(502, HTML_PAGE, content_type="text/html"),
        local=False,
    ),
    Case(
        "truncated-json",
        set_to("10"),
        11,
        "expected JSON",
        raw_answer(200, '{"id": "order-lookup", "na', content_type="application/json"),
        local=False,
    ),
    Case(
        "json-list-for-an-action",
        set_to("10"),
        11,
        "not an action with a version",
        raw_answer(200, "[]", content_type="application/json"),
        local=False,
    ),
    Case(
        "action-without-version",
        set_to("10"),
        11,
        "not an action with a version",
        raw_answer(200, ACTION_WITHOUT_VERSION, content_type="application/json"),
        local=False,
    ),
    Case(
        "empty-200",
        set_to("10"),
        11,
        "the answer was empty",
        raw_answer(200, "", content_type="application/json"),
        local=False,
    ),
    Case(
        "template-204",
        set_to("10"),
        11,
        "the answer is 204 instead of 200 with the template",
        raw_answer(204, "", path=TEMPLATE),
        local=False,
    ),
    Case(
        "template-206-partial",
        set_to("10"),
        11,
        "the answer is 206 instead of 200 with the template",
        raw_answer(206, "{\r\n", content_type="text/plain", path=TEMPLATE),
        local=False,
    ),
    Case(
        "template-empty-without-type",
        set_to("10"),
        11,
        "the answer is empty and has no content type",
        raw_answer(200, "", path=TEMPLATE),
        local=False,
    ),
    Case(
        "template-not-utf8",
        set_to("10"),
        11,
        "not valid utf-8",
        latin1_template,
        local=False,
    ),
    Case(
        "login-token-not-a-header",
        set_to("10"),
        11,
        "is malformed",
        raw_answer(
            200,
            '{"access_token": "abc def", "expires_in": 86400}',
            content_type="application/json",
            methods=None,
            path="/oauth",
        ),
        local=False,
    ),
    Case(
        "status-418",
        set_to("10"),
        11,
        "HTTP 418",
        raw_answer(418, "I'm a teapot", content_type="text/plain"),
        local=False,
    ),
    Case(
        "redirect-302-elsewhere",
        set_to("10"),
        11,
        "redirects are not followed",
        raw_answer(302, "", headers={"Location": ELSEWHERE}),
        local=False,
    ),
    Case(
        "listing-not-a-page",
        ("set", "10", "--all", "--yes"),
        11,
        "not a paged list of actions",
        raw_answer(
            200, '{"entities": "x"}', content_type="application/json", path=ONE[:-13]
        ),
        local=False,
    ),
    Case(
        "listing-total-a-string",
        ("list", "-o", "json"),
        11,
        'not a paged list of actions: its total is "x", not a whole number',
        listing_page(total="x", pageSize=100, pageNumber=1, pageCount=1),
        local=False,
    ),
    Case(
        "listing-total-too-big-a-float",
        ("list", "-o", "json"),
        11,
        "its total is Infinity, not a whole number",
        listing_page(total="1e400"),
        local=False,
    ),
    Case(
        "listing-page-size-a-word",
        ("set", "10", "--all", "--yes"),
        11,
        'its pageSize is "abc", not a whole number',
        listing_page(total=0, pageSize="abc"),
        local=False,
    ),
    Case(
        "listing-page-count-true",
        ("list",),
        11,
        "its pageCount is true, not a whole number",
        listing_page(total=0, pageCount=True),
        local=False,
    ),
    Case(
        "action-version-true",
        set_to("10"),
        11,
        "not an action with a version",
        raw_answer(200, ACTION_WITH_VERSION_TRUE, content_type="application/json"),
        local=False,
    ),
    Case(
        "stored-timeout-a-string",
        set_to("10"),
        11,
        "action order-lookup: timeoutSeconds from the server is not a whole number "
        '1-60 ("30"); it was left as it is',
        stored_timeout("30"),
        local=False,
    ),
    Case(
        "stored-timeout-true",
        ("set", "--unset", "order-lookup"),
        11,
        "is not a whole number 1-60 (true)",
        stored_timeout(True),
        local=False,
    ),
    Case(
        "stored-timeout-a-fraction",
        set_to("10", "--dry-run"),
        11,
        "is not a whole number 1-60 (5.0)",
        stored_timeout(5.0),
        local=False,
    ),
    Case(
        "login-redirect",
        set_to("10"),
        11,
        "redirected to example.invalid; refusing",
        raw_answer(
            302, "", headers={"Location": ELSEWHERE}, methods=None, path="/oauth"
        ),
        local=False,
    ),
    Case(
        "login-html-page",
        set_to("10"),
        11,
        "has no access_token",
        raw_answer(
            200, HTML_PAGE, content_type="text/html", methods=None, path="/oauth"
        ),
        local=False,
    ),
    Case(
        "write-answered-by-html-502",
        set_to("10"),
        10,
        "it was re-read each time and is unchanged",
        raw_answer(502, HTML_PAGE, content_type="text/html", methods=("PATCH",)),
        local=False,
    ),
]
BY_ID = {case.id: case for case in CASES}


def invoke(*args: str, stdin: str | None = None) -> Result:
    """Run the command line in-process with this standard input."""
    runner = CliRunner()
    return runner.invoke(cli, list(args), input=stdin, prog_name="action-timeouts")


@pytest.fixture
def arrange(
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    cli_environment: Path,
) -> Arrange:
    """Return the helper cases prepare their files, variables and faults with."""
    config_dir = Path(os.environ["ACTION_TIMEOUTS_CONFIG_DIR"])
    return Arrange(cli_environment, config_dir, emulator, monkeypatch)


def error_line(stderr: str, *, alone: bool = True) -> str:
    """Return the one error line, last on stderr; `alone`: nothing else was printed.

    A run that reached the server may print progress before its error, such as how
    to resume a run; the error itself is still one line, and the last.
    """
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, f"expected one error line on stderr, got:\n{stderr}"
    assert lines[-1] == errors[0], f"the error is not the last line:\n{stderr}"
    if alone:
        assert len(lines) == 1, f"expected only the error on stderr, got:\n{stderr}"
    return errors[0]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_bad_input(case: Case, arrange: Arrange, outgoing: list[httpx.URL]) -> None:
    """Each bad input exits with its documented code and one helpful line of error."""
    if case.prepare is not None:
        case.prepare(arrange)
    state = arrange.emulator.state
    stored = state.stored_actions()

    result = invoke(*case.args, stdin=case.stdin)

    assert result.exit_code == case.code, result.stderr
    assert isinstance(result.exception, SystemExit), result.exception
    line = error_line(result.stderr, alone=case.local)
    assert case.says in line
    assert len(line) <= LONGEST_ERROR_LINE
    assert "Traceback" not in result.output
    assert state.stored_actions() == stored
    if case.local:
        assert outgoing == []
        assert state.request_count() == 0
        assert state.request_count(path_prefix="/oauth") == 0
    else:
        assert state.request_count() > 0
        assert {url.host for url in outgoing} == {"127.0.0.1"}


@pytest.mark.parametrize(
    "case_id",
    [
        "timeout-word",
        "timeout-negative",
        "region-unknown",
        "dotenv-bad-line",
        "policy-shadowed-rule",
        "custom-auth",
        "wrong-secret",
    ],
)
def test_bad_input_in_a_real_process(case_id: str, arrange: Arrange) -> None:
    """A real process prints the same single line, no traceback, and the same code."""
    case = BY_ID[case_id]
    if case.prepare is not None:
        case.prepare(arrange)

    completed = run_subprocess(case.args)

    assert completed.returncode == case.code, completed.stderr
    assert case.says in error_line(completed.stderr, alone=case.local)
    assert "Traceback" not in completed.stderr + completed.stdout
    if case.local:
        assert arrange.emulator.state.request_count() == 0


def test_whitespace_around_seconds_is_accepted(emulator: RunningEmulator) -> None:
    """SECONDS with spaces around it (" 10 ") means exactly what 10 means."""
    padded = invoke("set", " 10 ", "order-lookup", "--dry-run")
    plain = invoke("set", "10", "order-lookup", "--dry-run")

    assert (padded.exit_code, padded.stderr) == (plain.exit_code, plain.stderr)
    assert "5 s -> 10 s" in padded.stderr


@pytest.mark.parametrize(
    ("content", "option"),
    [
        ("{secret}\n\n", "--client-secret-file"),
        ("  {secret}\r\n", "--client-secret-file"),
        ("\t{secret} \n\n", "--client-secret-stdin"),
        ("\ufeff{secret}\r\n", "--client-secret-file"),
    ],
    ids=["file-blank-line", "file-spaces-crlf", "stdin-tab-and-blank-line", "file-bom"],
)
def test_whitespace_around_a_secret_is_accepted(
    content: str, option: str, arrange: Arrange
) -> None:
    """A secret read from a file or stdin logs in without the whitespace around it."""
    arrange.delenv("GENESYSCLOUD_OAUTHCLIENT_SECRET")
    text = content.format(secret=arrange.emulator.client_secret)
    secret_file = arrange.file("client.secret", text.encode())
    args = ["show", "order-lookup", "-o", "json", option]
    if option == "--client-secret-file":
        args.append(str(secret_file))

    result = invoke(*args, stdin=text if option == "--client-secret-stdin" else None)

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "order-lookup"
