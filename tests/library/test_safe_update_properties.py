"""Property: whatever an action holds, a timeout change moves only the timeout.

Generated actions carry fields the API does not define at every level, text from
all of Unicode (astral characters, right-to-left marks, control characters but
NUL), templates that look like JSON or Velocity, CRLF line ends, empty and
500-entry maps, with and without a timeout and templates. Each is stored in the
emulator, changed through the real client, and compared with what was stored.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from action_timeouts.actions import ActionsApi, current_timeout, set_timeout
from action_timeouts.emulator.server import RunningEmulator
from action_timeouts.http import ApiClient

from .emulated import unexpected_changes

SPECIAL_TEXT = [
    "",
    "\r\n",
    "שלום עולם",
    "\u202eevil\u202c",
    "مرحبا \u200eleft\u200f",
    "😀𝄞🇫🇷",
    "\x01\x1f\x7f\u0085\u2028",
    "${input.rawRequest}",
    '"quoted" \\ back\\slash',
]
TEXT = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=30,
    ),
)
# The platform takes names and categories of 1-256 characters, not all blank.
NAMES = TEXT.filter(lambda text: bool(text.strip()) and len(text) <= 256)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4)
    ),
    max_leaves=12,
)
# Unknown fields must not be null at the top of `config`: a replacing PATCH drops
# such keys, which test_actions covers as a verification failure.
PRESENT_JSON = JSON.filter(lambda value: value is not None)

TOP_KNOWN = {"id", "name", "category", "integrationId", "version", "secure"}
TOP_KNOWN |= {"contract", "config", "selfUri", "integrationType"}
CONFIG_KNOWN = {"timeoutSeconds", "request", "response"}
REQUEST_KNOWN = {"requestUrlTemplate", "requestTemplate", "requestTemplateUri"}
RESPONSE_KNOWN = {"successTemplate", "successTemplateUri"}


def extras(known: set[str], values: st.SearchStrategy[Any]) -> Any:
    """Generate fields the API does not define, avoiding the names it does."""
    keys = TEXT.filter(lambda key: key not in known)
    return st.dictionaries(keys, values, max_size=3)


def json_template(value: Any, indent: int | None, crlf: bool) -> str:
    """Render a JSON-looking template, optionally with CRLF line ends."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return text.replace("\n", "\r\n") if crlf else text


def velocity_template(variable: str, literal: str) -> str:
    """Render a Velocity template with directives, references and escapes."""
    quoted = json.dumps(literal, ensure_ascii=False)
    return (
        f'#set($v = "${{input.{variable}}}")\r\n'
        f'#if($v)\n{{"value": "$esc.jsonString($v)", "lit": {quoted}}}\n'
        "#else\n{}\n#end"
    )


TEMPLATES = st.one_of(
    TEXT,
    st.builds(json_template, JSON, st.sampled_from([None, 2]), st.booleans()),
    st.builds(
        velocity_template, st.from_regex(r"[a-z][A-Za-z0-9]{0,8}", fullmatch=True), TEXT
    ),
)


def string_map(prefix: str, size: int) -> dict[str, str]:
    """Build a translation map of `size` entries (0, a few, or 500)."""
    return {f"{prefix}{n}": f"$.items[{n}].{prefix}" for n in range(size)}


MAPS = st.builds(string_map, TEXT, st.sampled_from([0, 1, 3, 500]))


@st.composite
def sections(draw: st.DrawFn, *, function: bool) -> dict[str, Any]:
    """Generate the request and response sections of a config."""
    request: dict[str, Any] = {"requestType": draw(st.sampled_from(["GET", "POST"]))}
    if not function:
        request["requestUrlTemplate"] = "https://x.invalid/" + draw(TEXT)
    request["headers"] = draw(st.dictionaries(TEXT, TEXT, max_size=3))
    response: dict[str, Any] = {"translationMap": draw(MAPS)}
    response["translationMapDefaults"] = draw(MAPS)
    if draw(st.booleans()):
        request["requestTemplate"] = draw(TEMPLATES)
    if draw(st.booleans()):
        response["successTemplate"] = draw(TEMPLATES)
    request.update(draw(extras(REQUEST_KNOWN | set(request), JSON)))
    response.update(draw(extras(RESPONSE_KNOWN | set(response), JSON)))
    return {"request": request, "response": response}


@st.composite
def actions(draw: st.DrawFn) -> dict[str, Any]:
    """Generate an action document as an export or another tool might hold it."""
    function = draw(st.booleans())
    config: dict[str, Any] = draw(sections(function=function))
    timeout = draw(st.one_of(st.none(), st.integers(1, 60), st.just("absent")))
    if timeout != "absent":
        config["timeoutSeconds"] = timeout
    config.update(draw(extras(CONFIG_KNOWN, PRESENT_JSON)))
    document: dict[str, Any] = {
        "name": draw(NAMES),
        "category": draw(NAMES),
        "integrationId": draw(TEXT),
        "secure": draw(st.booleans()),
        "contract": {"input": {"inputSchema": draw(JSON)}},
        "config": config,
    }
    if function:
        document["integrationType"] = "function-data-actions"
    document.update(draw(extras(TOP_KNOWN, JSON)))
    return document


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(document=actions(), seconds=st.one_of(st.none(), st.integers(1, 60)))
def test_a_timeout_change_moves_nothing_else(
    emulator: RunningEmulator,
    session_client: ApiClient,
    document: dict[str, Any],
    seconds: int | None,
) -> None:
    """After set_timeout the stored action is the original but timeout and version."""
    emulator.state.reset()
    # The fields the API does not define include keys inside config.
    emulator.state.set_options(unknown_config_keys="keep")
    (action_id,) = emulator.state.load_actions([document])
    before = emulator.state.stored_action(action_id)

    result = set_timeout(ActionsApi(session_client), action_id, seconds)

    after = emulator.state.stored_action(action_id)
    assert unexpected_changes(before, after) == []
    assert current_timeout(after) == seconds
    if seconds is None and current_timeout(before) is not None:
        assert "timeoutSeconds" not in after["config"]
    moved = current_timeout(before) != seconds
    assert result.outcome == ("changed" if moved else "unchanged")
    assert after["version"] == before["version"] + moved
