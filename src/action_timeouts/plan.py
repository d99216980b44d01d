"""Choosing actions for a whole-org change, and planning what each one gets.

Everything here is pure: functions over action documents as the list endpoint
returns them with `includeConfig=true`. Nothing is read from or sent to the API.

Selection rules, shared by command-line selectors and policy rules:

- Criteria of different kinds must all hold; values of one kind are alternatives
  (`--category A --category B` takes actions in A or B).
- Names match shell-style patterns (`*`, `?`, `[...]`) against the whole name,
  ignoring case. Categories match exactly, case included. Integrations match by
  id, or by name when the caller supplies an id-to-name mapping, both compared
  as `integrations.name_key` writes them (NFC, stripped, any case).
- `below=N` takes actions whose effective timeout (unset counts as 60 s) is under
  N, and never lowers one: an action already above the new value is skipped.
- Setting 60 on an unset action, or unsetting an explicit 60, is a change: the
  effective timeout stays but the document does not.
- An action whose stored timeout is not a whole number from 1 to 60 (`"30"`,
  `5.0`, `0`) passes `below` and `unset` untested and is planned as skipped, the
  reason quoting the value: it is neither set nor unset, so it is never changed.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from action_timeouts.actions import (
    PLATFORM_DEFAULT_TIMEOUT,
    SKIP_REASONS,
    TIMEOUT_MAX,
    TIMEOUT_MIN,
    ActionKind,
    action_kind,
    current_timeout,
    effective_timeout,
    invalid_timeout,
    is_whole_seconds,
    quoted,
    stored_timeout,
    validate_timeout,
)
from action_timeouts.errors import UsageError
from action_timeouts.integrations import name_key

__all__ = [
    "ACTION_ID_PATTERN",
    "NOT_FOUND",
    "SELECTOR_OPTIONS",
    "WOULD_LOWER",
    "Matcher",
    "Plan",
    "PlanItem",
    "Selector",
    "Status",
    "api_filters",
    "build_plan",
    "decide",
    "drift",
    "has_invalid_old",
    "is_whole_seconds",
    "missing_items",
    "name_matches",
    "read_ids_file",
    "read_text_file",
    "require_selection",
    "unique_actions",
    "validate_action_id",
]

logger = logging.getLogger(__name__)

Status = Literal["change", "unchanged", "skip"]
ACTION_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_FILTER_IDS = 50
NOT_FOUND = "not found"
WOULD_LOWER = "would lower"
SELECTOR_OPTIONS = (
    "--id, --ids-file, --name, --category, --integration, --secure/--no-secure, "
    "--below or --unset"
)
GLOB_CHARACTERS = "*?["


def validate_action_id(value: str) -> str:
    """Return `value` when it looks like an action id, or raise UsageError."""
    if not isinstance(value, str) or not ACTION_ID_PATTERN.fullmatch(value):
        message = (
            f"not an action id: {quoted(value)} (ids use letters, digits, '-' and '_', "
            "up to 128 characters)"
        )
        raise UsageError(message)
    return value


def _validate_below(value: object) -> None:
    """Raise UsageError unless `value` is a whole number of seconds from 1 to 60."""
    if not is_whole_seconds(value):
        message = (
            f"invalid 'below' value {value!r}: give a whole number of seconds from "
            f"{TIMEOUT_MIN} to {TIMEOUT_MAX}"
        )
        raise UsageError(message)


@dataclass(frozen=True)
class Selector:
    """Which actions a change applies to; see the module docstring for the rules."""

    ids: tuple[str, ...] = ()
    name_globs: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()
    secure: bool | None = None
    below: int | None = None
    only_unset: bool = False
    all: bool = False

    def __post_init__(self) -> None:
        for action_id in self.ids:
            validate_action_id(action_id)
        if self.below is not None:
            _validate_below(self.below)
        for values, what in self._value_lists():
            if any(not isinstance(value, str) or not value for value in values):
                shown = ", ".join(repr(value) for value in values)
                message = f"empty or non-text {what} in the selection: {shown}"
                raise UsageError(message)

    def _value_lists(self) -> tuple[tuple[tuple[str, ...], str], ...]:
        return (
            (self.name_globs, "name pattern"),
            (self.categories, "category"),
            (self.integrations, "integration"),
        )

    def has_criteria(self) -> bool:
        """Tell whether any criterion narrows the selection."""
        listed = self.ids or self.name_globs or self.categories or self.integrations
        narrowed = self.secure is not None or self.below is not None
        return bool(listed) or narrowed or self.only_unset

    def is_empty(self) -> bool:
        """Tell whether nothing was chosen: no criterion and no `all`."""
        return not self.all and not self.has_criteria()

    def summary(self) -> dict[str, Any]:
        """Return the criteria that are set, as JSON-ready values."""
        values: dict[str, Any] = {
            "ids": list(self.ids),
            "names": list(self.name_globs),
            "categories": list(self.categories),
            "integrations": list(self.integrations),
            "secure": self.secure,
            "below": self.below,
            "only_unset": self.only_unset or None,
            "all": self.all or None,
        }
        return {key: value for key, value in values.items() if value not in (None, [])}


def require_selection(selector: Selector) -> None:
    """Raise UsageError when the selector chooses nothing explicitly."""
    if selector.is_empty():
        message = f"choose actions with {SELECTOR_OPTIONS}, or --all for every action"
        raise UsageError(message)


def name_matches(glob: str, name: str) -> bool:
    """Tell whether a whole action name matches a shell-style pattern, ignoring case."""
    return _compile_glob(glob).match(name) is not None


def _compile_glob(glob: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(glob), re.IGNORECASE)


def read_ids_file(path: str | Path) -> tuple[str, ...]:
    """Read action ids, one a line; `#` starts a comment and blank lines are skipped."""
    text = read_text_file(path, what="ids file")
    ids: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        try:
            ids[validate_action_id(value)] = None
        except UsageError as error:
            raise UsageError(f"{path}, line {number}: {error}") from None
    if not ids:
        raise UsageError(f"{path}: no action ids in the file")
    return tuple(ids)


def read_text_file(path: str | Path, *, what: str) -> str:
    """Read a UTF-8 text file, turning any failure into a UsageError."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        message = f"cannot read {what} {path}: {error}"
        raise UsageError(message) from None


def api_filters(
    selector: Selector, *, trust_name_filter: bool = False
) -> dict[str, str]:
    """Return list-endpoint query parameters that narrow the listing safely.

    Every criterion is applied again on the client, so a hint may only ever return
    more actions than selected, never fewer. With explicit ids only `ids` is sent
    (at most 50), so a requested id missing from the listing really is absent.
    The `name` filter matches part of a name and whether it ignores case is not
    documented, so the literal start of a single pattern is sent only with
    `trust_name_filter=True`.
    """
    if selector.ids:
        if len(selector.ids) <= MAX_FILTER_IDS:
            return {"ids": ",".join(selector.ids)}
        return {}
    filters: dict[str, str] = {}
    if len(selector.categories) == 1:
        filters["category"] = selector.categories[0]
    if selector.secure is not None:
        filters["secure"] = "true" if selector.secure else "false"
    prefix = _literal_prefix(selector.name_globs)
    if trust_name_filter and prefix:
        filters["name"] = prefix
    return filters


def _literal_prefix(globs: Sequence[str]) -> str:
    """Return the text before the first wildcard of a single pattern, else ''."""
    if len(globs) != 1:
        return ""
    glob = globs[0]
    cut = min((glob.find(char) for char in GLOB_CHARACTERS if char in glob), default=-1)
    return glob if cut < 0 else glob[:cut]


class Matcher:
    """A selector prepared for testing many actions."""

    def __init__(
        self, selector: Selector, integration_names: Mapping[str, str] | None
    ) -> None:
        self.selector = selector
        self.ids = frozenset(selector.ids)
        self.globs = tuple(_compile_glob(glob) for glob in selector.name_globs)
        self.categories = frozenset(selector.categories)
        self.integrations = frozenset(name_key(item) for item in selector.integrations)
        self.integration_names = dict(integration_names or {})

    def mismatch(self, action: Mapping[str, Any]) -> str | None:
        """Say which criterion the action fails, or None when it is selected."""
        checks = (self._id, self._name, self._category, self._integration)
        for check in (*checks, self._secure, self._timeout):
            reason = check(action)
            if reason is not None:
                return reason
        return None

    def _id(self, action: Mapping[str, Any]) -> str | None:
        if not self.ids or str(action.get("id")) in self.ids:
            return None
        return "not one of the requested ids"

    def _name(self, action: Mapping[str, Any]) -> str | None:
        name = str(action.get("name") or "")
        if not self.globs or any(glob.match(name) for glob in self.globs):
            return None
        return "name does not match"

    def _category(self, action: Mapping[str, Any]) -> str | None:
        if not self.categories or action.get("category") in self.categories:
            return None
        return "category does not match"

    def _integration(self, action: Mapping[str, Any]) -> str | None:
        integration_id = str(action.get("integrationId") or "")
        name = self.integration_names.get(integration_id, "")
        candidates = {name_key(integration_id), name_key(name)} - {""}
        if not self.integrations or candidates & self.integrations:
            return None
        return "integration does not match"

    def _secure(self, action: Mapping[str, Any]) -> str | None:
        wanted = self.selector.secure
        if wanted is None or (action.get("secure") is True) == wanted:
            return None
        return "secure flag does not match"

    def _timeout(self, action: Mapping[str, Any]) -> str | None:
        if invalid_timeout(action) is not None:
            return None  # `decide` skips it, saying why
        below, effective = self.selector.below, effective_timeout(action)
        if below is not None and effective >= below:
            return f"timeout {effective} s is not below {below} s"
        if self.selector.only_unset and current_timeout(action) is not None:
            return f"timeout is set ({current_timeout(action)} s)"
        return None


@dataclass
class PlanItem:
    """One action in a plan: its timeout now, the one requested, and the verdict.

    `old` is the timeout as stored: whole seconds, or None when unset; a skipped
    item may hold the invalid value the server sent (see `timeouts.invalid_timeout`).
    `new` is the requested timeout (None: unset) whatever the status; for a skipped
    item it is what would have been applied. `rule` names the policy rule that chose
    the action ("rule 2", "default"), or is None outside policies.
    """

    action_id: str
    name: str
    category: str | None
    integration_id: str | None
    version: int | None
    old: object
    new: int | None
    status: Status
    reason: str | None = None
    rule: str | None = None


@dataclass
class Plan:
    """What a whole-org change would do to each selected action.

    `found` counts the actions listed and `total` is the count the API announced
    (None when it gave none); `mode` is "set", "unset" or "policy".
    """

    items: list[PlanItem]
    found: int
    total: int | None
    requested: int | None
    mode: Literal["set", "unset", "policy"] = "set"
    selection: dict[str, Any] = field(default_factory=dict)

    @property
    def selected(self) -> list[PlanItem]:
        """Return every listed action the selection took, skipped ones included."""
        return [item for item in self.items if item.reason != NOT_FOUND]

    @property
    def to_change(self) -> list[PlanItem]:
        """Return the items a run would PATCH."""
        return self._with_status("change")

    @property
    def unchanged(self) -> list[PlanItem]:
        """Return the items that already have the requested timeout."""
        return self._with_status("unchanged")

    @property
    def skipped(self) -> list[PlanItem]:
        """Return the items left alone, requested ids that were not found included."""
        return self._with_status("skip")

    @property
    def missing(self) -> list[PlanItem]:
        """Return the requested ids that the listing did not contain."""
        return [item for item in self.items if item.reason == NOT_FOUND]

    @property
    def complete(self) -> bool:
        """Tell whether the listing held as many actions as the API announced."""
        return self.total is None or self.found >= self.total

    def _with_status(self, status: Status) -> list[PlanItem]:
        return [item for item in self.items if item.status == status]

    def counts(self) -> dict[str, int]:
        """Count the items by status, as the command line's output names them.

        A requested id the org lacks counts as "not found", not as "skip".
        """
        missing = len(self.missing)
        return {
            "selected": len(self.selected),
            "change": len(self.to_change),
            "unchanged": len(self.unchanged),
            "skip": len(self.skipped) - missing,
            NOT_FOUND: missing,
        }


def build_plan(
    actions: Iterable[Mapping[str, Any]],
    selector: Selector,
    new_timeout: int | None,
    *,
    unset: bool = False,
    total: int | None = None,
    missing_ids: Iterable[str] = (),
    integration_names: Mapping[str, str] | None = None,
) -> Plan:
    """Plan setting one timeout on the selected actions (None or `unset`: remove it).

    Requested ids that are absent from `actions`, or named in `missing_ids` (for
    instance a direct read answered 404), become "skip" items with reason
    "not found". A requested id that is listed but fails another criterion is a
    "skip" item too, saying which criterion, so no requested id disappears silently.
    """
    target = _requested_target(new_timeout, unset=unset)
    require_selection(selector)
    listed = unique_actions(actions)
    matcher = Matcher(selector, integration_names)
    items = [
        item
        for action in listed
        if (item := _selected_item(action, matcher, target)) is not None
    ]
    absent = [*selector.ids, *missing_ids]
    items.extend(missing_items(absent, listed, target, rule=None))
    mode: Literal["set", "unset"] = "unset" if target is None else "set"
    plan = Plan(items, len(listed), total, target, mode, selector.summary())
    counts = ", ".join(f"{count} {word}" for word, count in plan.counts().items())
    logger.info("planned over %d listed actions: %s", len(listed), counts)
    return plan


def _requested_target(new_timeout: int | None, *, unset: bool) -> int | None:
    """Return the checked target timeout, None for unset."""
    if unset and new_timeout is not None:
        raise UsageError("give either a timeout or unset, not both")
    return None if new_timeout is None else validate_timeout(new_timeout)


def unique_actions(actions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Keep the first action of each id, logging any repeat."""
    seen: dict[str, Mapping[str, Any]] = {}
    for action in actions:
        action_id = str(action.get("id"))
        if action_id in seen:
            logger.warning("action %s was listed twice; using the first", action_id)
            continue
        seen[action_id] = action
    return list(seen.values())


def _selected_item(
    action: Mapping[str, Any], matcher: Matcher, target: int | None
) -> PlanItem | None:
    """Plan one listed action, or return None when the selector does not take it."""
    reason = matcher.mismatch(action)
    if reason is None:
        return decide(action, target, matcher.selector.below, rule=None)
    if str(action.get("id")) in matcher.ids:
        return _item(action, target, "skip", f"not selected: {reason}", rule=None)
    return None


def decide(
    action: Mapping[str, Any], target: int | None, below: int | None, rule: str | None
) -> PlanItem:
    """Give a selected action its verdict: skip, unchanged or change."""
    kind = action_kind(action)
    if kind is not ActionKind.STANDARD:
        return _item(action, target, "skip", SKIP_REASONS[kind], rule)
    problem = invalid_timeout(action)
    if problem is not None:
        return _item(action, target, "skip", problem, rule)
    target_effective = PLATFORM_DEFAULT_TIMEOUT if target is None else target
    if below is not None and target_effective < effective_timeout(action):
        return _item(action, target, "skip", WOULD_LOWER, rule)
    if current_timeout(action) == target:
        return _item(action, target, "unchanged", None, rule)
    return _item(action, target, "change", None, rule)


def _item(
    action: Mapping[str, Any],
    target: int | None,
    status: Status,
    reason: str | None,
    rule: str | None,
) -> PlanItem:
    """Build a plan item from an action document."""
    version = action.get("version")
    return PlanItem(
        action_id=str(action.get("id")),
        name=str(action.get("name") or ""),
        category=_text_or_none(action.get("category")),
        integration_id=_text_or_none(action.get("integrationId")),
        version=version if isinstance(version, int) else None,
        old=stored_timeout(action),
        new=target,
        status=status,
        reason=reason,
        rule=rule,
    )


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def missing_items(
    requested: Iterable[str],
    listed: Sequence[Mapping[str, Any]],
    target: int | None,
    rule: str | None,
) -> list[PlanItem]:
    """Return a "not found" item for each requested id absent from the listing."""
    present = {str(action.get("id")) for action in listed}
    absent = dict.fromkeys(
        action_id for action_id in requested if action_id not in present
    )
    return [
        PlanItem(action_id, "", None, None, None, None, target, "skip", NOT_FOUND, rule)
        for action_id in absent
    ]


def drift(plan: Plan) -> list[PlanItem]:
    """Return the items whose timeout differs from what the plan asks for.

    An item skipped because its stored timeout is invalid differs too: whatever
    its value means, it is not the timeout asked for, and it is never changed.
    An action that takes no timeout at all (custom auth, built-in) never differs.
    """
    kinds = set(SKIP_REASONS.values())
    return [
        item
        for item in plan.items
        if item.status == "change"
        or (
            item.status == "skip" and item.reason not in kinds and has_invalid_old(item)
        )
    ]


def has_invalid_old(item: PlanItem) -> bool:
    """Tell whether an item holds a stored timeout that is neither unset nor valid."""
    return item.old is not None and not is_whole_seconds(item.old)
