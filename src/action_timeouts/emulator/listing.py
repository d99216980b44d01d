"""Listings: query parameters, filters, sorting and the paging envelope.

`name` matches case-insensitively anywhere in the action name (a partial or complete
name); `category` matches exactly, case included. Without `sortBy` entities come in
the order they were stored.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from action_timeouts.emulator import documents
from action_timeouts.emulator.errors import bad_request, json_form

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 25
MAX_IDS = 50
SORT_KEYS = ("name", "category")
CATEGORY_SORT_KEYS = ("name",)
PAGING_KEYS = ("pageSize", "pageNumber")
# pageSize and pageNumber are 32-bit integers in the platform's models.
MAX_PAGE_PARAMETER = 2**31 - 1

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """Which page of a listing was asked for, after clamping."""

    size: int
    number: int


@dataclass(frozen=True)
class ActionQuery:
    """The filters and options of an action or draft listing."""

    page: Page
    sort_by: str | None
    descending: bool
    category: str | None
    name: str | None
    ids: frozenset[str] | None
    secure: bool | None
    include_auth_actions: bool
    include_config: bool


def parse_bool(params: Mapping[str, str], key: str, default: bool) -> bool:
    """Return a boolean query parameter ("true" or "false", any case)."""
    value = params.get(key)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_request(f"{key} must be true or false; got {json_form(value)}")


def parse_page(params: Mapping[str, str], max_page_size: int) -> Page:
    """Return the page asked for; a size over the maximum is clamped to it."""
    size = _positive_int(params, "pageSize", DEFAULT_PAGE_SIZE)
    number = _positive_int(params, "pageNumber", 1)
    return Page(size=min(size, max_page_size), number=number)


def parse_descending(params: Mapping[str, str]) -> bool:
    """Return whether `sortOrder` asks for descending order."""
    order = params.get("sortOrder", "asc").lower()
    if order not in ("asc", "desc", "ascending", "descending"):
        raise bad_request(f"sortOrder must be asc or desc; got {json_form(order)}")
    return order.startswith("desc")


def parse_action_query(params: Mapping[str, str], max_page_size: int) -> ActionQuery:
    """Return the listing options of `GET /actions` or `GET /actions/drafts`."""
    sort_by = params.get("sortBy") or None
    if sort_by is not None and sort_by not in SORT_KEYS:
        raise bad_request(f"sortBy must be one of {', '.join(SORT_KEYS)}")
    secure = (
        None
        if params.get("secure") in (None, "")
        else parse_bool(params, "secure", False)
    )
    return ActionQuery(
        page=parse_page(params, max_page_size),
        sort_by=sort_by,
        descending=parse_descending(params),
        category=params.get("category") or None,
        name=params.get("name") or None,
        ids=_parse_ids(params.get("ids")),
        secure=secure,
        include_auth_actions=parse_bool(params, "includeAuthActions", False),
        include_config=parse_bool(params, "includeConfig", False),
    )


def select_actions(
    docs: Iterable[Mapping[str, Any]], query: ActionQuery
) -> list[Mapping[str, Any]]:
    """Return the documents that pass the filters, in the order asked for."""
    chosen = [doc for doc in docs if _passes(doc, query)]
    if query.sort_by is not None:
        key = query.sort_by
        chosen.sort(key=lambda doc: (str(doc.get(key, "")).casefold(), str(doc["id"])))
    if query.descending:
        chosen.reverse()
    return chosen


def page_of(entities: Sequence[T], page: Page) -> Sequence[T]:
    """Return the entities of a whole listing that fall on the page asked for."""
    start = (page.number - 1) * page.size
    return entities[start : start + page.size]


def envelope(
    entities: Sequence[Any],
    page: Page,
    *,
    total: int,
    path: str,
    params: Mapping[str, str],
    include_total: bool,
    links: bool = True,
) -> dict[str, Any]:
    """Return the entities of one page in a listing envelope, with page links or not.

    `total` is the size of the whole listing, of which `entities` is the page.
    """
    page_count = math.ceil(total / page.size)
    shown: dict[str, Any] = {
        "entities": list(entities),
        "pageSize": page.size,
        "pageNumber": page.number,
    }
    if include_total:
        shown.update({"total": total, "pageCount": page_count})
    if not links:
        return shown
    shown["firstUri"] = page_uri(path, params, page.size, 1)
    shown["selfUri"] = page_uri(path, params, page.size, page.number)
    if page.number < page_count:
        shown["nextUri"] = page_uri(path, params, page.size, page.number + 1)
    if page.number > 1:
        previous = min(page.number - 1, max(page_count, 1))
        shown["previousUri"] = page_uri(path, params, page.size, previous)
    if include_total:
        shown["lastUri"] = page_uri(path, params, page.size, max(page_count, 1))
    return shown


def page_uri(path: str, params: Mapping[str, str], size: int, number: int) -> str:
    """Return the link to a page, keeping the listing's other query parameters."""
    others = {key: value for key, value in params.items() if key not in PAGING_KEYS}
    query = urlencode({"pageSize": size, "pageNumber": number, **others})
    return f"{path}?{query}"


def category_names(
    docs: Iterable[Mapping[str, Any]], params: Mapping[str, str]
) -> list[dict[str, str]]:
    """Return the distinct categories of the actions, sorted by name (the only key)."""
    sort_by = params.get("sortBy") or None
    if sort_by is not None and sort_by not in CATEGORY_SORT_KEYS:
        message = f"sortBy of categories must be {', '.join(CATEGORY_SORT_KEYS)}"
        raise bad_request(f"{message}; got {json_form(sort_by)}")
    secure = (
        None
        if params.get("secure") in (None, "")
        else parse_bool(params, "secure", False)
    )
    names = {
        str(doc.get("category", ""))
        for doc in docs
        if secure is None or bool(doc.get("secure", False)) == secure
    }
    ordered = sorted(names, key=str.casefold, reverse=parse_descending(params))
    return [{"name": name} for name in ordered]


def _passes(doc: Mapping[str, Any], query: ActionQuery) -> bool:
    action_id = str(doc["id"])
    if not query.include_auth_actions and documents.is_custom_auth(action_id):
        return False
    if query.ids is not None and action_id not in query.ids:
        return False
    if query.category is not None and doc.get("category") != query.category:
        return False
    name = str(doc.get("name", "")).casefold()
    if query.name is not None and query.name.casefold() not in name:
        return False
    return query.secure is None or bool(doc.get("secure", False)) == query.secure


def _parse_ids(text: str | None) -> frozenset[str] | None:
    if not text:
        return None
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if len(ids) > MAX_IDS:
        raise bad_request(f"ids accepts at most {MAX_IDS} ids; got {len(ids)}")
    return frozenset(ids)


def _positive_int(params: Mapping[str, str], key: str, default: int) -> int:
    text = params.get(key)
    if text is None or text == "":
        return default
    # ASCII digits only: str.isdigit also takes digits of other scripts.
    digits = text.isascii() and text.isdigit()
    if not digits or not 1 <= int(text) <= MAX_PAGE_PARAMETER:
        message = (
            f"{key} must be a whole number from 1 to {MAX_PAGE_PARAMETER}; "
            f"got {json_form(text)}"
        )
        raise bad_request(message)
    return int(text)
