"""Reading every page of a Platform API listing, checked against the total it announces.

The actions listing and the integrations listing page the same way: `pageSize` and
`pageNumber` in, an envelope with `entities`, `total` and `pageCount` out. Pages are
read one after another, so an entity created or deleted meanwhile shifts the others
across pages: one may be read twice and another never. The `total` each page
announces shows it: when it moves between pages, or the entities read do not add up
to it, the listing starts again from page 1, up to `LISTING_ATTEMPTS` times.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from action_timeouts.errors import BadResponseError, ConflictError

__all__ = [
    "LISTING_ATTEMPTS",
    "LIST_PAGE_SIZE",
    "EntityCheck",
    "PageReader",
    "Pages",
    "is_integer",
    "page_count",
    "read_every_page",
    "require_page",
    "short_listing",
]

logger = logging.getLogger(__name__)

LIST_PAGE_SIZE = 100  # the largest page the Platform API serves
LISTING_ATTEMPTS = 3  # full listings tried while the org changes under the paging
# The envelope's counts: each a whole number when present (absent or null: unsaid).
ENVELOPE_COUNTS = ("total", "pageSize", "pageNumber", "pageCount")
LONGEST_QUOTED_COUNT = 40  # characters of a count a message repeats
PageReader = Callable[[int], Mapping[str, Any]]
"""Reads the page of that number (from 1) and returns its envelope."""
EntityCheck = Callable[[object], dict[str, Any]]
"""Returns a listed entity, which has a text `id`, or raises BadResponseError."""


@dataclass
class Pages:
    """Every entity a listing returned, with the total it announced."""

    entities: list[dict[str, Any]]
    total: int | None
    pages: int

    @property
    def complete(self) -> bool:
        """Tell whether as many entities arrived as the API said exist."""
        return self.total is None or self.total == len(self.entities)


def is_integer(value: object) -> TypeGuard[int]:
    """Tell whether a JSON value is an integer; `true` and `false` are not."""
    return isinstance(value, int) and not isinstance(value, bool)


def require_page(page: object, what: str) -> dict[str, Any]:
    """Return a listing envelope, or raise BadResponseError when `page` is not one.

    Its `entities` must be a list, and each count of `ENVELOPE_COUNTS` present a
    whole number from 0: a total of `"x"` read as no total would pass an empty or
    partial listing for a complete one.
    """
    if not isinstance(page, dict) or not isinstance(page.get("entities"), list):
        message = f"the {what} listing is not a paged list of {what}"
        raise BadResponseError(message, status=200, body=page)
    for key in ENVELOPE_COUNTS:
        value = page.get(key)
        if value is not None and not (is_integer(value) and value >= 0):
            message = (
                f"the {what} listing is not a paged list of {what}: its {key} is "
                f"{_json_text(value)}, not a whole number"
            )
            raise BadResponseError(message, status=200, body=page)
    return page


def _json_text(value: object) -> str:
    """Write a value as the JSON it came as, cut short when it is long."""
    text = json.dumps(value, ensure_ascii=False, default=repr)
    if len(text) <= LONGEST_QUOTED_COUNT:
        return text
    return f"{text[:LONGEST_QUOTED_COUNT]}… ({len(text)} characters)"


def read_every_page(read_page: PageReader, check: EntityCheck, *, what: str) -> Pages:
    """Read every page until an empty or last one; `what` names the entities.

    A listing whose total moved while it was read, or whose entities do not add
    up to it, is read again from page 1, up to `LISTING_ATTEMPTS` times. An org
    still changing after that raises ConflictError; a total that never moved but
    never adds up either is returned as it is (`Pages.complete` says so).
    """
    for attempt in range(1, LISTING_ATTEMPTS + 1):
        pages, moved = _read_once(read_page, check)
        if pages.complete and not moved:
            return pages
        logger.info(
            "the %s listing changed while it was read (%d %s, total %s); "
            "listing again (attempt %d of %d)",
            what,
            len(pages.entities),
            what,
            pages.total,
            attempt,
            LISTING_ATTEMPTS,
        )
    if not moved:
        return pages
    message = (
        f"the org kept changing while its {what} were listed ({LISTING_ATTEMPTS} "
        f"attempts, {what} created or deleted meanwhile); nothing was done, try "
        "again when it is quiet"
    )
    raise ConflictError(message, status=200)


def _read_once(read_page: PageReader, check: EntityCheck) -> tuple[Pages, bool]:
    """Read the pages once; also tell whether the announced total moved."""
    entities: list[dict[str, Any]] = []
    seen: set[str] = set()
    totals: set[int] = set()
    page_number = 1
    while True:
        page = read_page(page_number)
        listed = [check(item) for item in page["entities"]]
        if is_integer(page.get("total")):
            totals.add(page["total"])
        fresh = [item for item in listed if item["id"] not in seen]
        if listed and not fresh:
            message = f"the listing repeated page {page_number}; stopping"
            raise BadResponseError(message, status=200, body=None)
        seen.update(item["id"] for item in fresh)
        entities.extend(fresh)
        if len(totals) > 1:
            return Pages(entities, page.get("total"), page_number), True
        if not listed or page_number >= page_count(page):
            total = next(iter(totals)) if totals else None
            return Pages(entities, total, page_number), False
        page_number += 1


def short_listing(
    count: int, total: object, nouns: tuple[str, str]
) -> BadResponseError:
    """Say that a listing returned fewer entities than the API announced.

    `nouns` are the singular and plural of what was listed ("action", "actions").
    """
    noun = nouns[0] if count == 1 else nouns[1]
    message = (
        f"the {nouns[1]} list returned {count} {noun} but the API reports {total}; "
        "nothing was done, try again"
    )
    return BadResponseError(message, status=200)


def page_count(page: Mapping[str, Any]) -> int:
    """Return how many pages a listing envelope announces (very many when unsaid)."""
    count = page.get("pageCount")
    if is_integer(count) and count > 0:
        return count
    total, size = page.get("total"), page.get("pageSize")
    if is_integer(total) and is_integer(size) and size > 0:
        return max(1, -(-total // size))
    return 1_000_000
