"""A routed model name (`auto`) served by a trained router, through the HTTP path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_adapters.providers.mock import MockBehaviour, MockProvider
from routeiq_app import Container, create_app
from routeiq_app.catalog_builder import build_catalog
from routeiq_app.settings import load_settings
from routeiq_core.catalog import Deployment
from routeiq_core.errors import ConfigurationError
from routeiq_core.routing.learned import (
    HashingEmbedderConfig,
    load_routing_table,
    save_router,
    train_routing_model,
)
from routeiq_core.routing.learned.provider_embedder import ProviderEmbedder


def write_table(path: Path) -> None:
    """Math prompts: only the strong model is right; chit-chat: both are. Strong costs 50x more."""
    rows = []
    for i in range(40):
        math = i % 2 == 0
        prompt = f"solve the integral of x^{i} dx step by step" if math else f"say hello to friend number {i}"
        rows.append(
            {
                "id": f"r{i}",
                "prompt": prompt,
                "task": "math" if math else "chat",
                "scores": {"small-model": 0.0 if math else 1.0, "big-model": 1.0},
                "costs": {"small-model": 0.0001, "big-model": 0.005},
            }
        )
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("router")
    write_table(root / "table.jsonl")
    table = load_routing_table(root / "table.jsonl")
    model = train_routing_model("knn", table, embedder_config=HashingEmbedderConfig(dim=256), seed=0)
    return save_router(model, root / "artifact")


def config(artifact: Path, model_map: str = "{small-model: cheap, big-model: strong}") -> str:
    return f"""
model_list:
  - model_name: cheap
    litellm_params: {{model: mock/cheap, mock: {{content: from cheap}}}}
  - model_name: strong
    litellm_params: {{model: mock/strong, mock: {{content: from strong}}}}
routing:
  routers:
    - name: auto
      artifact: '{artifact}'
      cost_weight: 0
      model_map: {model_map}
"""


@pytest.fixture
def client(artifact: Path, tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config(artifact))
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), {})))
    with TestClient(create_app(container), raise_server_exceptions=False) as c:
        yield c


def ask(client: TestClient[Litestar], prompt: str, **headers: str) -> tuple[int, dict[str, str]]:
    body = {"model": "auto", "messages": [{"role": "user", "content": prompt}]}
    r = client.post("/v1/chat/completions", json=body, headers=headers)
    return r.status_code, dict(r.headers)


def test_hard_prompt_goes_to_the_strong_model_when_quality_matters(client: TestClient[Litestar]) -> None:
    status, headers = ask(client, "solve the integral of x^7 dx step by step")
    assert status == 200
    assert headers["x-routeiq-router"] == "auto"
    assert headers["x-routeiq-router-choice"] == "strong"
    assert headers["x-routeiq-model-group"] == "strong"
    assert "predicted quality" in headers["x-routeiq-router-reason"]


def test_easy_prompt_goes_to_the_cheap_model_with_a_cost_preference(client: TestClient[Litestar]) -> None:
    _, headers = ask(client, "say hello to friend number 99", **{"x-routeiq-cost-weight": "10"})
    assert headers["x-routeiq-router-choice"] == "cheap"


def test_a_huge_cost_weight_picks_the_cheapest_even_for_hard_prompts(client: TestClient[Litestar]) -> None:
    _, headers = ask(client, "solve the integral of x^3 dx step by step", **{"x-routeiq-cost-weight": "1e9"})
    assert headers["x-routeiq-router-choice"] == "cheap"


def test_body_extension_sets_the_preference_and_bad_values_are_400(client: TestClient[Litestar]) -> None:
    body = {
        "model": "auto",
        "messages": [{"role": "user", "content": "solve the integral of x^3 dx step by step"}],
        "routeiq": {"cost_weight": 1e9},
    }
    r = client.post("/v1/chat/completions", json=body)
    assert r.headers["x-routeiq-router-choice"] == "cheap"
    status, _ = ask(client, "hi", **{"x-routeiq-cost-weight": "-1"})
    assert status == 400


def test_reload_swaps_and_a_tampered_artifact_is_refused(
    client: TestClient[Litestar], artifact: Path
) -> None:
    first = client.post("/admin/routers/auto/reload")
    assert first.status_code == 200
    assert first.json()["registry_version"] >= 1
    victim = next(p for p in artifact.rglob("*.npy"))
    original = victim.read_bytes()
    try:
        victim.write_bytes(original[:-8])
        refused = client.post("/admin/routers/auto/reload")
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "invalid_artifact"
        assert ask(client, "say hello")[0] == 200  # the loaded router keeps serving
    finally:
        victim.write_bytes(original)


def test_config_checks_the_model_map(artifact: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config(artifact, model_map="{small-model: cheap}"))
    with pytest.raises(ConfigurationError) as info:
        build_catalog(load_settings(str(cfg), {}))
    assert "'big-model' maps to 'big-model', which is not a model group" in info.value.problems[0]


def test_a_router_on_an_embeddings_deployment(tmp_path: Path) -> None:
    """The router embeds prompts through the gateway's own embeddings deployment (provider port)."""
    write_table(tmp_path / "table.jsonl")
    embed = Deployment(
        id="embed-0",
        model_group="embed",
        adapter="mock",
        upstream_model="embedder",
        params={"mock": MockBehaviour(embedding_dim=32)},
    )
    embedder = ProviderEmbedder(MockProvider(), embed, dim=32)
    model = train_routing_model(
        "knn", load_routing_table(tmp_path / "table.jsonl"), embedder=embedder, seed=0
    )
    artifact = save_router(model, tmp_path / "artifact")
    cfg = tmp_path / "c.yaml"
    embed_group = (
        "  - model_name: embed\n    litellm_params: {model: mock/embedder, mock: {embedding_dim: 32}}\n"
    )
    cfg.write_text(config(artifact).replace("model_list:\n", "model_list:\n" + embed_group, 1))
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), {})))
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        status, headers = ask(client, "solve the integral of x^7 dx step by step")
    assert status == 200
    assert headers["x-routeiq-router-choice"] in {"cheap", "strong"}
