"""Read-only commands: `show` one action, `list` many."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import click

from action_timeouts.actions import (
    ActionsApi,
    Listing,
    Transport,
    action_kind,
    describe_timeout,
    stored_timeout,
)
from action_timeouts.cli.common import (
    connection_from,
    connection_options,
    handle_errors,
    open_api,
    output_option,
    print_rows,
    say,
    write_text,
)
from action_timeouts.cli.output import emit
from action_timeouts.errors import PermissionDeniedError, UsageError

LIST_COLUMNS = (
    "id",
    "name",
    "category",
    "integration_id",
    "timeout",
    "version",
    "secure",
)
# A header or URL query parameter may hold a credential when one of the words of
# its name is one of these, any case: Authorization, X-Api-Key, client_secret,
# accessToken, Set-Cookie, X-Session-Id, X-Amz-Signature, sig...
SECRET_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "auth",
        "authorization",
        "signature",
        "sig",
        "credential",
        "credentials",
        "session",
        "cookie",
        "jwt",
        "hmac",
        "cert",
        "private",
    }
)
# Stems that mark a credential even glued into one word: clientsecret, accesstoken,
# subscriptionkey, mypassword.
SECRET_STEMS = (
    "secret",
    "password",
    "passwd",
    "passphrase",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "subscriptionkey",
    "credential",
    "signature",
    "authorization",
    "cookie",
)
# Only in a URL: `code=` carries an Azure Functions key.
SECRET_PARAMETER_WORDS = SECRET_WORDS | {"code"}
# Words of a name: split on - _ . (and spaces), and where camelCase changes case.
NAME_SEPARATOR = re.compile(r"[-_.\s]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
SECRET_VALUE = re.compile(r"^\s*(bearer|basic|token)\s+\S", re.I)
# Key material wherever it stands: a PEM block or a JSON Web Token.
KEY_MATERIAL = re.compile(r"-----BEGIN|\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+", re.I)
TEMPLATE_REFERENCE = re.compile(r"^\s*\$!?\{[^}]*\}\s*$")
# `scheme://userinfo@` (or scheme-relative `//userinfo@`) at the start of a URL;
# the userinfo ends at its last @ before any / ? # (a password may hold @).
URL_USERINFO = re.compile(r"^(\s*(?:[A-Za-z][A-Za-z0-9+.-]*:)?//)([^/?#]*)@")
# `name=value` after ? & ; or # (a fragment such as `#access_token=`) up to the
# next & ; or #.
URL_PARAMETER = re.compile(r"([?&;#])([^=&;#]*)=([^&;#]*)")
MASK = "****"


@click.command()
@click.argument("action_id", required=False)
@click.option(
    "--reveal",
    is_flag=True,
    help="Show header and URL values that look secret, as stored.",
)
@output_option
@connection_options
@handle_errors
def show(
    action_id: str | None, reveal: bool, output_format: str, **kwargs: Any
) -> None:
    """Show one action: its timeout, request, headers and templates."""
    from action_timeouts.plan import validate_action_id

    connection = connection_from(kwargs)
    action_id = action_id or connection.settings().action_id
    if not action_id:
        raise UsageError("give an ACTION_ID (or set GENESYS_ACTION_ID)")
    validate_action_id(action_id)
    with open_api(connection) as (api, _client):
        action = api.get(action_id)
        config = api.inline_templates(action)
    shown = {**action, "config": config if reveal else mask_config(config)}
    if output_format in ("json", "ndjson"):
        indent = None if output_format == "ndjson" else 2
        write_text(json.dumps(shown, indent=indent, ensure_ascii=False) + "\n")
        return
    rows = describe_action(shown, for_people=output_format == "table")
    print_rows(rows, ("field", "value"), output_format)


def describe_action(
    action: Mapping[str, Any], *, for_people: bool = True
) -> list[dict[str, Any]]:
    """Flatten an action into field/value rows (timeout in words for people)."""
    config = action.get("config") or {}
    request = config.get("request") or {}
    response = config.get("response") or {}
    timeout = stored_timeout(action)
    rows = {
        "id": action.get("id"),
        "name": action.get("name"),
        "category": action.get("category"),
        "integration_id": action.get("integrationId"),
        "kind": action_kind(action).value,
        "version": action.get("version"),
        "secure": action.get("secure"),
        "timeout": describe_timeout(timeout) if for_people else timeout,
        "method": request.get("requestType"),
        "url": request.get("requestUrlTemplate"),
    }
    for name, value in (request.get("headers") or {}).items():
        rows[f"header {name}"] = value
    rows["request template"] = request.get("requestTemplate")
    rows["success template"] = response.get("successTemplate")
    rows["translation map"] = len(response.get("translationMap") or {})
    return [{"field": key, "value": value} for key, value in rows.items()]


def mask_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of the config with credential-like values masked.

    Masked are header values by name (`secret_name`), a `Bearer`/`Basic`/`Token`
    header value, any value holding key material (a PEM block, a JSON Web Token),
    the values of URL query parameters by name, and the URL's userinfo
    (`https://user:pass@host`). A value that is only a template reference
    (`${credentials.key}`) is no secret and is kept. Templates are not parsed.
    """
    request = dict(config.get("request") or {})
    headers = request.get("headers")
    if isinstance(headers, Mapping):
        request["headers"] = {
            name: MASK if looks_secret(str(name), value) else value
            for name, value in headers.items()
        }
    url = request.get("requestUrlTemplate")
    if isinstance(url, str):
        request["requestUrlTemplate"] = mask_url(url)
    return {**config, "request": request} if "request" in config else dict(config)


def mask_url(url: str) -> str:
    """Mask the userinfo of a URL and the values of its credential-like parameters."""
    url = URL_USERINFO.sub(mask_userinfo, url)

    def parameter(match: re.Match[str]) -> str:
        separator, name, value = match.groups()
        if value and looks_secret(name, value, in_url=True):
            value = MASK
        return f"{separator}{name}={value}"

    return URL_PARAMETER.sub(parameter, url)


def mask_userinfo(match: re.Match[str]) -> str:
    """Mask a URL's `user:password@`, keeping a part that is a template reference."""
    start, userinfo = match.groups()
    parts = userinfo.split(":", 1)
    kept = [part if TEMPLATE_REFERENCE.match(part) else MASK for part in parts]
    if all(part == MASK for part in kept):
        kept = [MASK]
    return f"{start}{':'.join(kept)}@"


def secret_name(name: str, *, in_url: bool = False) -> bool:
    """Tell whether one of the words of a header or parameter name is a secret word.

    A name is percent-decoded, then split into words on `-`, `_`, `.` and
    camelCase: `X-Api-Key`, `accessToken` and `api%5Fkey` are secret names,
    `X-Author` is not. `code` counts in a URL only. A few stems count even inside
    one word (`clientsecret`, `accesstoken`).
    """
    words = NAME_SEPARATOR.split(unquote(name).strip())
    secret_words = SECRET_PARAMETER_WORDS if in_url else SECRET_WORDS
    if any(word.casefold() in secret_words for word in words):
        return True
    glued = "".join(words).casefold()
    return any(stem in glued for stem in SECRET_STEMS)


def looks_secret(name: str, value: object, *, in_url: bool = False) -> bool:
    """Tell whether a header (or parameter) value may be a credential worth hiding."""
    text = str(value)
    if TEMPLATE_REFERENCE.match(text):
        return False
    if secret_name(name, in_url=in_url) or KEY_MATERIAL.search(text):
        return True
    return not in_url and bool(SECRET_VALUE.match(text))


@click.command("list")
@click.option("--name", "name_glob", help="Only names matching this glob (any case).")
@click.option("--category", help="Only this category.")
@output_option
@connection_options
@handle_errors
def list_actions(
    name_glob: str | None, category: str | None, output_format: str, **kwargs: Any
) -> None:
    """List actions with their timeouts (every page, checked against the total)."""
    filters = {"category": category} if category else {}
    with open_api(connection_from(kwargs)) as (api, _client):
        listing = complete_listing(api, filters)
        actions = [
            action
            for action in listing.actions
            if name_glob is None
            or fnmatch.fnmatchcase(
                str(action.get("name", "")).casefold(), name_glob.casefold()
            )
        ]
        if not actions and (category or name_glob):
            warn_empty_list(api, listing.actions, category, name_glob)
    emit([list_row(action) for action in actions], LIST_COLUMNS, output_format)


def warn_empty_list(
    api: ActionsApi,
    listed: Sequence[Mapping[str, Any]],
    category: str | None,
    name_glob: str | None,
) -> None:
    """Warn that `list` found nothing, saying which option emptied it."""
    from action_timeouts.cli.hints import explain_empty_selection
    from action_timeouts.plan import Selector

    selector = Selector(
        categories=(category,) if category else (),
        name_globs=(name_glob,) if name_glob else (),
    )
    hint = explain_empty_selection(
        listed,
        selector,
        filtered=bool(category),
        list_all=lambda: complete_listing(api, {}).actions,
    )
    say(f"warning: {hint}")


def complete_listing(api: ActionsApi, filters: Mapping[str, Any]) -> Listing:
    """List every action and fail when fewer arrive than the API's total."""
    listing = api.list_all(filters)
    if not listing.complete:
        from action_timeouts.paging import short_listing

        raise short_listing(len(listing.actions), listing.total, ("action", "actions"))
    return listing


def integration_names_for(
    client: Transport, values: Mapping[str, Sequence[str]]
) -> dict[str, str] | None:
    """Read each integration's name by id when a selection names integrations.

    `values` holds the selection's integration values by where they were given
    (`--integration`, a policy rule); nothing is read when there are none. A client
    that lacks the permission to list integrations gets None: `check_integrations`
    then requires every value to be an id. Any other failure of the list is raised.
    """
    from action_timeouts.integrations import (
        integration_names,
        lacks_view_permission,
    )

    if not any(values.values()):
        return None
    try:
        return integration_names(client)
    except PermissionDeniedError as error:
        if not lacks_view_permission(error):
            raise
        return None


def check_integrations(
    values: Mapping[str, Sequence[str]],
    names: Mapping[str, str] | None,
    actions: Sequence[Mapping[str, Any]],
) -> None:
    """Check a selection's integration values against the listed actions.

    Without names (they could not be read) every value must be the integration id
    of one of `actions`, else PermissionDeniedError names the others before
    anything is changed. With names, a value that matches more than one
    integration is warned about, even with -q: it widens the change.
    """
    if not any(values.values()):
        return
    if names is None:
        require_integration_ids(values, actions)
    else:
        warn_ambiguous_integrations(values, names, actions)


def require_integration_ids(
    values: Mapping[str, Sequence[str]],
    actions: Sequence[Mapping[str, Any]],
) -> None:
    """Raise PermissionDeniedError unless every value is a listed integration id."""
    from action_timeouts.integrations import INTEGRATION_VIEW_PERMISSION, name_key

    ids = {name_key(str(action.get("integrationId") or "")) for action in actions}
    unmatched = [
        f"'{value}'" if not where else f"'{value}' ({where})"
        for where, given in values.items()
        for value in given
        if name_key(value) not in ids
    ]
    if not unmatched:
        return
    noun, verb = ("value", "is") if len(unmatched) == 1 else ("values", "are")
    message = (
        f"integration {noun} {', '.join(unmatched)} {verb} not the id of any listed "
        "action's integration, and matching names needs the OAuth client to hold "
        f"{INTEGRATION_VIEW_PERMISSION}; grant it, or give the integration id "
        "(`action-timeouts list` shows integration_id); nothing was changed"
    )
    raise PermissionDeniedError(message, status=403)


def warn_ambiguous_integrations(
    values: Mapping[str, Sequence[str]],
    names: Mapping[str, str],
    actions: Sequence[Mapping[str, Any]],
) -> None:
    """Warn, even with -q, of each value matching more than one integration."""
    from action_timeouts.cli.common import printable
    from action_timeouts.integrations import matching_integrations

    ids = [str(action.get("integrationId") or "") for action in actions]
    for where, given in values.items():
        for value in given:
            matched = matching_integrations(value, names, ids)
            if len(matched) < 2:
                continue
            listed = ", ".join(
                f"{integration_id} ('{names[integration_id]}')"
                if integration_id in names
                else integration_id
                for integration_id in matched
            )
            prefix = f"{where}: " if where else ""
            line = (
                f"warning: {prefix}integration '{value}' matches {len(matched)} "
                f"integrations, so the actions of all of them are selected: {listed}"
            )
            click.echo(printable(line), err=True)


def list_row(action: Mapping[str, Any]) -> dict[str, Any]:
    """One row of `list` output: the timeout as stored, None when unset.

    A stored value that is not whole seconds 1-60 is given as it is, and a table
    marks it invalid (`describe_timeout`).
    """
    return {
        "id": action.get("id"),
        "name": action.get("name"),
        "category": action.get("category"),
        "integration_id": action.get("integrationId"),
        "timeout": stored_timeout(action),
        "version": action.get("version"),
        "secure": action.get("secure"),
    }
