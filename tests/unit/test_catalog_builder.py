"""From model_list settings to the core catalog, with reference checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from routeiq_app.catalog_builder import build_catalog
from routeiq_app.settings import load_settings
from routeiq_core.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    return build_catalog(load_settings(str(cfg), env or {}))


def test_demo_config_builds() -> None:
    catalog = build_catalog(load_settings(str(ROOT / "examples" / "demo-config.yaml"), {}))
    assert catalog.names() == ["demo", "demo-embed"]
    demo = catalog.resolve("gpt-4o-mini")
    assert demo.name == "demo"
    assert [d.id for d in demo.deployments] == ["demo-0", "demo-1"]
    assert demo.deployments[0].adapter == "mock"
    assert demo.deployments[0].upstream_model == "demo-large"


def test_adapter_by_prefix_and_litellm_extras(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        """
model_list:
  - model_name: fast
    litellm_params:
      {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/K, timeout: 5}
    model_info: {id: fast-a, max_input_tokens: 1000, input_price_per_mtok: 2.5}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5, api_version: "2024", input_cost_per_token: 0.000003}
""",
        {"K": "sk-1"},
    )
    fast = catalog.resolve("fast").deployments[0]
    assert (fast.id, fast.adapter, fast.upstream_model, fast.api_key, fast.timeout_s) == (
        "fast-a",
        "openai",
        "gpt-4o",
        "sk-1",
        5.0,
    )
    assert fast.max_context_tokens == 1000
    assert fast.input_price_per_mtok == 2.5
    claude = catalog.resolve("claude").deployments[0]
    assert (claude.adapter, claude.upstream_model) == ("litellm", "anthropic/claude-3-5")
    assert claude.params["litellm_extra"] == {"api_version": "2024"}
    assert claude.input_price_per_mtok == pytest.approx(3.0)


def test_every_reference_problem_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        load(
            tmp_path,
            """
model_list:
  - model_name: a
    litellm_params: {model: mock/x, api_version: "1"}
    model_info: {id: same}
  - model_name: b
    litellm_params: {model: mock/y, input_cost_per_token: 1}
    model_info: {id: same, input_price_per_mtok: 1}
routing:
  fallbacks: [{a: [zz]}]
  model_group_alias: {al: nope}
""",
        )
    text = "\n".join(info.value.problems)
    assert "model_list[0].litellm_params.api_version: unknown key" in text
    assert "duplicate deployment id 'same'" in text
    assert "set either" in text
    assert "unknown fallback group 'zz'" in text
    assert "routing.model_group_alias.al: unknown model group 'nope'" in text
    assert len(info.value.problems) == 5


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model_list:\n  - model_name: a\n    litellm_params: {api_base: x}\n")
    with pytest.raises(ConfigurationError) as info:
        load_settings(str(cfg), {})
    assert any("model_list[0].litellm_params.model: missing required key" in p for p in info.value.problems)


def test_model_list_from_environment_json() -> None:
    env = {"ROUTEIQ_MODEL_LIST": '[{"model_name": "m", "litellm_params": {"model": "mock/m"}}]'}
    assert build_catalog(load_settings(None, env)).names() == ["m"]


def test_mock_behaviour_is_validated(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "model_list:\n  - model_name: a\n    litellm_params: {model: mock/a, mock: {latency: 5}}\n"
    )
    with pytest.raises(ConfigurationError) as info:
        load_settings(str(cfg), {})
    assert any("litellm_params.mock.latency: unknown key; did you mean" in p for p in info.value.problems)
