"""Region names, domains, URLs and loopback addresses resolve to the right endpoints."""

from __future__ import annotations

import pytest

from action_timeouts.errors import ConfigurationError
from action_timeouts.regions import (
    DOMAINS,
    REGIONS,
    Endpoint,
    org_identity,
    resolve_region,
)

REGION_TABLE = {
    "us-east-1": "mypurecloud.com",
    "us-east-2": "use2.us-gov-pure.cloud",
    "us-west-2": "usw2.pure.cloud",
    "ca-central-1": "cac1.pure.cloud",
    "sa-east-1": "sae1.pure.cloud",
    "mx-central-1": "mxc1.pure.cloud",
    "eu-west-1": "mypurecloud.ie",
    "eu-west-2": "euw2.pure.cloud",
    "eu-central-1": "mypurecloud.de",
    "eu-central-2": "euc2.pure.cloud",
    "me-central-1": "mec1.pure.cloud",
    "ap-south-1": "aps1.pure.cloud",
    "ap-southeast-1": "apse1.pure.cloud",
    "ap-southeast-2": "mypurecloud.com.au",
    "ap-northeast-1": "mypurecloud.jp",
    "ap-northeast-2": "apne2.pure.cloud",
    "ap-northeast-3": "apne3.pure.cloud",
    "eusc-de-east-1": "edee1.eusc-pure.cloud",
}


def expected(name: str) -> Endpoint:
    """Build the endpoint a region of the reference table must resolve to."""
    domain = REGION_TABLE[name]
    return Endpoint(name, f"https://api.{domain}", f"https://login.{domain}")


def test_the_table_holds_every_region_of_the_reference() -> None:
    """REGIONS is exactly the reference's region table, and DOMAINS its inverse."""
    assert REGIONS == REGION_TABLE
    assert {domain: name for name, domain in REGION_TABLE.items()} == DOMAINS


@pytest.mark.parametrize("name", sorted(REGION_TABLE))
def test_every_region_name_resolves(name: str) -> None:
    """Each region name gives the api. and login. hosts of its domain."""
    assert resolve_region(name) == expected(name)


@pytest.mark.parametrize("name", sorted(REGION_TABLE))
def test_every_region_name_in_upper_case_with_underscores_resolves(name: str) -> None:
    """The SDK spelling (EU_WEST_1) names the same region."""
    assert resolve_region(name.upper().replace("-", "_")) == expected(name)


@pytest.mark.parametrize("name", sorted(REGION_TABLE))
@pytest.mark.parametrize(
    "template",
    ["{domain}", "api.{domain}", "login.{domain}", "https://api.{domain}"],
    ids=["domain", "api-host", "login-host", "api-url"],
)
def test_every_domain_form_resolves(name: str, template: str) -> None:
    """A domain, its api. or login. host, or the API URL name the region."""
    value = template.format(domain=REGION_TABLE[name])
    assert resolve_region(value) == expected(name)


@pytest.mark.parametrize(
    "value",
    [
        "eu_west_1",
        "EU-WEST-1",
        "Eu_West-1",
        "  eu-west-1  ",
        "MyPureCloud.IE",
        "mypurecloud.ie.",
        "https://api.mypurecloud.ie/",
        "https://API.MYPURECLOUD.IE",
        "https://login.mypurecloud.ie",
        "https://api.mypurecloud.ie:443",
        "apps.mypurecloud.ie",
    ],
)
def test_spelling_variants_resolve_to_eu_west_1(value: str) -> None:
    """Case, separators, spaces, a trailing slash or dot and port 443 do not matter."""
    assert resolve_region(value) == expected("eu-west-1")


def test_region_endpoints_are_not_loopback() -> None:
    """A Genesys Cloud region is a remote endpoint."""
    assert not resolve_region("eu-west-1").is_loopback


@pytest.mark.parametrize(
    ("value", "base"),
    [
        ("localhost:8080", "http://localhost:8080"),
        ("127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("LOCALHOST:8080", "http://localhost:8080"),
        ("[::1]:8080", "http://[::1]:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("127.0.0.2:9000", "http://127.0.0.2:9000"),
        ("https://localhost:8443", "https://localhost:8443"),
    ],
)
def test_loopback_forms_serve_login_and_api_on_one_address(
    value: str, base: str
) -> None:
    """An emulator address is used as given, for both the API and the login."""
    endpoint = resolve_region(value)

    assert endpoint.api_base == base
    assert endpoint.login_base == base
    assert endpoint.is_loopback


@pytest.mark.parametrize(
    "value",
    ["http://api.mypurecloud.ie", "http://mypurecloud.ie", "http://example.com:8080"],
)
def test_plain_http_to_a_remote_host_is_refused(value: str) -> None:
    """Only loopback addresses may use plain HTTP; the error says TLS is required."""
    with pytest.raises(ConfigurationError, match="TLS is required"):
        resolve_region(value)


@pytest.mark.parametrize(
    "value",
    ["eu-west-9", "mypurecloud.fr", "api.example.com", "https://api.example.com", "x"],
)
def test_unknown_regions_say_how_to_spell_one(value: str) -> None:
    """The error is one line naming the accepted spellings and the known regions."""
    with pytest.raises(ConfigurationError) as caught:
        resolve_region(value)

    message = str(caught.value)
    assert "\n" not in message
    assert repr(value) in message
    assert "eu-west-1" in message
    assert "localhost:PORT" in message
    assert "ap-southeast-2" in message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ftp://api.mypurecloud.ie", "https://"),
        ("https://api.mypurecloud.ie/api/v2", "only the base URL"),
        ("https://api.mypurecloud.ie/?x=1", "only the base URL"),
        ("localhost:notaport", "cannot read"),
        ("mypurecloud.ie:8443", "443"),
    ],
)
def test_malformed_values_are_refused_with_a_reason(value: str, fragment: str) -> None:
    """Empty values, other schemes, paths, bad ports are configuration errors."""
    with pytest.raises(ConfigurationError, match=fragment):
        resolve_region(value)


@pytest.mark.parametrize(
    "value",
    [
        "https://u:CANARY-REGION-SECRET@api.mypurecloud.ie",
        "https://CANARY-REGION-SECRET@api.mypurecloud.ie",
        "u:CANARY-REGION-SECRET@mypurecloud.ie",
        "ftp://u:CANARY-REGION-SECRET@api.mypurecloud.ie",
        "https://u:CANARY-REGION-SECRET@api.mypurecloud.ie:99999",
        "http://u:CANARY-REGION-SECRET@127.0.0.1:8080",
        "https://u:CANARY-REGION-SECRET@[::1",
    ],
    ids=[
        "user-and-password",
        "user",
        "no-scheme",
        "ftp",
        "bad-port",
        "loopback",
        "ipv6",
    ],
)
def test_credentials_in_the_region_are_refused_without_being_repeated(
    value: str,
) -> None:
    """A region URL with a user name or password is refused, saying credentials do
    not belong there, and the error never repeats them, whatever else is wrong."""
    with pytest.raises(ConfigurationError) as caught:
        resolve_region(value)

    message = str(caught.value)
    assert "credentials do not belong in the URL" in message
    assert "CANARY-REGION-SECRET" not in message


def test_endpoint_is_frozen() -> None:
    """An endpoint cannot be changed after it is built."""
    endpoint = resolve_region("eu-west-1")

    with pytest.raises(AttributeError):
        endpoint.name = "us-east-1"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("http://localhost:8787", "http://127.0.0.1:8787"),
        ("http://127.0.0.1:8787/", "http://LOCALHOST:8787"),
        ("http://[::1]:8787", "http://localhost:8787"),
        ("https://api.mypurecloud.ie", "HTTPS://API.MyPureCloud.ie:443"),
        ("https://api.mypurecloud.ie.", "https://api.mypurecloud.ie/"),
    ],
)
def test_one_org_spelled_two_ways_has_one_identity(first: str, second: str) -> None:
    """Case, loopback names, default ports and trailing dots do not change the org."""
    assert org_identity(first) == org_identity(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("http://localhost:8787", "http://localhost:8788"),
        ("https://api.mypurecloud.ie", "https://api.mypurecloud.com"),
        ("http://localhost:8787", "https://localhost:8787"),
    ],
)
def test_other_orgs_have_other_identities(first: str, second: str) -> None:
    """Another host, port or scheme is another org."""
    assert org_identity(first) != org_identity(second)
