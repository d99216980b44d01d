"""Listing every action while the org changes under the paging, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest

from action_timeouts.actions import ACTIONS_PATH, LISTING_ATTEMPTS, ActionsApi
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.errors import ConflictError

from .emulated import RewrittenAnswers, make_client, requests, web_action

PAGE_SIZE = 4
ACTION_IDS = [f"order-{n:02d}" for n in range(10)]


class AfterFirstPage(httpx.BaseTransport):
    """Send requests to the emulator; run `then` each time page 1 has been served."""

    def __init__(self, then: Callable[[], None]) -> None:
        self.inner = httpx.HTTPTransport()
        self.then = then

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Forward the request, then act once the first page's answer is read."""
        response = self.inner.handle_request(request)
        first_page = request.url.path == ACTIONS_PATH and (
            request.url.params.get("pageNumber") == "1"
        )
        if first_page:
            response.read()
            self.then()
        return response

    def close(self) -> None:
        """Close the connections to the emulator."""
        self.inner.close()


@pytest.fixture
def org(emu: RunningEmulator) -> RunningEmulator:
    """Seed ten actions, listed four a page."""
    emu.state.set_options(max_page_size=PAGE_SIZE)
    emu.state.load_actions([web_action(action_id) for action_id in ACTION_IDS])
    return emu


def listing_pages(emu: RunningEmulator) -> list[str]:
    """Return the page numbers of the listing requests, in order."""
    return [
        parse_qs(entry["query"])["pageNumber"][0]
        for entry in requests(emu, "GET")
        if entry["path"] == ACTIONS_PATH
    ]


def test_a_deletion_during_the_listing_lists_again_from_the_first_page(
    org: RunningEmulator,
) -> None:
    """An action deleted after page 1 was read shifts the next page onto it, which
    would hide one action; the moved total makes the listing start again, so every
    remaining action is listed."""
    deletions = ["order-01"]

    def delete_once() -> None:
        if deletions:
            org.state.delete_action(deletions.pop())

    with make_client(org, transport=AfterFirstPage(delete_once)) as client:
        listing = ActionsApi(client).list_all()

    remaining = sorted(a["id"] for a in org.state.stored_actions())
    assert sorted(a["id"] for a in listing.actions) == remaining
    assert (listing.total, listing.complete) == (9, True)
    assert listing_pages(org)[:3] == ["1", "2", "1"]


def test_an_org_that_keeps_changing_during_listings_is_an_error(
    org: RunningEmulator,
) -> None:
    """When every listing sees actions deleted under it, the listing gives up after
    a bounded number of attempts and says the org kept changing."""
    deletions = list(ACTION_IDS)

    def delete_one() -> None:
        org.state.delete_action(deletions.pop())

    with (
        make_client(org, transport=AfterFirstPage(delete_one)) as client,
        pytest.raises(ConflictError, match="kept changing") as caught,
    ):
        ActionsApi(client).list_all()

    assert caught.value.exit_code == 8
    assert listing_pages(org).count("1") == LISTING_ATTEMPTS


def test_a_steady_total_that_never_adds_up_is_returned_incomplete(
    org: RunningEmulator,
) -> None:
    """A total that stays the same on every page but never matches the actions
    listed is listed again a bounded number of times, then returned as incomplete
    for the caller to refuse, since nothing shows the org changing."""

    def one_more(_request: httpx.Request, answer: httpx.Response) -> httpx.Response:
        page = json.loads(answer.content)
        return httpx.Response(200, json={**page, "total": page["total"] + 1})

    transport = RewrittenAnswers("GET", ACTIONS_PATH, one_more, count=100)
    with make_client(org, transport=transport) as client:
        listing = ActionsApi(client).list_all()

    assert (len(listing.actions), listing.total) == (10, 11)
    assert not listing.complete
    assert listing_pages(org).count("1") == LISTING_ATTEMPTS
