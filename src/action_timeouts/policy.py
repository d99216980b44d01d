"""Timeout policy as code: ordered TOML rules, and the plan they imply for an org.

A policy file holds `[[rule]]` tables, tried in order; the first rule that selects
an action gives it its timeout. A top-level `default` applies to every action no
rule selects; without it such actions are left alone.

    default = 30                      # optional: seconds, or "unset"

    [[rule]]
    name = ["Salesforce*", "SF *"]    # a string or a list of strings
    category = "Web Services Data Actions"
    integration = "Acme REST"         # integration id or name (any case)
    secure = true
    ids = ["..."]
    below = 45                        # only actions whose effective timeout < 45 s
    unset = true                      # only actions with no explicit timeout
    timeout = 45                      # required: seconds 1-60, or "unset"

Selector keys follow the rules of `action_timeouts.plan`. A rule that can never
win, because an earlier rule surely selects every action it selects, is refused.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from action_timeouts.actions import TIMEOUT_MAX, TIMEOUT_MIN
from action_timeouts.errors import UsageError
from action_timeouts.integrations import name_key
from action_timeouts.plan import (
    Matcher,
    Plan,
    PlanItem,
    Selector,
    decide,
    is_whole_seconds,
    missing_items,
    read_text_file,
    unique_actions,
)

__all__ = [
    "Policy",
    "Rule",
    "load_policy",
    "parse_policy",
    "plan_for_policy",
]

logger = logging.getLogger(__name__)

TOP_LEVEL_KEYS = ("default", "rule")
SELECTOR_KEYS = ("name", "category", "integration", "secure", "ids", "below", "unset")
RULE_KEYS = (*SELECTOR_KEYS, "timeout")
UNSET_WORD = "unset"
TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


@dataclass(frozen=True)
class Rule:
    """One policy rule: the actions it selects and the timeout they get."""

    number: int
    selector: Selector
    timeout: int | None  # None: unset

    @property
    def label(self) -> str:
        """Name the rule as plan items and messages do: 'rule 2'."""
        return f"rule {self.number}"


@dataclass(frozen=True)
class Policy:
    """Ordered timeout rules where the first matching rule wins.

    Actions no rule selects get `default` when `has_default` is true (a default of
    None means unset), and are left out of the plan otherwise.
    """

    rules: tuple[Rule, ...]
    default: int | None = None
    has_default: bool = False
    source: str = "<policy>"

    def summary(self) -> dict[str, Any]:
        """Return the policy as JSON-ready values for plans and the journal."""
        rules = [
            {"rule": rule.number, "timeout": rule.timeout, **rule.selector.summary()}
            for rule in self.rules
        ]
        default = {"default": self.default} if self.has_default else {}
        return {"policy": self.source, "rules": rules, **default}


def load_policy(path: str | Path) -> Policy:
    """Read and check a TOML policy file; every problem is a UsageError naming it."""
    return parse_policy(read_text_file(path, what="policy file"), source=str(path))


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Parse and check policy TOML text; `source` names it in error messages."""
    document = _parse_toml(text, source)
    _check_keys(document, TOP_LEVEL_KEYS, f"{source}: unknown top-level key")
    rules = tuple(
        _parse_rule(table, number, source)
        for number, table in enumerate(_rule_tables(document, source), start=1)
    )
    has_default = "default" in document
    if not rules and not has_default:
        raise UsageError(f"{source}: the policy has no [[rule]] and no default")
    default = _policy_timeout(document.get("default"), f"{source}: default")
    _check_shadowing(rules, source)
    return Policy(rules, default, has_default, source)


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML, reporting a syntax error with the file and line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        detail = str(error)
        position = TOML_POSITION.search(detail)
        if position is None:
            raise UsageError(f"{source}: invalid TOML: {detail}") from None
        line, column = position.groups()
        message = f"{source}, line {line}, column {column}: invalid TOML: "
        raise UsageError(message + detail[: position.start()]) from None


def _check_keys(table: Mapping[str, Any], allowed: Sequence[str], prefix: str) -> None:
    """Raise UsageError naming the first key of `table` that is not allowed."""
    for key in table:
        if key not in allowed:
            expected = ", ".join(allowed)
            raise UsageError(f"{prefix} {key!r} (expected one of: {expected})")


def _rule_tables(document: Mapping[str, Any], source: str) -> list[dict[str, Any]]:
    """Return the [[rule]] tables, checking that they are tables."""
    tables = document.get("rule", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        message = f"{source}: 'rule' must be written as [[rule]] tables"
        raise UsageError(message)
    return tables


def _parse_rule(table: Mapping[str, Any], number: int, source: str) -> Rule:
    """Check one [[rule]] table and build its Rule."""
    where = f"{source}: rule {number}"
    _check_keys(table, RULE_KEYS, f"{where}: unknown key")
    if "timeout" not in table:
        raise UsageError(f'{where}: missing timeout (seconds 1-60, or "unset")')
    try:
        selector = _rule_selector(table)
    except UsageError as error:
        raise UsageError(f"{where}: {error}") from None
    if not selector.has_criteria():
        message = (
            f"{where}: no selector ({', '.join(SELECTOR_KEYS)}); use the top-level "
            "default for every action no rule selects"
        )
        raise UsageError(message)
    return Rule(number, selector, _policy_timeout(table["timeout"], where))


def _rule_selector(table: Mapping[str, Any]) -> Selector:
    """Build the selector of one rule from its keys."""
    return Selector(
        ids=_strings(table, "ids"),
        name_globs=_strings(table, "name"),
        categories=_strings(table, "category"),
        integrations=_strings(table, "integration"),
        secure=_flag(table, "secure"),
        below=table.get("below"),
        only_unset=_flag(table, "unset") is True,
    )


def _strings(table: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """Read a key holding a string or a list of strings."""
    value = table.get(key, [])
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise UsageError(f"'{key}' must be a string or a list of strings")
    return tuple(values)


def _flag(table: Mapping[str, Any], key: str) -> bool | None:
    """Read an optional true/false key."""
    value = table.get(key)
    if value is not None and not isinstance(value, bool):
        raise UsageError(f"'{key}' must be true or false, not {value!r}")
    return value


def _policy_timeout(value: object, where: str) -> int | None:
    """Read a policy timeout: whole seconds 1-60, or "unset" (returned as None)."""
    if value is None or value == UNSET_WORD:
        return None
    if is_whole_seconds(value):
        return value
    if isinstance(value, bool):
        message = (
            f"{where}: {str(value).lower()} is a boolean, not a timeout: give whole "
            f'seconds from {TIMEOUT_MIN} to {TIMEOUT_MAX}, or "unset"'
        )
        raise UsageError(message)
    message = (
        f"{where}: invalid timeout {value!r}: give whole seconds from "
        f'{TIMEOUT_MIN} to {TIMEOUT_MAX}, or "unset"'
    )
    raise UsageError(message)


def _check_shadowing(rules: Sequence[Rule], source: str) -> None:
    """Refuse a rule that can never win because an earlier rule takes all it selects."""
    for index, later in enumerate(rules):
        for earlier in rules[:index]:
            if _covers(earlier.selector, later.selector):
                message = (
                    f"{source}: {later.label} is shadowed by {earlier.label} "
                    f"({earlier.label} takes every action {later.label} selects)"
                )
                raise UsageError(message)


def _covers(wide: Selector, narrow: Selector) -> bool:
    """Tell whether `wide` surely selects every action `narrow` selects.

    Conservative: it compares the listed values, so a pattern that happens to
    include another (`Sales*` and `Sales Lookup`) is not reported.
    """
    narrow_below = TIMEOUT_MAX + 1 if narrow.below is None else narrow.below
    return (
        _values_cover(wide.ids, narrow.ids, key=str)
        and _values_cover(wide.name_globs, narrow.name_globs, key=str.casefold)
        and _values_cover(wide.categories, narrow.categories, key=str)
        and _values_cover(wide.integrations, narrow.integrations, key=name_key)
        and wide.secure in (None, narrow.secure)
        and (wide.below is None or narrow_below <= wide.below)
        and (not wide.only_unset or narrow.only_unset)
    )


def _values_cover(
    wide: Sequence[str], narrow: Sequence[str], *, key: Callable[[str], str]
) -> bool:
    """Tell whether alternatives `wide` accept everything alternatives `narrow` do.

    Values are compared as `key` writes them, as the selection compares them.
    """
    if not wide:
        return True
    wide_set = {key(value) for value in wide}
    narrow_set = {key(value) for value in narrow}
    return bool(narrow_set) and narrow_set <= wide_set


def plan_for_policy(
    actions: Iterable[Mapping[str, Any]],
    policy: Policy,
    *,
    total: int | None = None,
    integration_names: Mapping[str, str] | None = None,
) -> Plan:
    """Plan giving each action the timeout of the first policy rule that selects it.

    Ids a rule names that are absent from `actions` become "skip" items with
    reason "not found", labelled with the first rule naming them.
    """
    listed = unique_actions(actions)
    matchers = [
        (rule, Matcher(rule.selector, integration_names)) for rule in policy.rules
    ]
    items = [
        item
        for action in listed
        if (item := _policy_item(action, matchers, policy)) is not None
    ]
    for rule in policy.rules:
        items.extend(missing_items(rule.selector.ids, listed, rule.timeout, rule.label))
    plan = Plan(_first_per_id(items), len(listed), total, None, "policy")
    plan.selection = policy.summary()
    logger.info("planned policy %s: %s", policy.source, plan.counts())
    return plan


def _policy_item(
    action: Mapping[str, Any],
    matchers: Sequence[tuple[Rule, Matcher]],
    policy: Policy,
) -> PlanItem | None:
    """Plan one action under the first rule that selects it, else the default."""
    for rule, matcher in matchers:
        if matcher.mismatch(action) is None:
            return decide(action, rule.timeout, rule.selector.below, rule.label)
    if policy.has_default:
        return decide(action, policy.default, None, "default")
    return None


def _first_per_id(items: Iterable[PlanItem]) -> list[PlanItem]:
    """Keep the first item of each action id (several rules may name one id)."""
    kept: dict[str, PlanItem] = {}
    for item in items:
        kept.setdefault(item.action_id, item)
    return list(kept.values())
