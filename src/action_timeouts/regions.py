"""Genesys Cloud regions, and how a region setting becomes an API and a login URL.

A region may be given as its name in any case, with `-` or `_` (`eu-west-1`,
`EU_WEST_1`), as its domain with or without the `api.`, `login.` or `apps.` host
prefix (`mypurecloud.ie`, `login.mypurecloud.ie`), or as a URL
(`https://api.mypurecloud.ie`). A loopback address with a port (`localhost:8080`,
`http://127.0.0.1:8080`, `[::1]:8080`) points at a local emulator, which serves the
login and the API on the same address. Plain `http://` is refused for anything else.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from action_timeouts.errors import ConfigurationError

__all__ = ["DOMAINS", "REGIONS", "Endpoint", "org_identity", "resolve_region"]

logger = logging.getLogger(__name__)

REGIONS: dict[str, str] = {
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
"""Region name -> domain; the API is on `api.<domain>`, tokens on `login.<domain>`."""

DOMAINS: dict[str, str] = {domain: name for name, domain in REGIONS.items()}
"""Domain -> region name."""

_HOST_PREFIXES = ("api.", "login.", "apps.")
_SPELLING_HINT = (
    "give a region name (eu-west-1 or EU_WEST_1), its domain (mypurecloud.ie), "
    "an API URL (https://api.mypurecloud.ie) or localhost:PORT for the emulator"
)


@dataclass(frozen=True)
class Endpoint:
    """Where the API and the token endpoint of one region (or emulator) live."""

    name: str
    api_base: str
    login_base: str

    def __post_init__(self) -> None:
        """Refuse a base URL that would send credentials without TLS."""
        for base in (self.api_base, self.login_base):
            parts = urlsplit(base)
            local = parts.scheme == "http" and _is_loopback_host(parts.hostname or "")
            if parts.scheme != "https" and not local:
                message = (
                    f"{base!r} is not an https:// URL: credentials are sent only over "
                    "TLS (plain http is only allowed for localhost)"
                )
                raise ConfigurationError(message)

    @property
    def is_loopback(self) -> bool:
        """Whether this endpoint is a local address (an emulator)."""
        host = urlsplit(self.api_base).hostname or ""
        return _is_loopback_host(host)


def resolve_region(value: str) -> Endpoint:
    """Turn a region name, domain, API URL or loopback address into an Endpoint."""
    text = value.strip()
    if not text:
        message = f"the region is empty: {_SPELLING_HINT}"
        raise ConfigurationError(message)
    _refuse_credentials(text)

    parts = _split(text, value)
    host = (parts.hostname or "").rstrip(".")
    if _is_loopback_host(host):
        return _loopback_endpoint(parts, host, value)

    _check_remote_parts(parts, value)
    return _region_endpoint(_region_name(host, value))


def _refuse_credentials(text: str) -> None:
    """Refuse a value with a user name or password, without repeating either.

    The check reads the text itself, before any parsing, so that no later message
    (a bad scheme, an unreadable port) can quote the value with its credentials.
    """
    start = text.find("://") + 3 if "://" in text else 0
    ends = [at for at in (text.find(mark, start) for mark in "/?#") if at >= 0]
    authority = text[start : min(ends, default=len(text))]
    if "@" not in authority:
        return
    host = authority.rpartition("@")[2]
    message = (
        f"the region ({text[:start]}…@{host}) has a user name or password in it: "
        "credentials do not belong in the URL; give only the base URL, and the "
        "client ID and secret as their own settings"
    )
    raise ConfigurationError(message)


def _split(text: str, value: str) -> SplitResult:
    """Split the value as a URL, reading a bare `host[:port]` as a network location."""
    with_scheme = text if "://" in text else f"//{text}"
    try:
        parts = urlsplit(with_scheme)
        _ = parts.port
    except ValueError:
        message = f"cannot read the region {value!r}: {_SPELLING_HINT}"
        raise ConfigurationError(message) from None

    if parts.scheme not in ("", "http", "https"):
        message = f"the region {value!r} has scheme {parts.scheme!r}: use https://"
        raise ConfigurationError(message)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        message = f"the region {value!r} has a path or query: give only the base URL"
        raise ConfigurationError(message)
    return parts


def _is_loopback_host(host: str) -> bool:
    """Whether the host names this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _loopback_endpoint(parts: SplitResult, host: str, value: str) -> Endpoint:
    """Build the endpoint of a local emulator, which serves login and API together."""
    scheme = parts.scheme or "http"
    shown_host = f"[{host}]" if ":" in host else host
    address = shown_host if parts.port is None else f"{shown_host}:{parts.port}"
    base = f"{scheme}://{address}"
    logger.debug("region %r is the loopback address %s", value, base)
    return Endpoint(name=address, api_base=base, login_base=base)


def _check_remote_parts(parts: SplitResult, value: str) -> None:
    """Refuse plain HTTP and unusual ports for a remote (non-loopback) host."""
    if parts.scheme == "http":
        message = (
            f"the region {value!r} uses plain http://: TLS is required, "
            "use https:// (plain http is only allowed for localhost)"
        )
        raise ConfigurationError(message)
    if parts.port not in (None, 443):
        message = f"the region {value!r} has port {parts.port}: Genesys Cloud uses 443"
        raise ConfigurationError(message)


def _region_name(host: str, value: str) -> str:
    """Find the region a host names, as a region name or a (prefixed) domain."""
    key = host.lower().replace("_", "-")
    if key in REGIONS:
        return key
    for prefix in ("", *_HOST_PREFIXES):
        if key.startswith(prefix) and key[len(prefix) :] in DOMAINS:
            return DOMAINS[key[len(prefix) :]]

    message = (
        f"unknown Genesys Cloud region {value!r}: {_SPELLING_HINT}; "
        f"known regions: {', '.join(REGIONS)}"
    )
    raise ConfigurationError(message)


def _region_endpoint(name: str) -> Endpoint:
    """Build the endpoint of a Genesys Cloud region from its name."""
    domain = REGIONS[name]
    return Endpoint(
        name=name,
        api_base=f"https://api.{domain}",
        login_base=f"https://login.{domain}",
    )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def org_identity(base_url: str) -> str:
    """Return an API base URL in one spelling, to tell whether two name one org.

    Scheme and host are lower-cased, a trailing dot, a path and a default port are
    dropped, and every loopback name (`127.0.0.1`, `::1`) is written `localhost`:
    `http://127.0.0.1:8787/` and `http://LOCALHOST:8787` are the same emulator.
    """
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    if _is_loopback_host(host):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
