"""Integrations: the names behind the integration ids that data actions carry.

An action names its integration by id only. The integrations list
(`GET /api/v2/integrations`) gives each integration's name, so that a selection
may name an integration as people know it. Reading it needs the OAuth client to
hold `integrations:integration:view`, which changing timeouts does not: without
it the listing answers 403, raised as PermissionDeniedError for the caller to
decide what to do (`lacks_view_permission` tells the missing permission apart from
other refusals).

Names are compared as `name_key` writes them: Unicode NFC, surrounding whitespace
removed, case folded, so `Müller` typed on one keyboard matches `Müller ` stored
decomposed by another.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from action_timeouts.actions import Transport
from action_timeouts.errors import (
    BadResponseError,
    NotFoundError,
    PermissionDeniedError,
)
from action_timeouts.paging import (
    LIST_PAGE_SIZE,
    read_every_page,
    require_page,
    short_listing,
)

__all__ = [
    "INTEGRATIONS_PATH",
    "INTEGRATION_VIEW_PERMISSION",
    "MISSING_PERMISSION_CODES",
    "integration_names",
    "lacks_view_permission",
    "matching_integrations",
    "name_key",
    "require_integration",
]

logger = logging.getLogger(__name__)

INTEGRATIONS_PATH = "/api/v2/integrations"
INTEGRATION_VIEW_PERMISSION = "integrations:integration:view"
# The codes of a 403 that says the client lacks a permission, not that the
# resource is refused for another reason.
MISSING_PERMISSION_CODES = frozenset({"missing.any.permissions", "missing.permissions"})


def integration_names(client: Transport) -> dict[str, str]:
    """Read every page of the integrations list and return each name by id.

    Pages are as large as the API serves, and the integrations read must add up
    to the `total` it announces, as for the actions listing; when they do not,
    BadResponseError says so. An integration listed without a text name is left
    out, so it matches by id alone. A 404 is no answer the API promises for the
    list, so it is raised as BadResponseError naming the list.
    """

    def read_page(number: int) -> dict[str, Any]:
        params = {"pageSize": LIST_PAGE_SIZE, "pageNumber": number}
        try:
            page = client.get_json(INTEGRATIONS_PATH, params)
        except NotFoundError as error:
            message = (
                f"the integrations list ({INTEGRATIONS_PATH}) answered 404 "
                "not found; nothing was done"
            )
            raise error.reworded(message, BadResponseError) from None
        return require_page(page, "integrations")

    pages = read_every_page(read_page, require_integration, what="integrations")
    if not pages.complete:
        nouns = ("integration", "integrations")
        raise short_listing(len(pages.entities), pages.total, nouns)
    names = {
        item["id"]: item["name"]
        for item in pages.entities
        if isinstance(item.get("name"), str) and item["name"]
    }
    logger.info("read the names of %d integrations", len(names))
    return names


def require_integration(document: object) -> dict[str, Any]:
    """Check that a listed entity looks like an integration, or raise."""
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        message = "the server's answer for an integration is not one with an id"
        raise BadResponseError(message, status=200, body=document)
    return document


def lacks_view_permission(error: PermissionDeniedError) -> bool:
    """Tell whether a 403 of the integrations list says a permission is missing."""
    return error.code in MISSING_PERMISSION_CODES


def name_key(text: str) -> str:
    """Return an integration id or name as it is compared: NFC, stripped, casefolded."""
    folded = unicodedata.normalize("NFC", text).strip().casefold()
    return unicodedata.normalize("NFC", folded)


def matching_integrations(
    value: str, names: Mapping[str, str], ids: Iterable[str] = ()
) -> list[str]:
    """Return the ids of the integrations whose id or name `value` matches.

    `names` maps integration ids to names; `ids` adds integrations known by id
    alone (those of listed actions).
    """
    key = name_key(value)
    if not key:
        return []
    known = dict.fromkeys([*names, *ids])
    return [
        integration_id
        for integration_id in known
        if key in (name_key(integration_id), name_key(names.get(integration_id, "")))
    ]
