"""Why a selection came out empty: the selector that emptied it, and what to try."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from action_timeouts.plan import Matcher, Selector

Actions = Sequence[Mapping[str, Any]]
LIST_HINT = "`action-timeouts list` shows them"


def explain_empty_selection(
    actions: Actions,
    selector: Selector,
    *,
    filtered: bool = False,
    list_all: Callable[[], Actions] | None = None,
    integration_names: Mapping[str, str] | None = None,
) -> str:
    """Say which selector left no action, and what would match instead.

    The criteria are applied one kind at a time, in the order people narrow a
    selection; the first one that leaves nothing is the one explained. `filtered`
    says the listing was already narrowed by the API; then, when `list_all` is
    given, the whole org is listed once to tell which criterion it was.
    `integration_names` maps integration ids to the names the selection was matched
    with; None says no names could be read, so integrations matched by id only.
    """
    if filtered and list_all is not None:
        actions = list_all()
    if not actions:
        return "the org has no actions"
    candidates: Actions = actions
    for kind, narrowed in _criteria(selector):
        matching = [
            action
            for action in candidates
            if Matcher(narrowed, integration_names).mismatch(action) is None
        ]
        if not matching:
            among = "" if candidates is actions else " among those the others take"
            if kind == "integration":
                return integration_hint(selector.integrations, integration_names)
            return _hint(kind, selector, actions, among)
        candidates = matching
    return f"no action matches these selectors; {LIST_HINT}"


def _criteria(selector: Selector) -> Iterable[tuple[str, Selector]]:
    """Yield each kind of criterion the selector sets, as a selector of its own."""
    none = Selector()
    kinds: list[tuple[str, object, Selector]] = [
        ("ids", selector.ids, replace(none, ids=selector.ids)),
        (
            "category",
            selector.categories,
            replace(none, categories=selector.categories),
        ),
        ("name", selector.name_globs, replace(none, name_globs=selector.name_globs)),
        (
            "integration",
            selector.integrations,
            replace(none, integrations=selector.integrations),
        ),
        ("secure", selector.secure is not None, replace(none, secure=selector.secure)),
        ("below", selector.below is not None, replace(none, below=selector.below)),
        ("unset", selector.only_unset, replace(none, only_unset=selector.only_unset)),
    ]
    return [(kind, narrowed) for kind, given, narrowed in kinds if given]


def _hint(kind: str, selector: Selector, actions: Actions, among: str) -> str:
    """Explain one kind of criterion that matched nothing."""
    if kind == "ids":
        return f"none of the ids {', '.join(_quoted(selector.ids))} is in the org"
    if kind == "category":
        return category_hint(selector.categories, actions)
    if kind == "name":
        return name_hint(selector.name_globs)
    return _timeout_hint(kind, selector, among)


def integration_hint(
    integrations: Sequence[str], names: Mapping[str, str] | None
) -> str:
    """Say that no action has these integrations, and how they were compared."""
    from action_timeouts.integrations import INTEGRATION_VIEW_PERMISSION

    listed = ", ".join(_quoted(integrations))
    if names is None:
        return (
            f"no action has integration id {listed} (names were not matched: that "
            f"needs the OAuth client to hold {INTEGRATION_VIEW_PERMISSION}); "
            "`action-timeouts list` shows each action's integration_id"
        )
    return (
        f"no action has integration {listed} (compared with each integration's "
        "id and name, any case); `action-timeouts list` shows each action's "
        "integration_id"
    )


def _timeout_hint(kind: str, selector: Selector, among: str) -> str:
    """Explain a secure, below or unset criterion that matched nothing."""
    if kind == "secure":
        flag = "secure" if selector.secure else "not secure"
        return f"no action{among} is {flag}"
    if kind == "below":
        return (
            f"no action{among} has a timeout below {selector.below} s (an unset "
            "timeout counts as 60 s)"
        )
    return (
        f"every action{among} has an explicit timeout (with SECONDS, --unset takes "
        "only actions that have none)"
    )


def category_hint(categories: Sequence[str], actions: Actions) -> str:
    """Say that no action is in these categories, naming near matches if any."""
    listed = ", ".join(_quoted(categories))
    near = near_categories(categories, actions)
    suggestion = f"did you mean {', '.join(_quoted(near))}?" if near else LIST_HINT
    return (
        f"no action is in category {listed} (categories are compared exactly, case "
        f"included); {suggestion}"
    )


def near_categories(categories: Sequence[str], actions: Actions) -> list[str]:
    """Return the org's categories equal to one asked for but for case."""
    wanted = {category.casefold() for category in categories}
    found = {
        str(action["category"])
        for action in actions
        if isinstance(action.get("category"), str)
        and action["category"].casefold() in wanted
    }
    return sorted(found - set(categories))


def name_hint(globs: Sequence[str]) -> str:
    """Say that no name matches, reminding that a pattern matches the whole name."""
    listed = ", ".join(_quoted(globs))
    plain = next((glob for glob in globs if not set(glob) & set("*?[")), None)
    example = f"; '{plain}*' takes names that start with it" if plain else ""
    return (
        f"no action name matches {listed} (a pattern matches the whole name, any "
        f"case{example})"
    )


def _quoted(values: Iterable[str]) -> list[str]:
    return [f"'{value}'" for value in values]
