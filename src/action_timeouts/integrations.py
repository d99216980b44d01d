"""Integrations: the names behind the integration ids that data actions carry.

An action names its integration by id only. The integrations list
(`GET /api/v2/integrations`) gives each integration's name, so that a selection
may name an integration as people know it. Reading it needs the OAuth client to
hold `integrations:integration:view`, which changing timeouts does not: without
it the listing answers 403, raised as PermissionDeniedError for the caller to
decide what to do.
"""

from __future__ import annotations

import logging
from typing import Any

from action_timeouts.actions import Transport
from action_timeouts.errors import BadResponseError
from action_timeouts.paging import (
    LIST_PAGE_SIZE,
    read_every_page,
    require_page,
)

__all__ = [
    "INTEGRATIONS_PATH",
    "INTEGRATION_VIEW_PERMISSION",
    "integration_names",
    "require_integration",
]

logger = logging.getLogger(__name__)

INTEGRATIONS_PATH = "/api/v2/integrations"
INTEGRATION_VIEW_PERMISSION = "integrations:integration:view"


def integration_names(client: Transport) -> dict[str, str]:
    """Read every page of the integrations list and return each name by id.

    Pages are as large as the API serves, and the integrations read must add up
    to the `total` it announces, as for the actions listing; when they do not,
    BadResponseError says so. An integration listed without a text name is left
    out, so it matches by id alone.
    """

    def read_page(number: int) -> dict[str, Any]:
        params = {"pageSize": LIST_PAGE_SIZE, "pageNumber": number}
        page = client.get_json(INTEGRATIONS_PATH, params)
        return require_page(page, "integrations")

    pages = read_every_page(read_page, require_integration, what="integrations")
    if not pages.complete:
        count = len(pages.entities)
        noun = "integration" if count == 1 else "integrations"
        message = (
            f"the integrations list returned {count} {noun} but the API reports "
            f"{pages.total}; nothing was done, try again"
        )
        raise BadResponseError(message, status=200)
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
