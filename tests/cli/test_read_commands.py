"""`show`, `list` and `config show` against a served emulator."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from action_timeouts.emulator.server import RunningEmulator

from .helpers import (
    ACME,
    SECRET_API_KEY,
    SECRET_BEARER,
    ZENDESK,
    invoke,
    many_actions,
    web_action,
)

pytestmark = pytest.mark.usefixtures("credentials")

SECRET_HEADERS = {
    "Accept": "application/json",
    "Authorization": SECRET_BEARER,
    "X-Api-Key": SECRET_API_KEY,
    "X-Upstream-Token": "${credentials.token}",
}


@pytest.fixture
def secret_action(emulator: RunningEmulator) -> str:
    """Store an action whose headers hold credentials and return its id."""
    action = web_action("with-secrets", "Call Partner", headers=SECRET_HEADERS)
    emulator.state.load_actions([action])
    return "with-secrets"


@pytest.fixture
def big_org(emulator: RunningEmulator) -> int:
    """Replace the org with 130 actions (two pages of 100) and return the count."""
    emulator.state.reset()
    emulator.state.load_actions(many_actions(130))
    return 130


@pytest.mark.parametrize("output", ["table", "json"])
def test_show_masks_credential_headers(secret_action: str, output: str) -> None:
    """`show` hides header values that look like credentials, in every format."""
    result = invoke("show", secret_action, "-o", output)

    assert result.exit_code == 0, result.stderr
    assert SECRET_BEARER not in result.stdout
    assert SECRET_API_KEY not in result.stdout
    assert "****" in result.stdout
    assert "${credentials.token}" in result.stdout


def test_show_json_masks_only_the_secret_headers(secret_action: str) -> None:
    """`show -o json` keeps the document's shape and masks exactly the secret values."""
    result = invoke("show", secret_action, "-o", "json")

    shown = json.loads(result.stdout)
    assert shown["config"]["request"]["headers"] == {
        "Accept": "application/json",
        "Authorization": "****",
        "X-Api-Key": "****",
        "X-Upstream-Token": "${credentials.token}",
    }


@pytest.mark.parametrize("output", ["table", "json"])
def test_show_reveal_prints_the_header_values(secret_action: str, output: str) -> None:
    """`show --reveal` prints credential-like header values as stored."""
    result = invoke("show", secret_action, "--reveal", "-o", output)

    assert result.exit_code == 0, result.stderr
    assert SECRET_BEARER in result.stdout
    assert SECRET_API_KEY in result.stdout


MORE_SECRET_HEADERS = {
    "Ocp-Apim-Subscription-Key": "sub-5e4d3c2b1a",
    "X-Access-Key": "access-0a1b2c3d",
    "Private-Key": "private-9z8y7x",
    "X-Session-Id": "session-4f5e6d",
    "Accept": "application/json",
}
SECRET_URL = (
    "https://svc-user:url-pass-77@partner.example.invalid/v1/${input.id}"
    "?api_key=query-key-11&client_secret=query-secret-22&q=${input.q}&page=2"
)
MASKED_URL = (
    "https://****@partner.example.invalid/v1/${input.id}"
    "?api_key=****&client_secret=****&q=${input.q}&page=2"
)


@pytest.fixture
def url_secret_action(emulator: RunningEmulator) -> str:
    """Store an action with credentials in more headers and in its URL."""
    action = web_action("url-secrets", "Call Partner", headers=MORE_SECRET_HEADERS)
    action["config"]["request"]["requestUrlTemplate"] = SECRET_URL
    emulator.state.load_actions([action])
    return "url-secrets"


def test_show_masks_every_credential_like_header(url_secret_action: str) -> None:
    """Header names with key, secret, session and the like have their values masked."""
    result = invoke("show", url_secret_action, "-o", "json")

    assert result.exit_code == 0, result.stderr
    headers = json.loads(result.stdout)["config"]["request"]["headers"]
    assert headers == {
        **dict.fromkeys(MORE_SECRET_HEADERS, "****"),
        "Accept": "application/json",
    }


@pytest.mark.parametrize("output", ["table", "json"])
def test_show_masks_url_userinfo_and_secret_parameters(
    url_secret_action: str, output: str
) -> None:
    """The URL's userinfo and its credential-like query values are masked."""
    result = invoke("show", url_secret_action, "-o", output)

    assert result.exit_code == 0, result.stderr
    assert MASKED_URL in result.stdout
    for secret in ("url-pass-77", "svc-user", "query-key-11", "query-secret-22"):
        assert secret not in result.stdout


def test_show_reveal_prints_the_url_as_stored(url_secret_action: str) -> None:
    """`show --reveal` prints the URL with its credentials."""
    result = invoke("show", url_secret_action, "--reveal", "-o", "json")

    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["config"]["request"]["requestUrlTemplate"] == SECRET_URL


WORD_SECRET_HEADERS = {
    "X-Passphrase": "passphrase-31",
    "X-JWT": "jwt-value-32",
    "X-Hmac": "hmac-value-33",
    "X-Client-Cert": "client-cert-34",
    "xAccessToken": "camel-token-35",
    "X-Signing-Material": "-----BEGIN PRIVATE KEY-----pem-36",
    "X-Forwarded-Identity": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
    "clientsecret": "glued-secret-37",
    "X-Accesstoken": "glued-token-38",
    "Ocp-Apim-Subscriptionkey": "glued-key-39",
}
WORD_KEPT_HEADERS = {
    "X-Author": "Jane Doe",
    "X-Design-Version": "v2",
    "X-Idempotency-Key": "${input.id}",
}
WORD_SECRET_URL = (
    "//svc:pw-41@fn.example.invalid/api/run?code=azure-fn-42&jwt=jwt-43"
    "&pass=pass-44&api%5Fkey=encoded-45&sig=sig-46&keep=visible#access_token=frag-47"
)
WORD_MASKED_URL = (
    "//****@fn.example.invalid/api/run?code=****&jwt=****"
    "&pass=****&api%5Fkey=****&sig=****&keep=visible#access_token=****"
)
TEMPLATED_USERINFO_URL = (
    "https://${credentials.user}:${credentials.pass}@partner.example.invalid/x"
    "?apikey=${credentials.key}&q=${input.q}"
)


def store_action(
    emulator: RunningEmulator, headers: dict[str, str], url: str | None = None
) -> str:
    """Store one web action with these headers (and URL) and return its id."""
    action = web_action("masking", "Call Partner", headers=headers)
    if url is not None:
        action["config"]["request"]["requestUrlTemplate"] = url
    emulator.state.load_actions([action])
    return "masking"


def shown_request(action_id: str) -> dict[str, object]:
    """The request of `show -o json` for this action."""
    result = invoke("show", action_id, "-o", "json")
    assert result.exit_code == 0, result.stderr
    request: dict[str, object] = json.loads(result.stdout)["config"]["request"]
    return request


def test_show_masks_headers_by_the_words_of_their_names(
    emulator: RunningEmulator,
) -> None:
    """A header is masked when a word of its name is a secret word or its value is
    key material; a name that only contains such letters (`X-Author`) is kept."""
    action_id = store_action(emulator, {**WORD_SECRET_HEADERS, **WORD_KEPT_HEADERS})

    headers = shown_request(action_id)["headers"]

    assert headers == {
        **dict.fromkeys(WORD_SECRET_HEADERS, "****"),
        **WORD_KEPT_HEADERS,
    }


def test_show_masks_url_code_fragment_and_scheme_relative_userinfo(
    emulator: RunningEmulator,
) -> None:
    """`code=`, `jwt=`, `pass=`, encoded names, a `#access_token=` fragment and a
    scheme-relative `//user:pass@` are masked in the URL."""
    action_id = store_action(emulator, {}, WORD_SECRET_URL)

    assert shown_request(action_id)["requestUrlTemplate"] == WORD_MASKED_URL


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@ss@h.example.invalid/x", "https://****@h.example.invalid/x"),
        (
            "https://h.example.invalid/x?email=a@b.example",
            "https://h.example.invalid/x?email=a@b.example",
        ),
    ],
    ids=["at-sign-in-password", "at-sign-after-the-host"],
)
def test_show_masks_userinfo_up_to_its_last_at_sign(
    emulator: RunningEmulator, url: str, shown: str
) -> None:
    """A password holding `@` is masked whole, as URL parsers read it (the last
    `@` before the path ends the userinfo); an `@` after the host is no userinfo."""
    action_id = store_action(emulator, {}, url)

    assert shown_request(action_id)["requestUrlTemplate"] == shown


def test_show_keeps_template_references_in_url_userinfo(
    emulator: RunningEmulator,
) -> None:
    """A userinfo made of template references is no secret and is shown as is."""
    action_id = store_action(emulator, {}, TEMPLATED_USERINFO_URL)

    assert shown_request(action_id)["requestUrlTemplate"] == TEMPLATED_USERINFO_URL


def test_show_table_lists_timeout_kind_and_templates(emulator: RunningEmulator) -> None:
    """`show` prints the timeout for people, the kind and the inlined templates."""
    result = invoke("show", "customer-lookup")

    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line}
    assert "unset (60 s)" in lines["timeout"]
    assert "standard" in lines["kind"]
    assert "réponse reçue — 受信" in result.stdout


def test_show_json_inlines_the_templates(
    emulator: RunningEmulator,
) -> None:
    """`show -o json` gives the action with templates inline instead of their links."""
    result = invoke("show", "order-lookup", "-o", "json")

    shown = json.loads(result.stdout)
    stored = emulator.state.stored_action("order-lookup")
    assert shown["config"] == stored["config"]
    assert shown["version"] == stored["version"]


def test_show_unknown_action_exits_6_naming_it(emulator: RunningEmulator) -> None:
    """`show` of an id the org does not hold exits 6 and names the id on stderr."""
    result = invoke("show", "no-such-action")

    assert result.exit_code == 6
    assert "no-such-action" in result.stderr
    assert result.stdout == ""


def test_show_takes_the_action_from_genesys_action_id(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`show` without an id shows the action named by GENESYS_ACTION_ID."""
    monkeypatch.setenv("GENESYS_ACTION_ID", "ticket-create")

    result = invoke("show", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "ticket-create"


def test_list_fetches_every_page(big_org: int, server: RunningEmulator) -> None:
    """`list` reads page after page until it holds every action of a large org."""
    result = invoke("list", "-o", "json")

    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == big_org
    assert len({row["id"] for row in rows}) == big_org
    listings = [
        entry
        for entry in server.state.request_log()
        if entry["method"] == "GET" and entry["path"] == "/api/v2/integrations/actions"
    ]
    pages = {parse_qs(entry["query"])["pageNumber"][0] for entry in listings}
    assert pages >= {"1", "2"}


def test_list_table_shows_unset_as_platform_default(emulator: RunningEmulator) -> None:
    """The `list` table says "unset (60 s)" for an action with no explicit timeout."""
    result = invoke("list")

    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "customer-lookup" in line)
    assert "unset (60 s)" in row
    order_row = next(
        line for line in result.stdout.splitlines() if "order-lookup" in line
    )
    assert " 5 s " in order_row


def test_list_json_gives_null_for_unset(emulator: RunningEmulator) -> None:
    """`list -o json` gives null for an unset timeout and the number otherwise."""
    result = invoke("list", "-o", "json")

    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert rows["customer-lookup"]["timeout"] is None
    assert rows["order-lookup"]["timeout"] == 5
    assert rows["customAuth_-_int-acme"]["timeout"] is None
    assert len(rows) == 8


def test_list_ndjson_has_one_action_a_line(big_org: int) -> None:
    """`list -o ndjson` prints one JSON object per action."""
    result = invoke("list", "-o", "ndjson")

    lines = result.stdout.splitlines()
    assert len(lines) == big_org
    assert all(isinstance(json.loads(line)["id"], str) for line in lines)


def test_list_csv_has_a_header_and_empty_unset(emulator: RunningEmulator) -> None:
    """`list -o csv` has a header row, one row per action, and an empty unset cell."""
    result = invoke("list", "-o", "csv")

    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    by_id = {row["id"]: row for row in rows}
    assert len(rows) == 8
    assert by_id["customer-lookup"]["timeout"] == ""
    assert by_id["ticket-create"]["timeout"] == "30"


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        pytest.param("lookup*", {"order-lookup", "customer-lookup"}, id="prefix"),
        pytest.param("*TICKET", {"ticket-create"}, id="any-case"),
        pytest.param("Send ?MS", {"sms-send"}, id="one-character"),
        pytest.param("nothing*", set(), id="no-match"),
    ],
)
def test_list_name_glob(
    emulator: RunningEmulator, glob: str, expected: set[str]
) -> None:
    """`list --name` keeps the actions whose whole name matches the glob, any case."""
    result = invoke("list", "--name", glob, "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert {row["id"] for row in json.loads(result.stdout)} == expected


def test_list_category(emulator: RunningEmulator) -> None:
    """`list --category` keeps only that category's actions."""
    result = invoke("list", "--category", ZENDESK, "-o", "json")

    rows = json.loads(result.stdout)
    assert {row["id"] for row in rows} == {"ticket-create", "sms-send"}
    assert {row["category"] for row in rows} == {ZENDESK}


def test_list_category_across_pages(big_org: int) -> None:
    """`list --category` on a large org returns every matching action."""
    result = invoke("list", "--category", ACME, "-o", "json")

    rows = json.loads(result.stdout)
    assert len(rows) == big_org // 2
    assert {row["category"] for row in rows} == {ACME}


def test_config_show_names_each_value_and_its_source(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`config show` lists every setting with the variable it came from."""
    monkeypatch.setenv("GENESYS_ACTION_ID", "order-lookup")

    result = invoke("config", "show", "-o", "json")

    assert result.exit_code == 0, result.stderr
    rows = {row["setting"]: row for row in json.loads(result.stdout)}
    assert rows["client_id"]["value"] == emulator.client_id
    assert "GENESYSCLOUD_OAUTHCLIENT_ID" in rows["client_id"]["source"]
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" in rows["client_secret"]["source"]
    assert emulator.base_url in rows["region"]["value"]
    assert "GENESYSCLOUD_REGION" in rows["region"]["source"]
    assert rows["action_id"]["value"] == "order-lookup"
    assert "GENESYS_ACTION_ID" in rows["action_id"]["source"]
    assert rows["profile"]["source"] == "not set"


@pytest.mark.parametrize("output", ["table", "json", "ndjson", "csv"])
def test_config_show_never_prints_the_secret(
    emulator: RunningEmulator, output: str
) -> None:
    """`config show` masks the client secret and never prints it whole."""
    result = invoke("config", "show", "-o", output)

    assert result.exit_code == 0, result.stderr
    assert emulator.client_secret not in result.output
    assert "characters" in result.stdout


def test_config_show_reads_profile_and_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Values from a config-file profile and from options name those sources."""
    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_ID")
    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_SECRET")
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "secret.txt").write_text("profile-secret-0123456789abcdef\n")
    (config_dir / "config.toml").write_text(
        'default_profile = "prod"\n[profiles.prod]\nclient_id = "profile-client"\n'
        'client_secret_file = "secret.txt"\nregion = "eu-west-1"\n'
    )

    result = invoke("config", "show", "--region", "localhost:9", "-o", "json")

    assert result.exit_code == 0, result.stderr
    rows = {row["setting"]: row for row in json.loads(result.stdout)}
    assert rows["profile"]["value"] == "prod"
    assert "default_profile" in rows["profile"]["source"]
    assert rows["client_id"]["value"] == "profile-client"
    assert "profile prod" in rows["client_id"]["source"]
    assert "client_secret_file" in rows["client_secret"]["source"]
    assert rows["region"]["source"] == "option --region"
    assert "profile-secret-0123456789abcdef" not in result.output


def test_config_show_without_settings_says_not_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`config show` with nothing configured marks every setting as not set."""
    for name in ("ID", "SECRET"):
        monkeypatch.delenv(f"GENESYSCLOUD_OAUTHCLIENT_{name}")
    monkeypatch.delenv("GENESYSCLOUD_REGION")

    result = invoke("config", "show", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert {row["source"] for row in json.loads(result.stdout)} == {"not set"}


def test_list_category_in_the_wrong_case_warns_with_near_matches(
    emulator: RunningEmulator,
) -> None:
    """`list --category` matching nothing by case alone warns, naming the category."""
    result = invoke("list", "--category", ACME.lower(), "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert f"did you mean '{ACME}'?" in result.stderr


def test_list_unknown_category_warns(emulator: RunningEmulator) -> None:
    """`list --category` of a category no action has warns that nothing is in it."""
    result = invoke("list", "--category", "Nowhere")

    assert result.exit_code == 0, result.stderr
    assert "no action is in category 'Nowhere'" in result.stderr


def test_config_show_profile_option_wins_over_the_environment(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """`config show --profile` takes the profile's values over GENESYSCLOUD_*."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(
        '[profiles.emu2]\nclient_id = "emu2-client"\n'
        'client_secret = "emu2-secret-0123456789abcdef"\nregion = "localhost:9"\n'
    )

    result = invoke("config", "show", "--profile", "emu2", "-o", "json")

    assert result.exit_code == 0, result.stderr
    rows = {row["setting"]: row for row in json.loads(result.stdout)}
    assert rows["client_id"]["value"] == "emu2-client"
    assert "localhost:9" in rows["region"]["value"]
    for name in ("client_id", "client_secret", "region"):
        assert rows[name]["source"].startswith("profile emu2 (")
    assert "win over the environment" in rows["profile"]["source"]
    [warning] = [line for line in result.stderr.splitlines() if "--profile" in line]
    assert "environment GENESYSCLOUD_OAUTHCLIENT_ID" in warning
    assert "environment GENESYSCLOUD_REGION" in warning
