"""Which requests are cacheable, and who is opted in."""

from __future__ import annotations

from typing import Any

import pytest

from routeiq_core.cache.policy import CachePolicy, cacheable
from routeiq_core.providers import Operation

MSG = [{"role": "user", "content": "hi"}]
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {}}}]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"messages": MSG, "temperature": 0}, True),
        ({"messages": MSG, "temperature": 0.0, "tools": [], "tool_choice": "none"}, True),
        ({"messages": MSG, "temperature": 0.2}, False),
        ({"messages": MSG}, False),  # absent temperature is the provider default, 1
        ({"messages": MSG, "temperature": None}, False),
        ({"messages": MSG, "temperature": "0"}, False),
        ({"messages": MSG, "temperature": True}, False),
        ({"messages": MSG, "temperature": 0, "tools": TOOLS}, False),
        ({"messages": MSG, "temperature": 0, "functions": [{"name": "f"}]}, False),
        ({"messages": MSG, "temperature": 0, "tool_choice": "required"}, False),
    ],
)
def test_defaults(payload: dict[str, Any], expected: bool) -> None:
    assert cacheable(payload) is expected


def test_switches() -> None:
    assert cacheable({"messages": MSG, "temperature": 0.7}, allow_temperature=True)
    assert cacheable({"messages": MSG}, allow_temperature=True)
    assert cacheable({"messages": MSG, "temperature": 0, "tools": TOOLS}, allow_tools=True)
    assert not cacheable({"messages": MSG, "temperature": 0.7, "tools": TOOLS}, allow_tools=True)


def test_embeddings_are_always_cacheable() -> None:
    assert cacheable({"input": "hi"}, operation=Operation.EMBEDDINGS)


def test_opt_in_by_team_or_key() -> None:
    everyone = CachePolicy()
    assert everyone.opted_in(team=None, key_id=None)
    teams = CachePolicy(teams=frozenset({"a"}))
    assert teams.opted_in(team="a", key_id="k")
    assert not teams.opted_in(team="b", key_id="k")
    keys = CachePolicy(keys=frozenset({"k"}))
    assert keys.opted_in(team=None, key_id="k")
    assert not keys.opted_in(team="a", key_id="j")
    both = CachePolicy(teams=frozenset({"a"}), keys=frozenset({"k"}))
    assert both.opted_in(team="b", key_id="k")
    assert both.opted_in(team="a", key_id=None)
    assert not both.opted_in(team=None, key_id=None)


def test_policy_allows_applies_its_switches() -> None:
    assert CachePolicy(allow_temperature=True).allows({"messages": MSG, "temperature": 1})
    assert not CachePolicy().allows({"messages": MSG, "temperature": 1})
