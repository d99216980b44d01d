"""Selecting actions for a whole-org change, and the plan built from the selection."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from action_timeouts.actions import SKIP_REASONS, ActionKind
from action_timeouts.errors import UsageError
from action_timeouts.plan import (
    NOT_FOUND,
    WOULD_LOWER,
    Plan,
    PlanItem,
    Selector,
    api_filters,
    build_plan,
    drift,
    name_matches,
    read_ids_file,
    require_selection,
)
from corpus import corpus_files, needs_corpus

INTEGRATION = "11111111-1111-1111-1111-111111111111"
OTHER_INTEGRATION = "22222222-2222-2222-2222-222222222222"


def action(
    action_id: str,
    name: str = "Lookup Order",
    *,
    timeout: int | None = None,
    category: str = "Web Services",
    integration: str = INTEGRATION,
    secure: bool | None = False,
    version: int = 3,
    function: bool = False,
) -> dict[str, Any]:
    """Build an action as the list endpoint returns it with its config."""
    request = {} if function else {"requestUrlTemplate": "https://x.invalid/"}
    config: dict[str, Any] = {"request": request, "response": {}}
    if timeout is not None:
        config["timeoutSeconds"] = timeout
    document = {
        "id": action_id,
        "name": name,
        "category": category,
        "integrationId": integration,
        "version": version,
        "config": config,
    }
    if secure is not None:
        document["secure"] = secure
    return document


def ids_of(plan: Plan, status: str | None = None) -> list[str]:
    """Return the action ids of a plan's items, optionally only those in `status`."""
    return [i.action_id for i in plan.items if status is None or i.status == status]


@pytest.fixture
def org() -> list[dict[str, Any]]:
    """A small org with one action per interesting case."""
    return [
        action("std-unset", "Lookup Order"),
        action("std-10", "Lookup Customer", timeout=10),
        action("std-45", "Create Ticket", timeout=45, category="Zendesk"),
        action("secure-20", "Pay Invoice", timeout=20, secure=True),
        action("other-int", "Send SMS", timeout=5, integration=OTHER_INTEGRATION),
        action("no-secure-flag", "Legacy Lookup", timeout=15, secure=None),
        action(f"customAuth_-_{INTEGRATION}", "Custom Auth", timeout=None),
        action("static_abc", "Built-in Lookup", timeout=None),
        action("fn-1", "Run Function", timeout=20, function=True),
    ]


# Selectors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param(
            Selector(ids=("std-10", "std-45")), ["std-10", "std-45"], id="ids"
        ),
        pytest.param(
            Selector(name_globs=("lookup*",)),
            ["std-unset", "std-10"],
            id="name-glob-ignores-case",
        ),
        pytest.param(
            Selector(name_globs=("*lookup*", "Pay ?nvoice")),
            [
                "std-unset",
                "std-10",
                "secure-20",
                "no-secure-flag",
                "static_abc",
            ],
            id="name-globs-are-alternatives",
        ),
        pytest.param(Selector(name_globs=("Lookup",)), [], id="name-matches-whole"),
        pytest.param(Selector(categories=("Zendesk",)), ["std-45"], id="category"),
        pytest.param(Selector(categories=("zendesk",)), [], id="category-is-exact"),
        pytest.param(
            Selector(integrations=(OTHER_INTEGRATION,)),
            ["other-int"],
            id="integration-id",
        ),
        pytest.param(
            Selector(integrations=("sms gateway",)),
            ["other-int"],
            id="integration-name",
        ),
        pytest.param(Selector(secure=True), ["secure-20"], id="secure"),
        pytest.param(
            Selector(secure=False, categories=("Web Services",), below=30),
            ["std-10", "other-int", "no-secure-flag", "fn-1"],
            id="not-secure-includes-missing-flag",
        ),
        pytest.param(
            Selector(below=20),
            ["std-10", "other-int", "no-secure-flag"],
            id="below-is-strict",
        ),
        pytest.param(
            Selector(only_unset=True),
            ["std-unset", f"customAuth_-_{INTEGRATION}", "static_abc"],
            id="only-unset",
        ),
        pytest.param(
            Selector(categories=("Web Services",), name_globs=("*lookup*",)),
            ["std-unset", "std-10", "no-secure-flag", "static_abc"],
            id="kinds-combine-with-and",
        ),
    ],
)
def test_selector_chooses_actions(
    org: list[dict[str, Any]], selector: Selector, expected: list[str]
) -> None:
    """Each criterion selects exactly the actions it describes."""
    names = {OTHER_INTEGRATION: "SMS Gateway", INTEGRATION: "Acme REST"}

    plan = build_plan(org, selector, 30, integration_names=names)

    assert ids_of(plan) == expected


def test_all_selects_every_listed_action(org: list[dict[str, Any]]) -> None:
    """`all` takes every action, the ones that can never change included."""
    plan = build_plan(org, Selector(all=True), 30)

    assert ids_of(plan) == [item["id"] for item in org]


def test_all_still_narrows_with_other_criteria(org: list[dict[str, Any]]) -> None:
    """`all` combined with a criterion selects what the criterion selects."""
    plan = build_plan(org, Selector(all=True, secure=True), 30)

    assert ids_of(plan) == ["secure-20"]


@pytest.mark.parametrize(
    ("selector", "empty"),
    [
        pytest.param(Selector(), True, id="nothing"),
        pytest.param(Selector(all=True), False, id="all"),
        pytest.param(Selector(secure=False), False, id="secure-false"),
        pytest.param(Selector(below=30), False, id="below"),
        pytest.param(Selector(only_unset=True), False, id="only-unset"),
        pytest.param(Selector(ids=("a",)), False, id="ids"),
    ],
)
def test_is_empty(selector: Selector, empty: bool) -> None:
    """A selector is empty only with no criterion and no `all`."""
    assert selector.is_empty() is empty


def test_empty_selection_is_a_usage_error(org: list[dict[str, Any]]) -> None:
    """Planning with no selector and no `all` asks the user to choose."""
    with pytest.raises(UsageError, match=r"choose actions with --id.*--all"):
        build_plan(org, Selector(), 30)
    with pytest.raises(UsageError, match="--all"):
        require_selection(Selector())


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param({"ids": ("has space",)}, id="id-with-space"),
        pytest.param({"ids": ("bad/char",)}, id="id-with-slash"),
        pytest.param({"ids": ("",)}, id="empty-id"),
        pytest.param({"below": 0}, id="below-zero"),
        pytest.param({"below": 61}, id="below-61"),
        pytest.param({"below": True}, id="below-bool"),
        pytest.param({"below": 1.5}, id="below-fraction"),
        pytest.param({"name_globs": ("",)}, id="empty-glob"),
        pytest.param({"categories": ("",)}, id="empty-category"),
    ],
)
def test_invalid_selector_values_are_usage_errors(arguments: dict[str, Any]) -> None:
    """Selector values are checked when the selector is built."""
    with pytest.raises(UsageError):
        Selector(**arguments)


def test_summary_lists_only_the_criteria_set() -> None:
    """The selector summary is JSON-ready and leaves unset criteria out."""
    selector = Selector(name_globs=("a*",), secure=False, below=30)

    assert selector.summary() == {"names": ["a*"], "secure": False, "below": 30}
    assert json.loads(json.dumps(selector.summary())) == selector.summary()


# Ids files -------------------------------------------------------------------


def test_ids_file_skips_comments_blanks_and_repeats(tmp_path: Path) -> None:
    """Comments, blank lines and repeated ids are ignored; order is kept."""
    path = tmp_path / "ids.txt"
    path.write_text(
        "\ufeff# actions to raise\n\nabc-1\n  abc_2  # trailing note\nabc-1\n"
        f"customAuth_-_{INTEGRATION}\n",
        encoding="utf-8",
    )

    ids = read_ids_file(path)

    assert ids == ("abc-1", "abc_2", f"customAuth_-_{INTEGRATION}")


@pytest.mark.parametrize(
    "junk",
    [
        pytest.param("abc def", id="whitespace-inside"),
        pytest.param("abc;def", id="semicolon"),
        pytest.param("https://x/abc", id="url"),
        pytest.param("é-accent", id="non-ascii"),
        pytest.param("a" * 129, id="too-long"),
    ],
)
def test_ids_file_junk_names_file_and_line(tmp_path: Path, junk: str) -> None:
    """A line that is not an action id is refused with its file and line number."""
    path = tmp_path / "ids.txt"
    path.write_text(f"good-id\n# note\n{junk}\n", encoding="utf-8")

    with pytest.raises(UsageError, match=rf"{path.name}, line 3: not an action id"):
        read_ids_file(path)


def test_ids_file_without_ids_is_refused(tmp_path: Path) -> None:
    """A file holding only comments selects nothing and says so."""
    path = tmp_path / "ids.txt"
    path.write_text("# nothing yet\n\n", encoding="utf-8")

    with pytest.raises(UsageError, match="no action ids"):
        read_ids_file(path)


def test_missing_ids_file_is_a_usage_error(tmp_path: Path) -> None:
    """An unreadable ids file is a usage error naming the file."""
    with pytest.raises(UsageError, match=r"cannot read ids file .*absent\.txt"):
        read_ids_file(tmp_path / "absent.txt")


# Server-side hints -------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param(Selector(all=True), {}, id="all"),
        pytest.param(Selector(ids=("a", "b")), {"ids": "a,b"}, id="ids"),
        pytest.param(
            Selector(ids=tuple(f"id{n}" for n in range(51))), {}, id="too-many-ids"
        ),
        pytest.param(
            Selector(ids=("a",), categories=("C",), secure=True),
            {"ids": "a"},
            id="ids-alone",
        ),
        pytest.param(Selector(categories=("C",)), {"category": "C"}, id="category"),
        pytest.param(Selector(categories=("C", "D")), {}, id="two-categories"),
        pytest.param(Selector(secure=False), {"secure": "false"}, id="secure"),
        pytest.param(Selector(name_globs=("Sales*",)), {}, id="name-not-trusted"),
        pytest.param(Selector(below=30, only_unset=True), {}, id="client-only"),
    ],
)
def test_api_filters(selector: Selector, expected: dict[str, str]) -> None:
    """Only hints that can never hide a selected action are sent."""
    assert api_filters(selector) == expected


@pytest.mark.parametrize(
    ("globs", "expected"),
    [
        pytest.param(("Sales*",), {"name": "Sales"}, id="prefix"),
        pytest.param(("Get User",), {"name": "Get User"}, id="literal"),
        pytest.param(("Get ?ser*",), {"name": "Get "}, id="question-mark"),
        pytest.param(("[GS]et*",), {}, id="class-first"),
        pytest.param(("*Lookup",), {}, id="wildcard-first"),
        pytest.param(("A*", "B*"), {}, id="two-patterns"),
    ],
)
def test_trusted_name_filter_sends_literal_prefix(
    globs: tuple[str, ...], expected: dict[str, str]
) -> None:
    """With a trusted name filter, the literal start of one pattern is sent."""
    assert api_filters(Selector(name_globs=globs), trust_name_filter=True) == expected


# Verdicts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action_id", "kind"),
    [
        pytest.param(f"customAuth_-_{INTEGRATION}", ActionKind.CUSTOM_AUTH, id="auth"),
        pytest.param("static_abc", ActionKind.STATIC, id="static"),
        pytest.param("fn-1", ActionKind.FUNCTION, id="function"),
    ],
)
def test_actions_that_cannot_change_are_skipped_with_reason(
    org: list[dict[str, Any]], action_id: str, kind: ActionKind
) -> None:
    """Custom-auth, built-in and function actions appear as skips with the reason."""
    plan = build_plan(org, Selector(all=True), 30)

    item = next(item for item in plan.items if item.action_id == action_id)
    assert (item.status, item.reason) == ("skip", SKIP_REASONS[kind])


def test_unchanged_when_value_already_set(org: list[dict[str, Any]]) -> None:
    """An action already at the requested value is unchanged, not changed."""
    plan = build_plan(org, Selector(ids=("std-10", "std-45")), 10)

    assert [(i.action_id, i.status) for i in plan.items] == [
        ("std-10", "unchanged"),
        ("std-45", "change"),
    ]


def test_unset_on_unset_action_is_unchanged(org: list[dict[str, Any]]) -> None:
    """Removing a timeout that is not set changes nothing."""
    plan = build_plan(org, Selector(ids=("std-unset", "std-10")), None, unset=True)

    assert [(i.status, i.old, i.new) for i in plan.items] == [
        ("unchanged", None, None),
        ("change", 10, None),
    ]
    assert plan.mode == "unset"


def test_none_timeout_means_unset(org: list[dict[str, Any]]) -> None:
    """A timeout of None plans an unset, as `unset=True` does."""
    plan = build_plan(org, Selector(ids=("std-10",)), None)

    assert (plan.mode, plan.items[0].new, plan.items[0].status) == (
        "unset",
        None,
        "change",
    )


def test_sixty_on_unset_action_is_a_change(org: list[dict[str, Any]]) -> None:
    """Pinning 60 s on an unset action writes the document, so it is a change."""
    plan = build_plan(org, Selector(ids=("std-unset",)), 60)

    assert plan.items[0].status == "change"


def test_below_never_lowers(org: list[dict[str, Any]]) -> None:
    """With `below`, an action whose timeout is above the new value is skipped."""
    plan = build_plan(org, Selector(below=50, categories=("Web Services",)), 15)

    verdicts = {i.action_id: (i.status, i.reason) for i in plan.items}
    assert verdicts["std-10"] == ("change", None)
    assert verdicts["secure-20"] == ("skip", WOULD_LOWER)
    assert verdicts["no-secure-flag"] == ("unchanged", None)
    assert "std-unset" not in verdicts


def test_without_below_lowering_is_allowed(org: list[dict[str, Any]]) -> None:
    """Outside `below`, a lower value is planned as asked."""
    plan = build_plan(org, Selector(ids=("std-45",)), 15)

    assert (plan.items[0].status, plan.items[0].old) == ("change", 45)


def test_unset_with_below_raises_to_default(org: list[dict[str, Any]]) -> None:
    """Unsetting below N raises to the 60 s default, so nothing is 'lowered'."""
    plan = build_plan(org, Selector(below=12), None, unset=True)

    assert [(i.action_id, i.status) for i in plan.items] == [
        ("std-10", "change"),
        ("other-int", "change"),
    ]


def test_requested_ids_not_listed_are_reported(org: list[dict[str, Any]]) -> None:
    """Requested ids that were not listed become 'not found' skips, in order."""
    plan = build_plan(
        org, Selector(ids=("ghost-1", "std-10", "ghost-2")), 30, missing_ids=["gone"]
    )

    assert [(i.action_id, i.reason) for i in plan.skipped] == [
        ("ghost-1", NOT_FOUND),
        ("ghost-2", NOT_FOUND),
        ("gone", NOT_FOUND),
    ]
    assert [i.action_id for i in plan.missing] == ["ghost-1", "ghost-2", "gone"]
    assert [i.action_id for i in plan.selected] == ["std-10"]


def test_requested_id_excluded_by_other_criteria_is_reported(
    org: list[dict[str, Any]],
) -> None:
    """A listed requested id failing another criterion is a skip saying which."""
    plan = build_plan(org, Selector(ids=("std-45", "std-10"), below=30), 30)

    assert [(i.action_id, i.status, i.reason) for i in plan.items] == [
        ("std-10", "change", None),
        ("std-45", "skip", "not selected: timeout 45 s is not below 30 s"),
    ]


def test_repeated_listing_entries_are_planned_once(org: list[dict[str, Any]]) -> None:
    """An action listed twice appears once in the plan."""
    plan = build_plan([*org, org[1]], Selector(all=True), 30)

    assert ids_of(plan).count("std-10") == 1
    assert plan.found == len(org)


@pytest.mark.parametrize(
    ("timeout", "unset"),
    [
        pytest.param(0, False, id="zero"),
        pytest.param(61, False, id="sixty-one"),
        pytest.param(30, True, id="both-timeout-and-unset"),
    ],
)
def test_bad_request_is_a_usage_error(
    org: list[dict[str, Any]], timeout: int, unset: bool
) -> None:
    """An invalid timeout, or a timeout together with unset, is refused."""
    with pytest.raises(UsageError):
        build_plan(org, Selector(all=True), timeout, unset=unset)


# Plan shape ------------------------------------------------------------------


def test_plan_holds_the_request_the_counts_and_each_item(
    org: list[dict[str, Any]],
) -> None:
    """A plan keeps what was asked, how many actions were listed against the total,
    the counts by status and every item's fields."""
    plan = build_plan(org, Selector(all=True, below=50), 30, total=12)

    assert plan.selection == {"below": 50, "all": True}
    assert (plan.mode, plan.found, plan.total, plan.requested) == ("set", 9, 12, 30)
    assert plan.counts() == {
        "selected": 6,
        "change": 4,
        "unchanged": 0,
        "skip": 2,
        "not found": 0,
    }
    assert plan.items[0] == PlanItem(
        action_id="std-10",
        name="Lookup Customer",
        category="Web Services",
        integration_id=INTEGRATION,
        version=3,
        old=10,
        new=30,
        status="change",
        reason=None,
        rule=None,
    )
    assert plan.complete is False


def test_counts_name_an_absent_id_not_found_as_the_output_does(
    org: list[dict[str, Any]],
) -> None:
    """A requested id the org lacks counts as "not found", not as skipped: the
    counts use the statuses the command line prints."""
    plan = build_plan(org, Selector(ids=("std-unset", "static_abc", "nope")), 30)

    assert plan.counts() == {
        "selected": 2,
        "change": 1,
        "unchanged": 0,
        "skip": 1,
        "not found": 1,
    }


def test_drift_is_the_items_to_change(org: list[dict[str, Any]]) -> None:
    """Drift lists exactly the items a run would change."""
    plan = build_plan(org, Selector(all=True), 10)

    assert drift(plan) == plan.to_change
    assert {i.action_id for i in drift(plan)} == {
        "std-unset",
        "std-45",
        "secure-20",
        "other-int",
        "no-secure-flag",
    }


# The public corpus -------------------------------------------------------------


def corpus_org() -> list[dict[str, Any]]:
    """Load the public corpus as an org listing, giving each action an id."""
    actions = []
    for number, path in enumerate(corpus_files(), start=1):
        document = json.loads(path.read_text(encoding="utf-8"))
        document.setdefault("id", f"corpus-{number:03d}")
        document.setdefault("version", 1)
        actions.append(document)
    actions[-1]["id"] = f"customAuth_-_{INTEGRATION}"
    return actions


@needs_corpus
def test_corpus_plan_accounts_for_every_action() -> None:
    """Over the public corpus, every action gets exactly one verdict."""
    actions = corpus_org()

    plan = build_plan(actions, Selector(all=True), 30, total=len(actions))

    assert len(actions) == 87
    assert sorted(ids_of(plan)) == sorted(a["id"] for a in actions)
    assert len(plan.skipped) == 6  # five function actions and one custom-auth
    assert len(plan.unchanged) == 0
    assert plan.complete


# Properties --------------------------------------------------------------------

GLOB_TEXT = st.text(alphabet="abcXYZ -_*?", max_size=8)
NAME_TEXT = st.text(alphabet="abcABCxyzXYZ -_", max_size=10)


@given(glob=GLOB_TEXT, name=NAME_TEXT)
def test_name_matching_agrees_with_fnmatch(glob: str, name: str) -> None:
    """Name matching equals fnmatch on case-folded text."""
    expected = fnmatch.fnmatchcase(name.lower(), glob.lower())

    assert name_matches(glob, name) is expected


@given(glob=GLOB_TEXT, name=NAME_TEXT)
def test_name_matching_ignores_case(glob: str, name: str) -> None:
    """Changing the case of a name never changes whether it matches."""
    assert name_matches(glob, name) is name_matches(glob, name.swapcase())


@st.composite
def org_actions(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Draw an org listing: standard, custom-auth, static and function actions."""
    count = draw(st.integers(min_value=0, max_value=12))
    actions = []
    for number in range(count):
        prefix = draw(st.sampled_from(["", "", "static_", "customAuth_-_"]))
        actions.append(
            action(
                f"{prefix}a{number}",
                draw(st.sampled_from(["Get User", "get order", "Post Note"])),
                timeout=draw(st.none() | st.integers(min_value=1, max_value=60)),
                category=draw(st.sampled_from(["A", "B"])),
                secure=draw(st.none() | st.booleans()),
                function=draw(st.booleans()),
            )
        )
    return actions


SELECTORS = st.builds(
    Selector,
    ids=st.lists(st.sampled_from(["a0", "a1", "a3", "zz"]), max_size=3).map(tuple),
    name_globs=st.lists(st.sampled_from(["get*", "*note", "?et user"])).map(tuple),
    categories=st.lists(st.sampled_from(["A", "B"]), max_size=1).map(tuple),
    secure=st.none() | st.booleans(),
    below=st.none() | st.integers(min_value=1, max_value=60),
    only_unset=st.booleans(),
    all=st.just(True),
)


def reference_selects(document: Mapping[str, Any], selector: Selector) -> bool:
    """Say whether a selector takes an action, written out plainly as a model."""
    explicit = document["config"].get("timeoutSeconds")
    effective = 60 if explicit is None else explicit
    name = document["name"].lower()
    return (
        (not selector.ids or document["id"] in selector.ids)
        and (
            not selector.name_globs
            or any(fnmatch.fnmatchcase(name, g.lower()) for g in selector.name_globs)
        )
        and (not selector.categories or document["category"] in selector.categories)
        and (
            selector.secure is None
            or (document.get("secure") is True) == selector.secure
        )
        and (selector.below is None or effective < selector.below)
        and (not selector.only_unset or explicit is None)
    )


@settings(max_examples=200, deadline=None)
@given(actions=org_actions(), selector=SELECTORS)
def test_plan_takes_exactly_the_selected_actions(
    actions: list[dict[str, Any]], selector: Selector
) -> None:
    """Every action the selection describes is in the plan, once; no other is."""
    plan = build_plan(actions, selector, 30)

    chosen = [
        i.action_id
        for i in plan.items
        if i.reason != NOT_FOUND and not str(i.reason).startswith("not selected")
    ]
    assert chosen == [a["id"] for a in actions if reference_selects(a, selector)]


@settings(max_examples=200, deadline=None)
@given(
    actions=org_actions(),
    selector=SELECTORS,
    timeout=st.none() | st.integers(min_value=1, max_value=60),
)
def test_plan_invariants(
    actions: list[dict[str, Any]], selector: Selector, timeout: int | None
) -> None:
    """Each selected action appears once; nothing unselected or lowered sneaks in."""
    plan = build_plan(actions, selector, timeout)

    by_id: Mapping[str, dict[str, Any]] = {a["id"]: a for a in actions}
    planned = ids_of(plan)
    assert len(planned) == len(set(planned))
    assert set(planned) <= set(by_id) | set(selector.ids)
    assert len(plan.to_change) + len(plan.unchanged) + len(plan.skipped) == len(
        plan.items
    )
    for item in plan.to_change:
        assert item.old != item.new
        if selector.below is not None:
            effective = 60 if item.old is None else item.old
            assert effective < selector.below
            assert (60 if item.new is None else item.new) >= effective


def test_importing_plan_and_policy_leaves_sqlite_out() -> None:
    """The pure modules never import sqlite3, so --help stays light."""
    code = (
        "import sys, action_timeouts.plan, action_timeouts.policy; "
        "print('sqlite3' in sys.modules)"
    )

    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert output.stdout.strip() == "False"
