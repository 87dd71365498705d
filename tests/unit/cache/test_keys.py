"""Exact-cache keys: what changes them, what does not, and tenant scopes."""

from __future__ import annotations

from typing import Any

import pytest

from routeiq_core.cache.keys import (
    ANONYMOUS_SCOPE,
    cache_key,
    check_scope,
    normalized_request,
    params_fingerprint,
    tenant_scope,
)
from routeiq_core.providers import Operation

BASE: dict[str, Any] = {
    "model": "gpt-x",
    "messages": [{"role": "user", "content": "hi"}],
    "temperature": 0,
    "max_tokens": 50,
}


def key(
    payload: dict[str, Any], scope: str = "team-a", group: str = "chat", op: Operation = Operation.CHAT
) -> str:
    return cache_key(scope, group, op, payload)


@pytest.mark.parametrize(
    "extra",
    [
        {"user": "alice"},
        {"stream": True},
        {"stream_options": {"include_usage": True}},
        {"metadata": {"trace": "1"}},
        {"store": True},
        {"service_tier": "flex"},
        {"model": "an-alias-of-the-same-group"},
        {"seed": None},
    ],
)
def test_ignored_fields_do_not_change_the_key(extra: dict[str, Any]) -> None:
    assert key({**BASE, **extra}) == key(BASE)


def test_key_order_and_equivalent_numbers_do_not_change_the_key() -> None:
    reordered = dict(reversed(list(BASE.items())))
    assert key(reordered) == key(BASE)
    assert key({**BASE, "temperature": 0.0}) == key(BASE)
    assert key({**BASE, "stop": "END"}) == key({**BASE, "stop": ["END"]})


@pytest.mark.parametrize(
    "change",
    [
        {"messages": [{"role": "user", "content": "hi!"}]},
        {"messages": [{"role": "system", "content": "hi"}]},
        {"temperature": 0.5},
        {"top_p": 0.9},
        {"max_tokens": 51},
        {"n": 2},
        {"stop": ["\n"]},
        {"seed": 7},
        {"response_format": {"type": "json_object"}},
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        {"tool_choice": "auto"},
        {"logit_bias": {"50256": -100}},
        {"some_provider_specific_knob": 3},
    ],
)
def test_output_relevant_fields_change_the_key(change: dict[str, Any]) -> None:
    assert key({**BASE, **change}) != key(BASE)


def test_model_group_operation_and_tenant_change_the_key() -> None:
    assert key(BASE, group="other") != key(BASE)
    assert key({"model": "e", "input": "hi"}, op=Operation.EMBEDDINGS) != key(
        {"model": "e", "input": "hi"}, op=Operation.COMPLETIONS
    )
    assert key(BASE, scope="team-b") != key(BASE, scope="team-a")


def test_extra_ignored_fields_can_be_configured() -> None:
    tagged = {**BASE, "tags": ["x"]}
    assert cache_key("team-a", "chat", Operation.CHAT, tagged, ignore=["tags"]) == key(BASE)


def test_the_key_is_a_sha256_hex_and_the_document_is_inspectable() -> None:
    digest = key(BASE)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    doc = normalized_request("chat", Operation.CHAT, {**BASE, "user": "u"})
    assert doc["model_group"] == "chat"
    assert "user" not in doc["request"]
    assert "model" not in doc["request"]


def test_tenant_scopes() -> None:
    assert tenant_scope(team="acme", key_id="k1") == "team-acme"
    assert tenant_scope(team="acme", key_id="k1", per="key") == "key-k1"
    assert tenant_scope(team=None, key_id="k1") == "key-k1"
    assert tenant_scope(team=None, key_id=None) == ANONYMOUS_SCOPE
    odd = tenant_scope(team="R&D: *ops* [eu]", key_id=None)
    assert check_scope(odd) == odd
    assert ":" not in odd
    assert "*" not in odd
    assert tenant_scope(team="a b", key_id=None) != tenant_scope(team="a_b", key_id=None)
    long = tenant_scope(team="x" * 500, key_id=None)
    assert check_scope(long) == long
    assert len(long) < 128


@pytest.mark.parametrize("scope", ["", "a:b", "team-*", "x" * 129, "a b", "{ns}"])
def test_invalid_scopes_are_rejected(scope: str) -> None:
    with pytest.raises(ValueError, match="invalid cache scope"):
        check_scope(scope)


def test_params_fingerprint_ignores_the_prompt_but_not_the_params() -> None:
    other_prompt = {**BASE, "messages": [{"role": "user", "content": "different"}]}
    assert params_fingerprint(other_prompt) == params_fingerprint(BASE)
    assert params_fingerprint({**BASE, "max_tokens": 10}) != params_fingerprint(BASE)
    assert params_fingerprint({**BASE, "user": "x", "stream": True}) == params_fingerprint(BASE)
