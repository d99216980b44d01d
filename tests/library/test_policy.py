"""Timeout policies as TOML: parsing, checking, and the plan they imply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from action_timeouts.actions import SKIP_REASONS, ActionKind
from action_timeouts.errors import UsageError
from action_timeouts.plan import NOT_FOUND, WOULD_LOWER, Selector, drift
from action_timeouts.policy import load_policy, parse_policy, plan_for_policy

INTEGRATION = "11111111-1111-1111-1111-111111111111"


def action(
    action_id: str,
    name: str,
    *,
    timeout: int | None = None,
    category: str = "Web Services",
    secure: bool = False,
) -> dict[str, Any]:
    """Build an action as the list endpoint returns it with its config."""
    config: dict[str, Any] = {"request": {"requestUrlTemplate": "https://x.invalid/"}}
    if timeout is not None:
        config["timeoutSeconds"] = timeout
    return {
        "id": action_id,
        "name": name,
        "category": category,
        "integrationId": INTEGRATION,
        "secure": secure,
        "version": 2,
        "config": config,
    }


@pytest.fixture
def org() -> list[dict[str, Any]]:
    """A small org covering names, categories, secure flags and timeouts."""
    return [
        action("sf-1", "Salesforce Lookup", timeout=10, category="Salesforce"),
        action("sf-2", "Salesforce Update", category="Salesforce"),
        action("zd-1", "Zendesk Ticket", timeout=45, category="Zendesk"),
        action("pay-1", "Pay Invoice", timeout=20, secure=True),
        action("web-1", "Get Weather", timeout=5),
        action("static_1", "Built-in", category="Salesforce"),
    ]


GOOD_POLICY = """
default = 30

[[rule]]
name = "salesforce*"
category = ["Salesforce"]
timeout = 45

[[rule]]
secure = true
timeout = "unset"

[[rule]]
category = "Zendesk"
below = 50
timeout = 40
"""


def test_policy_parses_rules_in_order() -> None:
    """Rules keep their order, selectors and timeouts; strings become tuples."""
    policy = parse_policy(GOOD_POLICY, source="org.toml")

    assert [rule.number for rule in policy.rules] == [1, 2, 3]
    assert policy.rules[0].selector == Selector(
        name_globs=("salesforce*",), categories=("Salesforce",)
    )
    assert [rule.timeout for rule in policy.rules] == [45, None, 40]
    assert (policy.default, policy.has_default, policy.source) == (30, True, "org.toml")


def test_policy_default_may_be_unset() -> None:
    """A default of "unset" plans removing the timeout everywhere else."""
    policy = parse_policy('default = "unset"')

    assert (policy.rules, policy.default, policy.has_default) == ((), None, True)


def test_policy_summary_is_json_ready() -> None:
    """The summary names the source, each rule and the default."""
    summary = parse_policy(GOOD_POLICY, source="org.toml").summary()

    assert summary["policy"] == "org.toml"
    assert summary["rules"][1] == {"rule": 2, "timeout": None, "secure": True}
    assert summary["default"] == 30


def test_load_policy_reads_a_file(tmp_path: Path) -> None:
    """A policy file is read and named as the policy's source."""
    path = tmp_path / "timeouts.toml"
    path.write_text(GOOD_POLICY, encoding="utf-8")

    assert load_policy(path).source == str(path)


def test_load_policy_missing_file_names_it(tmp_path: Path) -> None:
    """An unreadable policy file is a usage error naming the file."""
    with pytest.raises(UsageError, match=r"cannot read policy file .*none\.toml"):
        load_policy(tmp_path / "none.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "[[rule]]\nname = \ntimeout = 3\n",
            r"^p\.toml, line 2, column 8: invalid TOML: ",
            id="bad-toml",
        ),
        pytest.param(
            "defualt = 3", r"^p\.toml: unknown top-level key 'defualt'", id="top-key"
        ),
        pytest.param(
            "[[rule]]\nnmae = 'x'\ntimeout = 3",
            r"^p\.toml: rule 1: unknown key 'nmae' \(expected one of: name, ",
            id="rule-key",
        ),
        pytest.param(
            "[[rule]]\nname = 'x'", r"rule 1: missing timeout", id="missing-timeout"
        ),
        pytest.param("[[rule]]\ntimeout = 3", r"rule 1: no selector", id="no-selector"),
        pytest.param(
            "[[rule]]\nids = []\ntimeout = 3", r"rule 1: no selector", id="empty-ids"
        ),
        pytest.param(
            "[[rule]]\nunset = false\ntimeout = 3",
            r"rule 1: no selector",
            id="unset-false-only",
        ),
        pytest.param(
            "[[rule]]\nname = 3\ntimeout = 3",
            r"rule 1: 'name' must be a string or a list of strings",
            id="name-not-text",
        ),
        pytest.param(
            "[[rule]]\nsecure = 'yes'\ntimeout = 3",
            r"rule 1: 'secure' must be true or false",
            id="secure-not-bool",
        ),
        pytest.param(
            "[[rule]]\nbelow = 0\ntimeout = 3",
            r"rule 1: invalid 'below' value 0",
            id="below-zero",
        ),
        pytest.param(
            "[[rule]]\nids = ['a b']\ntimeout = 3",
            r"rule 1: not an action id: 'a b'",
            id="bad-id",
        ),
        pytest.param(
            "rule = 1", r"'rule' must be written as \[\[rule\]\]", id="rule-int"
        ),
        pytest.param("", r"no \[\[rule\]\] and no default", id="empty"),
        pytest.param(
            "default = 0", r"p\.toml: default: invalid timeout 0", id="default"
        ),
    ],
)
def test_policy_errors_name_the_problem(text: str, message: str) -> None:
    """Each mistake in a policy is a usage error naming file, rule and key."""
    with pytest.raises(UsageError, match=message):
        parse_policy(text, source="p.toml")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("0", id="zero"),
        pytest.param("61", id="sixty-one"),
        pytest.param("-5", id="negative"),
        pytest.param("1.5", id="fraction"),
        pytest.param('"fast"', id="word"),
        pytest.param('"30"', id="quoted-number"),
    ],
)
def test_invalid_rule_timeouts_are_refused(value: str) -> None:
    """A rule timeout must be whole seconds 1-60 or the word "unset"."""
    text = f"[[rule]]\nname = 'x'\ntimeout = {value}\n"

    with pytest.raises(UsageError, match=r"rule 1: invalid timeout .*or \"unset\""):
        parse_policy(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "[[rule]]\nname = 'x'\ntimeout = true\n",
            r"^p\.toml: rule 1: true is a boolean, not a timeout: ",
            id="rule-true",
        ),
        pytest.param(
            "[[rule]]\nname = 'x'\ntimeout = false\n",
            r"^p\.toml: rule 1: false is a boolean, not a timeout: ",
            id="rule-false",
        ),
        pytest.param(
            "default = true\n",
            r"^p\.toml: default: true is a boolean, not a timeout: ",
            id="default",
        ),
    ],
)
def test_a_boolean_timeout_is_named_as_a_boolean(text: str, message: str) -> None:
    """`timeout = true` is refused as a boolean, naming the file and the rule, not
    as the Python value True."""
    with pytest.raises(UsageError, match=message) as caught:
        parse_policy(text, source="p.toml")

    assert "True" not in str(caught.value)
    assert str(caught.value).endswith('give whole seconds from 1 to 60, or "unset"')


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("name = 'a*'", "name = 'a*'", id="duplicate"),
        pytest.param("name = 'Sales*'", "name = 'sales*'", id="same-glob-other-case"),
        pytest.param("category = 'C'", "category = 'C'\nname = 'x'", id="narrower"),
        pytest.param("ids = ['a', 'b']", "ids = ['b']", id="fewer-ids"),
        pytest.param("below = 40", "below = 30", id="lower-below"),
        pytest.param("secure = false", "secure = false\nunset = true", id="secure"),
        pytest.param("unset = true", "unset = true\nbelow = 20", id="unset"),
    ],
)
def test_shadowed_rule_is_refused(first: str, second: str) -> None:
    """A rule that an earlier rule fully covers can never win and is refused."""
    text = f"[[rule]]\n{first}\ntimeout = 5\n\n[[rule]]\n{second}\ntimeout = 9\n"

    with pytest.raises(UsageError, match="rule 2 is shadowed by rule 1"):
        parse_policy(text)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("category = 'C'\nname = 'x'", "category = 'C'", id="wider-later"),
        pytest.param("below = 30", "below = 40", id="higher-below"),
        pytest.param("secure = true", "secure = false", id="other-secure"),
        pytest.param("ids = ['a']", "ids = ['a', 'b']", id="more-ids"),
        pytest.param("unset = true", "below = 20", id="unset-then-below"),
    ],
)
def test_overlapping_rules_are_allowed(first: str, second: str) -> None:
    """Rules that overlap but each can still win are accepted."""
    text = f"[[rule]]\n{first}\ntimeout = 5\n\n[[rule]]\n{second}\ntimeout = 9\n"

    assert len(parse_policy(text).rules) == 2


def test_first_matching_rule_wins(org: list[dict[str, Any]]) -> None:
    """An action matched by several rules gets the first rule's timeout."""
    policy = parse_policy(
        "[[rule]]\nname = 'salesforce lookup'\ntimeout = 15\n\n"
        "[[rule]]\ncategory = 'Salesforce'\ntimeout = 25\n"
    )

    plan = plan_for_policy(org, policy, total=6)

    rules = {item.action_id: (item.rule, item.new) for item in plan.items}
    assert rules["sf-1"] == ("rule 1", 15)
    assert rules["sf-2"] == ("rule 2", 25)
    assert "zd-1" not in rules
    assert (plan.mode, plan.found, plan.total, plan.requested) == (
        "policy",
        6,
        6,
        None,
    )


def test_policy_plan_verdicts(org: list[dict[str, Any]]) -> None:
    """Rules, `below` and the default give each action its verdict."""
    plan = plan_for_policy(org, parse_policy(GOOD_POLICY))

    verdicts = {
        item.action_id: (item.rule, item.old, item.new, item.status, item.reason)
        for item in plan.items
    }
    assert verdicts == {
        "sf-1": ("rule 1", 10, 45, "change", None),
        "sf-2": ("rule 1", None, 45, "change", None),
        "zd-1": ("rule 3", 45, 40, "skip", WOULD_LOWER),
        "pay-1": ("rule 2", 20, None, "change", None),
        "web-1": ("default", 5, 30, "change", None),
        "static_1": ("default", None, 30, "skip", SKIP_REASONS[ActionKind.STATIC]),
    }


def test_policy_without_default_leaves_others_out(org: list[dict[str, Any]]) -> None:
    """With no default, actions no rule selects are not in the plan."""
    policy = parse_policy("[[rule]]\nsecure = true\ntimeout = 20\n")

    plan = plan_for_policy(org, policy)

    assert [(i.action_id, i.status) for i in plan.items] == [("pay-1", "unchanged")]
    assert drift(plan) == []


def test_drift_lists_actions_out_of_line(org: list[dict[str, Any]]) -> None:
    """Drift is every action whose timeout differs from its rule's."""
    policy = parse_policy("default = 45\n")

    plan = plan_for_policy(org, policy)

    assert [item.action_id for item in drift(plan)] == [
        "sf-1",
        "sf-2",
        "pay-1",
        "web-1",
    ]


def test_policy_ids_not_listed_are_reported(org: list[dict[str, Any]]) -> None:
    """Ids named by rules but absent from the org are 'not found' skips."""
    policy = parse_policy(
        "[[rule]]\nids = ['ghost', 'sf-1']\ntimeout = 15\n\n"
        "[[rule]]\nids = ['ghost', 'gone']\nname = 'x'\ntimeout = 20\n"
    )

    plan = plan_for_policy(org, policy)

    assert [(i.action_id, i.rule, i.reason) for i in plan.missing] == [
        ("ghost", "rule 1", NOT_FOUND),
        ("gone", "rule 2", NOT_FOUND),
    ]
    assert [i.action_id for i in plan.selected] == ["sf-1"]


def test_policy_integration_names_resolve(org: list[dict[str, Any]]) -> None:
    """A rule may name an integration; the caller's mapping resolves it."""
    policy = parse_policy("[[rule]]\nintegration = 'acme rest'\ntimeout = 12\n")

    plan = plan_for_policy(org, policy, integration_names={INTEGRATION: "Acme REST"})

    assert len(plan.items) == len(org)


def test_drift_includes_an_invalid_stored_timeout_under_a_rule() -> None:
    """An action whose stored timeout is invalid differs from any rule: it is in the
    drift, skipped with its reason; a custom-auth action never is."""
    odd = action("odd-1", "Odd")
    odd["config"]["timeoutSeconds"] = "30"
    custom = action("customAuth_-_x", "Custom auth")
    custom["config"]["timeoutSeconds"] = 90
    policy = parse_policy('[[rule]]\nname = "*"\ntimeout = 30\n')

    plan = plan_for_policy([odd, custom, action("ok-1", "Fine", timeout=30)], policy)

    (item,) = drift(plan)
    assert (item.action_id, item.status, item.old) == ("odd-1", "skip", "30")
