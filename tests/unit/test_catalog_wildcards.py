"""Wildcard model groups (LiteLLM's ``openai/*``): matching, precedence, substitution, prices, the cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from routeiq_app.catalog_builder import build_catalog
from routeiq_app.settings import load_settings
from routeiq_core.catalog import Deployment, ModelCatalog, ModelFacts, ModelGroup, matches
from routeiq_core.errors import ConfigurationError, NotFoundError


def dep(ident: str, group: str, upstream: str, **kw: Any) -> Deployment:
    return Deployment(id=ident, model_group=group, adapter="openai", upstream_model=upstream, **kw)


def wildcard(name: str, upstream: str = "*", ident: str | None = None, **kw: Any) -> ModelGroup:
    return ModelGroup(name=name, deployments=(dep(ident or f"{name}-0", name, upstream, **kw),))


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("openai/*", "openai/gpt-4o", True),
        ("openai/*", "openai/", False),  # the ``*`` takes at least one character
        ("openai/*", "anthropic/claude", False),
        ("openai/*", "xopenai/gpt-4o", False),
        ("*", "anything/at/all", True),
        ("*", "", False),
        ("gpt-4o", "gpt-4o", True),
        ("gpt-4o", "gpt-4o-mini", False),
        ("*-mini", "gpt-4o-mini", True),
        ("*-mini", "-mini", False),
        ("a*b", "ab", False),
        ("a*b", "axb", True),
        ("*/gpt-*", "openai/gpt-4o", True),
        ("*/gpt-*", "openai/o1", False),
        ("ab*ba", "aba", False),
    ],
)
def test_matches(pattern: str, name: str, expected: bool) -> None:
    assert matches(pattern, name) is expected


def test_precedence_exact_then_alias_then_longest_pattern_then_star() -> None:
    catalog = ModelCatalog(
        [
            wildcard("*", ident="star"),
            wildcard("openai/*", ident="openai"),
            wildcard("openai/gpt-*", ident="openai-gpt"),
            ModelGroup(
                name="openai/gpt-4o",
                deployments=(dep("exact", "openai/gpt-4o", "gpt-4o-2024"),),
                aliases=("openai/gpt-4o-mini",),
            ),
        ]
    )

    def served_by(name: str) -> str:
        group = catalog.resolve(name)
        return group.deployments[0].id

    assert served_by("openai/gpt-4o") == "exact"
    assert served_by("openai/gpt-4o-mini") == "exact"  # an alias beats every pattern
    assert served_by("openai/gpt-5") == "openai-gpt"  # the longest literal text wins
    assert served_by("openai/o1") == "openai"
    assert served_by("mistral/large") == "star"  # ``*`` alone comes last


def test_pattern_ties_keep_configuration_order() -> None:
    catalog = ModelCatalog([wildcard("*-mini", ident="first"), wildcard("gpt4-*", ident="second")])
    assert catalog.resolve("gpt4-mini").deployments[0].id == "first"
    reversed_order = ModelCatalog([wildcard("gpt4-*", ident="second"), wildcard("*-mini", ident="first")])
    assert reversed_order.resolve("gpt4-mini").deployments[0].id == "second"


def test_a_served_group_substitutes_the_upstream_and_keeps_the_deployment_id() -> None:
    configured = ModelGroup(
        name="team-a/*",
        deployments=(dep("team-a-0", "team-a/*", "*", rpm=10), dep("team-a-1", "team-a/*", "fixed-model")),
        fallbacks=("other",),
        context_window_fallbacks=("big",),
    )
    catalog = ModelCatalog([configured])
    group = catalog.resolve("team-a/gpt-4o-mini")
    assert (group.name, group.pattern) == ("team-a/gpt-4o-mini", "team-a/*")
    assert (group.fallbacks, group.context_window_fallbacks) == (("other",), ("big",))
    substituted, fixed = group.deployments
    assert (substituted.id, substituted.upstream_model, substituted.wildcard, substituted.rpm) == (
        "team-a-0",
        "gpt-4o-mini",
        True,
        10,
    )
    assert (fixed.id, fixed.upstream_model, fixed.wildcard) == ("team-a-1", "fixed-model", False)
    assert catalog.deployment("team-a-0") is configured.deployments[0]  # the configured one
    assert catalog.names() == ["team-a/*"]
    assert catalog.resolve("team-a/*").pattern == "team-a/*"  # asked for by its configured name
    assert catalog.resolve("team-a/*").deployments[0].wildcard


def test_ordinary_groups_are_unchanged() -> None:
    group = ModelGroup(name="g", deployments=(dep("g-0", "g", "m"),))
    catalog = ModelCatalog([group])
    assert catalog.get("g") is group
    assert group.pattern is None
    assert catalog.get("g-other") is None
    with pytest.raises(NotFoundError):
        catalog.resolve("g/x")


def test_more_than_one_star_is_refused() -> None:
    with pytest.raises(ValueError, match="more than one"):
        ModelCatalog([wildcard("*/*")])


class CountingFacts:
    """A price map that counts lookups."""

    def __init__(self, known: dict[str, ModelFacts] | None = None) -> None:
        self.known = known or {}
        self.lookups: list[str] = []

    def __call__(self, model: str) -> ModelFacts | None:
        self.lookups.append(model)
        return self.known.get(model)


def test_served_groups_are_cached_in_a_bounded_lru() -> None:
    facts = CountingFacts()
    catalog = ModelCatalog([wildcard("*", price_model="*", price_source="none")], facts=facts, cache_size=8)
    first = catalog.resolve("hot")
    assert catalog.resolve("hot") is first  # built once
    assert facts.lookups == ["hot"]
    for i in range(1000):  # a client sending many names
        catalog.resolve(f"name-{i}")
    assert len(catalog._served) == 8
    assert catalog.resolve("hot") is not first  # evicted, rebuilt on demand
    assert facts.lookups.count("hot") == 2


GPT4O = ModelFacts(input_per_mtok=2.5, output_per_mtok=10.0, max_input_tokens=128_000)


def test_facts_price_only_unpriced_deployments() -> None:
    facts = CountingFacts({"openai/gpt-4o": GPT4O})
    catalog = ModelCatalog(
        [
            wildcard("openai/*", price_model="openai/*", price_source="none"),
            wildcard(
                "priced/*",
                price_model="openai/*",
                input_price_per_mtok=1.0,
                output_price_per_mtok=2.0,
                max_context_tokens=4000,
            ),
            wildcard("windowed/*", price_model="openai/*", price_source="config", input_price_per_mtok=1.0),
        ],
        facts=facts,
    )
    unpriced = catalog.resolve("openai/gpt-4o").deployments[0]
    assert (unpriced.input_price_per_mtok, unpriced.output_price_per_mtok, unpriced.price_source) == (
        2.5,
        10.0,
        "price_map",
    )
    assert unpriced.max_context_tokens == 128_000
    priced = catalog.resolve("priced/gpt-4o").deployments[0]
    assert (priced.input_price_per_mtok, priced.price_source, priced.max_context_tokens) == (
        1.0,
        "config",
        4000,
    )
    windowed = catalog.resolve("windowed/gpt-4o").deployments[0]
    assert (windowed.input_price_per_mtok, windowed.price_source, windowed.max_context_tokens) == (
        1.0,
        "config",
        128_000,
    )
    unknown = catalog.resolve("openai/my-finetune").deployments[0]
    assert (unknown.input_price_per_mtok, unknown.price_source) == (0.0, "none")
    assert "openai/my-finetune" in facts.lookups


def test_no_price_model_means_no_facts() -> None:
    facts = CountingFacts({"gpt-4o": GPT4O})
    catalog = ModelCatalog([wildcard("mock/*", price_source="none")], facts=facts)
    assert catalog.resolve("mock/gpt-4o").deployments[0].price_source == "none"
    assert facts.lookups == []


# The builder: adapters and upstream models from litellm_params, the price map port, validation.

MODELS = """
model_list:
  - model_name: "openai/gpt-4o"
    litellm_params: {model: openai/gpt-4o-2024-08-06}
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_key: sk-test}
  - model_name: "anthropic/*"
    litellm_params: {model: "anthropic/*"}
  - model_name: "team-a/*"
    litellm_params: {model: "openai/*"}
  - model_name: "cheap/*"
    litellm_params: {model: openai/gpt-4o-mini}
  - model_name: "demo/*"
    litellm_params: {model: "mock/*"}
  - model_name: "*"
    litellm_params: {model: "*"}
"""
PRICES = {
    "openai/gpt-4o-mini": {"input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07},
    "demo-model": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
}


def build(tmp_path: Path, models: str = MODELS, price_map: str | None = None, **routing: Any) -> ModelCatalog:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(PRICES))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(models + (f"routing: {json.dumps(routing)}\n" if routing else ""))
    env = {"ROUTEIQ_ROUTING__PRICE_MAP": price_map if price_map is not None else str(prices)}
    return build_catalog(load_settings(str(cfg), env))


@pytest.mark.parametrize(
    ("requested", "adapter", "upstream", "deployment_id"),
    [
        ("openai/gpt-4o", "openai", "gpt-4o-2024-08-06", "openai/gpt-4o-0"),  # the explicit group wins
        ("openai/gpt-4o-mini", "openai", "gpt-4o-mini", "openai/*-0"),
        ("anthropic/claude-sonnet-4", "litellm", "anthropic/claude-sonnet-4", "anthropic/*-0"),
        ("team-a/gpt-4o-mini", "openai", "gpt-4o-mini", "team-a/*-0"),
        ("cheap/anything", "openai", "gpt-4o-mini", "cheap/*-0"),
        ("demo/demo-model", "mock", "demo-model", "demo/*-0"),
        ("mistral/mistral-large", "litellm", "mistral/mistral-large", "*-0"),
    ],
)
def test_builder_substitutes_per_adapter(
    tmp_path: Path, requested: str, adapter: str, upstream: str, deployment_id: str
) -> None:
    (d,) = build(tmp_path).resolve(requested).deployments
    assert (d.adapter, d.upstream_model, d.id) == (adapter, upstream, deployment_id)


def test_builder_prices_served_models_by_their_litellm_model(tmp_path: Path) -> None:
    catalog = build(tmp_path)
    for name in ("openai/gpt-4o-mini", "team-a/gpt-4o-mini", "cheap/whatever"):
        d = catalog.resolve(name).deployments[0]
        assert d.price_source == "price_map", name
        assert (d.input_price_per_mtok, d.output_price_per_mtok) == pytest.approx((0.15, 0.6)), name
    mock = catalog.resolve("demo/demo-model").deployments[0]
    assert mock.price_source == "none"  # mock deployments are never priced from the map
    configured = catalog.deployment("openai/*-0")
    assert configured is not None
    assert configured.price_source == "none"  # the configured one stays unpriced


def test_builder_without_a_price_map_leaves_served_models_unpriced(tmp_path: Path) -> None:
    d = build(tmp_path, price_map="none").resolve("openai/gpt-4o-mini").deployments[0]
    assert d.price_source == "none"


def test_fallbacks_may_name_wildcard_groups_and_the_models_they_serve(tmp_path: Path) -> None:
    catalog = build(
        tmp_path,
        fallbacks=[{"openai/*": ["anthropic/claude-sonnet-4"]}, {"openai/gpt-4o": ["openai/gpt-4o-mini"]}],
        model_group_alias={"default": "cheap/*"},
    )
    assert catalog.resolve("openai/o3").fallbacks == ("anthropic/claude-sonnet-4",)
    assert catalog.resolve("openai/gpt-4o").fallbacks == ("openai/gpt-4o-mini",)
    assert catalog.resolve("default").deployments[0].upstream_model == "gpt-4o-mini"


def test_fallback_to_a_name_no_group_serves_is_a_problem(tmp_path: Path) -> None:
    models = """
model_list:
  - model_name: "openai/*"
    litellm_params: {model: "openai/*"}
"""
    with pytest.raises(ConfigurationError) as info:
        build(tmp_path, models, fallbacks=[{"openai/*": ["anthropic/claude"]}])
    assert any("unknown fallback group 'anthropic/claude'" in p for p in info.value.problems)


def test_more_than_one_star_in_a_model_name_is_a_configuration_problem(tmp_path: Path) -> None:
    models = """
model_list:
  - model_name: "*/gpt-*"
    litellm_params: {model: "openai/*"}
"""
    with pytest.raises(ConfigurationError) as info:
        build(tmp_path, models)
    assert any("model_list[0].model_name" in p and "more than one '*'" in p for p in info.value.problems)
