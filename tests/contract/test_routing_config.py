"""Deployment strategies chosen in the config, through the HTTP path."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from dependency_injector import providers
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.catalog_builder import build_catalog
from routeiq_app.settings import load_settings
from routeiq_core.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """
model_list:
  - model_name: g
    litellm_params: {model: mock/a, tags: [eu], mock: {content: a}}
    model_info: {id: a, input_price_per_mtok: 5}
  - model_name: g
    litellm_params: {model: mock/b, tags: [us], mock: {content: b}}
    model_info: {id: b, input_price_per_mtok: 1}
"""
CHAT = {"model": "g", "messages": [{"role": "user", "content": "hi"}]}


def client_for(tmp_path: Path, env: dict[str, str]) -> TestClient:  # type: ignore[type-arg]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), env)))
    return TestClient(create_app(container))


def served_by(client: TestClient, n: int = 20, **headers: str) -> Counter[str]:  # type: ignore[type-arg]
    return Counter(
        client.post("/v1/chat/completions", json=CHAT, headers=headers).headers["x-routeiq-deployment"]
        for _ in range(n)
    )


def test_round_robin_alternates(tmp_path: Path) -> None:
    with client_for(tmp_path, {"ROUTEIQ_ROUTING__STRATEGY": "round-robin"}) as client:
        assert served_by(client) == Counter({"a": 10, "b": 10})
        r = client.post("/v1/chat/completions", json=CHAT)
        assert r.headers["x-routeiq-strategy"] == "round-robin"


def test_cost_based_prefers_the_cheaper_deployment(tmp_path: Path) -> None:
    with client_for(tmp_path, {"ROUTEIQ_ROUTING__STRATEGY": "cost-based"}) as client:
        assert served_by(client) == Counter({"b": 20})


def test_tag_filtering_follows_the_request_header(tmp_path: Path) -> None:
    env = {"ROUTEIQ_ROUTING__TAG_FILTERING": "true"}
    with client_for(tmp_path, env) as client:
        assert served_by(client, **{"x-routeiq-tags": "eu"}) == Counter({"a": 20})
        assert served_by(client, **{"x-routeiq-tags": "us"}) == Counter({"b": 20})
        r = client.post("/v1/chat/completions", json=CHAT, headers={"x-routeiq-tags": "eu,us"})
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "no_matching_deployment"


def test_custom_strategy_by_dotted_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    with client_for(tmp_path, {"ROUTEIQ_ROUTING__STRATEGY": "custom_strategy:CheapestHealthy"}) as client:
        assert served_by(client, n=5) == Counter({"b": 5})


def test_unknown_strategy_is_a_config_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    with pytest.raises(ConfigurationError) as info:
        build_catalog(load_settings(str(cfg), {"ROUTEIQ_ROUTING__STRATEGY": "fastest-please"}))
    assert "unknown strategy 'fastest-please'" in info.value.problems[0]


def test_conversation_affinity_keeps_a_conversation_on_one_deployment(tmp_path: Path) -> None:
    with client_for(tmp_path, {"ROUTEIQ_ROUTING__AFFINITY": "true"}) as client:
        for conversation in ("c1", "c2", "c3"):
            served = served_by(client, n=10, **{"x-routeiq-conversation-id": conversation})
            assert len(served) == 1, served  # every request of the conversation on one deployment
        spread = Counter(
            client.post(
                "/v1/chat/completions", json=CHAT, headers={"x-routeiq-conversation-id": f"x{i}"}
            ).headers["x-routeiq-deployment"]
            for i in range(40)
        )
        assert set(spread) == {"a", "b"}  # different conversations still spread by the strategy
        r = client.post("/v1/chat/completions", json=CHAT, headers={"x-routeiq-conversation-id": "c1"})
        assert r.headers["x-routeiq-strategy"] == "simple-shuffle+affinity"
