"""Templates are taken only from real template answers, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from action_timeouts.actions import ActionsApi, set_timeout
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.errors import BadResponseError

from .emulated import CRLF_TEMPLATE, requests, web_action

ACTION_ID = "lookup-order"
ACTION_PATH = f"/api/v2/integrations/actions/{ACTION_ID}"
REQUEST_TEMPLATE = f"{ACTION_PATH}/templates/requesttemplate.vm"


def seed(emu: RunningEmulator, document: dict[str, Any]) -> dict[str, Any]:
    """Load one action and return it as stored."""
    (action_id,) = emu.state.load_actions([document])
    return emu.state.stored_action(action_id)


def patches(emu: RunningEmulator) -> int:
    """Count the PATCH requests the emulator saw."""
    return len(requests(emu, "PATCH"))


# Answers that are not a template


NOT_A_TEMPLATE = {
    "204-no-content": (204, b"", None),
    "202-accepted": (202, b"", None),
    "200-empty-without-type": (200, b"", None),
    "206-partial": (206, CRLF_TEMPLATE[:5].encode(), "text/plain; charset=utf-8"),
    "203-transformed": (203, CRLF_TEMPLATE[:5].encode(), "text/plain; charset=utf-8"),
    "201-created": (201, CRLF_TEMPLATE[:5].encode(), "text/plain; charset=utf-8"),
}


@pytest.mark.parametrize(
    ("status", "body", "content_type"), NOT_A_TEMPLATE.values(), ids=NOT_A_TEMPLATE
)
def test_a_template_answer_that_is_not_a_template_stops_before_any_patch(
    emu: RunningEmulator,
    api: ActionsApi,
    status: int,
    body: bytes,
    content_type: str | None,
) -> None:
    """Only a 200 with a template is a template: an empty or partial success answer
    stops the change with nothing sent, instead of wiping or cutting the template."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=15))
    emu.state.inject_raw_response(
        1,
        status,
        body,
        content_type=content_type,
        methods=["GET"],
        path_prefix=REQUEST_TEMPLATE,
    )

    with pytest.raises(BadResponseError, match=r"requesttemplate\.vm") as caught:
        set_timeout(api, ACTION_ID, 30)

    assert caught.value.exit_code == 11
    assert patches(emu) == 0
    assert emu.state.stored_action(ACTION_ID) == before


def test_an_empty_stored_template_is_kept_empty(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """A template stored empty is served as an empty text answer and sent back
    empty: it is a template, not a failed download."""
    document = web_action(ACTION_ID, timeoutSeconds=15)
    document["config"]["request"]["requestTemplate"] = ""
    before = seed(emu, document)

    result = set_timeout(api, ACTION_ID, 30)

    after = emu.state.stored_action(ACTION_ID)
    assert result.outcome == "changed"
    assert after["config"]["request"]["requestTemplate"] == ""
    assert after["config"] == {**before["config"], "timeoutSeconds": 30}


# Text encoding

NON_ASCII_TEMPLATE = '{"note": "données ✓ — 受信"}'


def test_a_template_is_read_as_utf8_whatever_charset_is_declared(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """Template bytes are UTF-8: an answer declaring ISO-8859-1 over them is still
    read as UTF-8, so the template is sent back as it was, not as mojibake."""
    document = web_action(ACTION_ID, timeoutSeconds=15)
    document["config"]["request"]["requestTemplate"] = NON_ASCII_TEMPLATE
    seed(emu, document)
    emu.state.inject_raw_response(
        1,
        200,
        NON_ASCII_TEMPLATE.encode("utf-8"),
        content_type="text/plain; charset=ISO-8859-1",
        methods=["GET"],
        path_prefix=REQUEST_TEMPLATE,
    )

    set_timeout(api, ACTION_ID, 30)

    after = emu.state.stored_action(ACTION_ID)
    assert after["config"]["request"]["requestTemplate"] == NON_ASCII_TEMPLATE


def test_a_template_in_another_charset_stops_before_any_patch(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """Bytes that are valid in the declared charset but not UTF-8 are refused, with
    nothing sent, rather than decoded in a charset templates are never stored in."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=15))
    emu.state.inject_raw_response(
        1,
        200,
        "café".encode("latin-1"),
        content_type="text/plain; charset=ISO-8859-1",
        methods=["GET"],
        path_prefix=REQUEST_TEMPLATE,
    )

    with pytest.raises(BadResponseError, match="utf-8"):
        set_timeout(api, ACTION_ID, 30)

    assert patches(emu) == 0
    assert emu.state.stored_action(ACTION_ID) == before


# Which files are fetched


def template_reads(emu: RunningEmulator) -> list[str]:
    """Return the paths of every template download the emulator saw, in order."""
    return [
        entry["path"]
        for entry in requests(emu, "GET")
        if "/templates/" in entry["path"]
    ]


OWN_FILES = [REQUEST_TEMPLATE, f"{ACTION_PATH}/templates/successtemplate.vm"]
LINKS = {
    "another-action": "/api/v2/integrations/actions/other-order/templates/{file}",
    "another-host": "https://templates.example.invalid/{file}",
    "parent-path": "../../other-order/templates/{file}",
    "empty": "",
}


@pytest.mark.parametrize("link", LINKS.values(), ids=LINKS)
def test_only_this_actions_two_template_files_are_fetched(
    emu: RunningEmulator, api: ActionsApi, link: str
) -> None:
    """The text of a template link is never followed: whatever it names (another
    action, another host), the tool fetches this action's own two .vm files, so
    the PATCH carries this action's templates and the token goes nowhere else."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=15))
    other = web_action("other-order", timeoutSeconds=15)
    other["config"]["request"]["requestTemplate"] = "another action's request"
    other["config"]["response"]["successTemplate"] = "another action's response"
    seed(emu, other)
    known = api.get(ACTION_ID)
    known["config"]["request"]["requestTemplateUri"] = link.format(
        file="requesttemplate.vm"
    )
    known["config"]["response"]["successTemplateUri"] = link.format(
        file="successtemplate.vm"
    )
    start = len(emu.state.request_log())

    set_timeout(api, ACTION_ID, 30, known=known, read_back=False)

    fetched = [entry["path"] for entry in emu.state.request_log()[start:]]
    assert [path for path in fetched if "/templates/" in path] == OWN_FILES
    after = emu.state.stored_action(ACTION_ID)
    assert after["config"] == {**before["config"], "timeoutSeconds": 30}


def test_a_linked_template_is_fetched_even_when_a_copy_is_inline(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """An answer carrying both a template link and inline text gets the template
    from its file: the fetched text is sent back, not the inline copy."""
    before = seed(emu, web_action(ACTION_ID, timeoutSeconds=15))
    known = api.get(ACTION_ID)
    known["config"]["request"]["requestTemplate"] = "an out-of-date inline copy"

    set_timeout(api, ACTION_ID, 30, known=known)

    assert REQUEST_TEMPLATE in template_reads(emu)
    after = emu.state.stored_action(ACTION_ID)
    assert after["config"]["request"] == before["config"]["request"]


def test_an_action_linking_one_template_gets_only_that_one_fetched(
    emu: RunningEmulator, api: ActionsApi
) -> None:
    """An action with a request template and no success template is shown with one
    link: that file alone is fetched and no success template appears after."""
    document = web_action(ACTION_ID, timeoutSeconds=15)
    del document["config"]["response"]["successTemplate"]
    before = seed(emu, document)

    set_timeout(api, ACTION_ID, 30)

    assert set(template_reads(emu)) == {REQUEST_TEMPLATE}
    after = emu.state.stored_action(ACTION_ID)
    assert after["config"] == {**before["config"], "timeoutSeconds": 30}
    assert "successTemplate" not in after["config"]["response"]
