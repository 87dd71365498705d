"""The policy engine: every matcher, first match wins, the default, explanations, config errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from routeiq_core.access import PolicyEngine, Principal, enforce
from routeiq_core.context import CallContext
from routeiq_core.errors import ConfigurationError, PermissionDeniedError
from routeiq_core.providers import Operation

MONDAY_NOON = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)  # 2024-01-01 is a Monday
MEMBER = Principal(kind="virtual_key", role="member", key_id="key_1", user="u1", team="t1")


def facts(**overrides: Any) -> CallContext:
    """A call's context as the policy sees it (``tools`` and ``at`` become payload and arrival time)."""
    base: dict[str, Any] = {
        "principal": MEMBER,
        "operation": Operation.CHAT,
        "surface": "openai",
        "model": "gpt-4o",
        "max_tokens": 256,
        "stream": False,
        "tools": False,
        "source_ip": "192.0.2.10",
        "at": MONDAY_NOON,
    }
    base.update(overrides)
    tools, at = base.pop("tools"), base.pop("at")
    payload = {"tools": [{"type": "function", "function": {"name": "f"}}]} if tools else {}
    return CallContext(payload=payload, received_at=at.timestamp(), **base)


def engine(*matches: dict[str, Any], default: str = "allow") -> PolicyEngine:
    rules = [
        {"name": f"r{i}", "match": m, "action": "deny", "reason": f"r{i} says no"}
        for i, m in enumerate(matches)
    ]
    return PolicyEngine.from_config({"default": default, "rules": rules})


@pytest.mark.parametrize(
    ("match", "hit", "miss"),
    [
        ({"teams": ["t1"]}, {}, {"principal": Principal(kind="virtual_key", role="member", team="t2")}),
        ({"users": ["u1"]}, {}, {"principal": Principal(kind="virtual_key", role="member", user="u2")}),
        ({"key_ids": ["key_1"]}, {}, {"principal": Principal.admin()}),
        ({"roles": ["member"]}, {}, {"principal": Principal.admin()}),
        ({"kinds": ["virtual_key"]}, {}, {"principal": Principal.anonymous()}),
        ({"operations": ["chat"]}, {}, {"operation": Operation.EMBEDDINGS}),
        ({"surfaces": ["openai"]}, {}, {"surface": "library"}),
        ({"models": ["gpt-4*"]}, {}, {"model": "claude-3"}),
        ({"models": ["gpt-4*"]}, {}, {"model": None}),
        ({"max_tokens": {"min": 100, "max": 1000}}, {}, {"max_tokens": 2000}),
        ({"max_tokens": {"min": 4097}}, {"max_tokens": None}, {"max_tokens": 4096}),
        ({"max_tokens": {"max": 4096}}, {}, {"max_tokens": None}),
        ({"stream": True}, {"stream": True}, {}),
        ({"tools": True}, {"tools": True}, {}),
        ({"tools": False}, {}, {"tools": True}),
        ({"source_cidrs": ["192.0.2.0/24", "2001:db8::/32"]}, {}, {"source_ip": "198.51.100.1"}),
        ({"source_cidrs": ["2001:db8::/32"]}, {"source_ip": "2001:db8::5"}, {"source_ip": None}),
        ({"source_cidrs": ["192.0.2.0/24"]}, {}, {"source_ip": "garbage"}),
        ({"time": {"days": ["mon", "tue"]}}, {}, {"at": MONDAY_NOON + dt.timedelta(days=2)}),
        ({"time": {"hours": "09:00-17:00"}}, {}, {"at": MONDAY_NOON.replace(hour=17)}),
        ({"time": {"hours": "22:00-06:00"}}, {"at": MONDAY_NOON.replace(hour=23)}, {}),
        (
            {"time": {"hours": "09:00-17:00"}},
            {"at": dt.datetime(2024, 1, 1, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))},  # 11:00 UTC
            {"at": dt.datetime(2024, 1, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))},  # 08:00 UTC
        ),
    ],
)
def test_each_matcher(match: dict[str, Any], hit: dict[str, Any], miss: dict[str, Any]) -> None:
    policy = engine(match)
    decided = policy.evaluate(facts(**hit))
    assert (decided.allowed, decided.rule, decided.reason) == (False, "r0", "r0 says no")
    assert policy.evaluate(facts(**miss)).allowed


def test_all_conditions_of_a_rule_must_match() -> None:
    policy = engine({"teams": ["t1"], "models": ["gpt-4*"], "stream": True})
    assert policy.evaluate(facts()).allowed
    assert not policy.evaluate(facts(stream=True)).allowed


def test_first_match_wins_and_actions_apply() -> None:
    policy = PolicyEngine.from_config(
        {
            "default": "deny",
            "rules": [
                {
                    "name": "night",
                    "match": {"time": {"hours": "00:00-06:00"}},
                    "action": "deny",
                    "reason": "closed",
                },
                {
                    "name": "cheap",
                    "match": {"teams": ["t1"], "models": ["gpt-4o"]},
                    "action": "allow",
                    "rewrite_model": "gpt-4o-mini",
                    "tags": ["budget"],
                    "cost_preference": "cheapest",
                },
                {"name": "team", "match": {"teams": ["t1"]}, "action": "allow"},
            ],
        }
    )
    first = policy.evaluate(facts())
    assert (first.allowed, first.rule, first.model, first.tags, first.cost_preference) == (
        True,
        "cheap",
        "gpt-4o-mini",
        ("budget",),
        "cheapest",
    )
    assert policy.evaluate(facts(model="other")).rule == "team"
    assert policy.evaluate(facts(at=MONDAY_NOON.replace(hour=3))).reason == "closed"


def test_default_decides_when_nothing_matches() -> None:
    other = {"principal": Principal(kind="virtual_key", role="member", team="t9")}
    deny_all = engine({"teams": ["t1"]}, default="deny")
    decided = deny_all.evaluate(facts(**other))
    assert not decided.allowed
    assert decided.rule is None
    assert "default" in (decided.reason or "")
    assert engine(default="allow").evaluate(facts()).allowed
    assert not engine(default="deny").evaluate(facts()).allowed


def test_a_rule_without_conditions_matches_everything() -> None:
    policy = PolicyEngine.from_config({"rules": [{"action": "deny"}]})
    decided = policy.evaluate(facts())
    assert (decided.allowed, decided.rule) == (False, "rule-0")


def test_explain_lists_every_rule_with_reasons() -> None:
    policy = engine({"teams": ["t2"]}, {"models": ["gpt-*"], "max_tokens": {"max": 512}}, {"teams": ["t1"]})
    explanation = policy.explain(facts())
    assert explanation.decision.rule == "r1"
    assert [(r.name, r.matched, r.decisive) for r in explanation.rules] == [
        ("r0", False, False),
        ("r1", True, True),
        ("r2", True, False),
    ]
    (team_check,) = explanation.rules[0].checks
    assert not team_check.passed
    assert team_check.detail == "team 't1' not in ['t2']"
    assert [c.detail for c in explanation.rules[1].checks] == [
        "model 'gpt-4o' matches 'gpt-*'",
        "max_tokens 256 in [-inf, 512]",
    ]
    assert policy.evaluate(facts()) == explanation.decision
    encoded = msgspec.json.decode(msgspec.json.encode(explanation))  # what the admin route returns
    assert encoded["rules"][1]["decisive"] is True


def test_explain_with_no_match_reports_the_default() -> None:
    explanation = engine({"teams": ["t2"]}, default="deny").explain(facts())
    assert not explanation.decision.allowed
    assert explanation.default == "deny"
    assert not any(r.decisive for r in explanation.rules)


def test_enforce_raises_403_with_rule_and_reason() -> None:
    with pytest.raises(PermissionDeniedError) as info:
        enforce(engine({"teams": ["t1"]}).evaluate(facts()))
    assert info.value.code == "policy_denied"
    assert "'r0'" in info.value.message
    assert "r0 says no" in info.value.message
    assert enforce(engine().evaluate(facts())).allowed


def test_invalid_config_reports_every_problem() -> None:
    with pytest.raises(ConfigurationError) as info:
        PolicyEngine.from_config(
            {
                "rules": [
                    {"name": "a", "match": {"source_cidrs": ["10.0.0.0/33"], "time": {"hours": "9-17"}}},
                    {"name": "a", "match": {"max_tokens": {"min": 10, "max": 5}}},
                    {"name": "b", "action": "deny", "rewrite_model": "x"},
                ]
            }
        )
    problems = info.value.problems
    assert len(problems) == 5, problems
    assert any("rules[0].match.source_cidrs[0]" in p for p in problems)
    assert any("rules[0].match.time.hours" in p for p in problems)
    assert any("rules[1].name" in p for p in problems)
    assert any("rules[1].match.max_tokens" in p for p in problems)
    assert any("rules[2]" in p and "deny" in p for p in problems)


def test_unknown_keys_and_types_are_config_errors() -> None:
    for bad in (
        {"rules": [{"match": {"team": ["t1"]}}]},
        {"default": "maybe"},
        {"rules": [{"action": "block"}]},
    ):
        with pytest.raises(ConfigurationError):
            PolicyEngine.from_config(bad)


def test_engine_is_immutable() -> None:
    policy = engine({"teams": ["t1"]})
    with pytest.raises(AttributeError):
        policy._rules = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        policy.extra = 1  # type: ignore[attr-defined]
    assert isinstance(policy.rules, tuple)


def test_operations_and_surfaces_are_checked_against_the_known_names() -> None:
    with pytest.raises(ConfigurationError) as info:
        PolicyEngine.from_config(
            {
                "rules": [
                    {"name": "x", "match": {"operations": ["chat", "chat_completions"], "surfaces": ["http"]}}
                ]
            }
        )
    problems = info.value.problems
    assert len(problems) == 2, problems
    assert any("operations" in p and "'chat_completions'" in p and "embeddings" in p for p in problems)
    assert any("surfaces" in p and "'http'" in p and "openai" in p for p in problems)
