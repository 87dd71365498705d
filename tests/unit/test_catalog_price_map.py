"""Deployment prices and context windows filled from a model price map (`routing.price_map`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routeiq_app.catalog_builder import build_catalog
from routeiq_app.settings import load_settings
from routeiq_core.catalog import Deployment, ModelCatalog
from routeiq_core.errors import ConfigurationError

PRICES = {
    "gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "max_input_tokens": 128000},
    "mistral/mistral-large-latest": {
        "input_cost_per_token": 5e-07,
        "output_cost_per_token": 1.5e-06,
        "max_input_tokens": 262144,
    },
    "demo": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "max_input_tokens": 1000},
}
MODELS = """
model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o}
  - model_name: mistral
    litellm_params: {model: mistral/mistral-large-latest}
  - model_name: priced
    litellm_params: {model: openai/gpt-4o}
    model_info: {input_price_per_mtok: 1, output_price_per_mtok: 2, max_input_tokens: 4000}
  - model_name: half
    litellm_params: {model: openai/gpt-4o, input_cost_per_token: 0.000003}
  - model_name: unknown
    litellm_params: {model: openai/my-local-llama}
  - model_name: mock
    litellm_params: {model: mock/demo}
  - model_name: forced-mock
    litellm_params: {model: gpt-4o, adapter: mock}
  - model_name: azure-named
    litellm_params: {model: azure/my-deployment}
    model_info: {base_model: gpt-4o}
"""


def catalog(tmp_path: Path, price_map: str | None = None) -> ModelCatalog:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(PRICES))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(MODELS)
    env = {"ROUTEIQ_ROUTING__PRICE_MAP": price_map if price_map is not None else str(prices)}
    return build_catalog(load_settings(str(cfg), env))


def deployment(catalog: ModelCatalog, group: str) -> Deployment:
    return catalog.resolve(group).deployments[0]


def test_map_fills_prices_and_context_window(tmp_path: Path) -> None:
    built = catalog(tmp_path)
    gpt = deployment(built, "gpt")
    assert (gpt.input_price_per_mtok, gpt.output_price_per_mtok) == (pytest.approx(2.5), pytest.approx(10))
    assert (gpt.price_source, gpt.max_context_tokens) == ("price_map", 128000)
    assert gpt.cost(1000, 100) == pytest.approx(0.0035)
    mistral = deployment(built, "mistral")  # a key with its provider prefix, served through LiteLLM
    assert (mistral.adapter, mistral.price_source, mistral.max_context_tokens) == (
        "litellm",
        "price_map",
        262144,
    )
    assert mistral.input_price_per_mtok == pytest.approx(0.5)


def test_configured_prices_and_window_win(tmp_path: Path) -> None:
    priced = deployment(catalog(tmp_path), "priced")
    assert (priced.input_price_per_mtok, priced.output_price_per_mtok) == (1.0, 2.0)
    assert (priced.price_source, priced.max_context_tokens) == ("config", 4000)


def test_one_configured_price_is_not_mixed_with_the_map(tmp_path: Path) -> None:
    half = deployment(catalog(tmp_path), "half")
    assert (half.input_price_per_mtok, half.output_price_per_mtok) == (pytest.approx(3.0), 0.0)
    assert half.price_source == "config"
    assert half.max_context_tokens == 128000  # the window is filled all the same


def test_unknown_model_stays_unpriced(tmp_path: Path) -> None:
    unknown = deployment(catalog(tmp_path), "unknown")
    assert (unknown.input_price_per_mtok, unknown.output_price_per_mtok) == (0.0, 0.0)
    assert (unknown.price_source, unknown.max_context_tokens) == ("none", None)


@pytest.mark.parametrize("group", ["mock", "forced-mock"])
def test_mock_deployments_are_never_priced_from_the_map(tmp_path: Path, group: str) -> None:
    mock = deployment(catalog(tmp_path), group)
    assert (mock.adapter, mock.input_price_per_mtok, mock.output_price_per_mtok) == ("mock", 0.0, 0.0)
    assert (mock.price_source, mock.max_context_tokens) == ("none", None)


def test_none_disables_the_map(tmp_path: Path) -> None:
    gpt = deployment(catalog(tmp_path, "none"), "gpt")
    assert (gpt.input_price_per_mtok, gpt.price_source, gpt.max_context_tokens) == (0.0, "none", None)


@pytest.mark.parametrize("content", [None, "not json", '["a list"]'])
def test_an_unusable_map_file_is_a_configuration_problem_naming_it(
    tmp_path: Path, content: str | None
) -> None:
    bad = tmp_path / "missing-prices.json"
    if content is not None:
        bad.write_text(content)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(MODELS + "routing:\n  fallbacks: [{gpt: [nowhere]}]\n")
    with pytest.raises(ConfigurationError) as info:
        build_catalog(load_settings(str(cfg), {"ROUTEIQ_ROUTING__PRICE_MAP": str(bad)}), str(cfg))
    problems = info.value.problems
    assert any(p.startswith("c.yaml: routing.price_map: ") and str(bad) in p for p in problems), problems
    assert any("unknown fallback group 'nowhere'" in p for p in problems)  # reported with everything else


def test_a_bad_map_file_is_reported_even_when_no_deployment_needs_it(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model_list:\n  - model_name: m\n    litellm_params: {model: mock/m}\n")
    missing = tmp_path / "missing.json"
    with pytest.raises(ConfigurationError) as info:
        build_catalog(load_settings(str(cfg), {"ROUTEIQ_ROUTING__PRICE_MAP": str(missing)}))
    assert info.value.problems == [
        f"routing.price_map: cannot read the price map {str(missing)!r}: No such file or directory"
    ]


def test_the_default_map_is_not_read_when_nothing_needs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(source: str) -> None:
        raise AssertionError(f"the price map {source!r} was opened")

    monkeypatch.setattr("routeiq_app.catalog_builder.open_price_map", fail)
    env = {"ROUTEIQ_MODEL_LIST": '[{"model_name": "m", "litellm_params": {"model": "mock/m"}}]'}
    assert build_catalog(load_settings(None, env)).names() == ["m"]


def test_base_model_is_what_the_map_prices(tmp_path: Path) -> None:
    named = deployment(catalog(tmp_path), "azure-named")
    assert named.upstream_model == "azure/my-deployment"
    assert (named.input_price_per_mtok, named.max_context_tokens) == (pytest.approx(2.5), 128000)
