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


def test_ab_experiment_is_sticky_per_user_and_counts_outcomes(tmp_path: Path) -> None:
    env = {
        "ROUTEIQ_ROUTING__EXPERIMENT__NAME": "rr-vs-cost",
        "ROUTEIQ_ROUTING__EXPERIMENT__KEY": "user",
        "ROUTEIQ_ROUTING__EXPERIMENT__ARMS": '[{"name": "rr", "strategy": "round-robin"},'
        ' {"name": "cheap", "strategy": "cost-based"}]',
    }
    with client_for(tmp_path, env) as client:
        for user in (f"user-{i}" for i in range(30)):
            client.post("/v1/chat/completions", json={**CHAT, "user": user})
        before = client.get("/admin/routing").json()
        assert before["strategy"] == "rr-vs-cost"
        arms = before["experiment"]
        assert arms["rr"]["assignments"] > 0
        assert arms["cheap"]["assignments"] > 0
        assert arms["rr"]["successes"] + arms["cheap"]["successes"] == 30
        for _ in range(10):
            client.post("/v1/chat/completions", json={**CHAT, "user": "sticky"})
        after = client.get("/admin/routing").json()["experiment"]
        grew = [name for name in ("rr", "cheap") if after[name]["assignments"] != arms[name]["assignments"]]
        assert len(grew) == 1  # all ten requests of one user went to one arm


def test_bandit_learns_from_outcomes(tmp_path: Path) -> None:
    env = {"ROUTEIQ_ROUTING__BANDIT__STRATEGIES": "round-robin,cost-based"}
    with client_for(tmp_path, env) as client:
        for _ in range(20):
            assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
        bandit = client.get("/admin/routing").json()["bandit"]
    assert sum(arm["pulls"] for arm in bandit.values()) == 20
    # every success added reward 1 to its strategy's Beta(1, 1) prior: alpha - 1 sums to 20
    assert sum(arm["alpha"] - 1 for arm in bandit.values()) == pytest.approx(20)


def test_bandit_learns_from_evaluator_scores_when_weighted(tmp_path: Path) -> None:
    env = {
        "ROUTEIQ_ROUTING__BANDIT__STRATEGIES": "round-robin,cost-based",
        "ROUTEIQ_ROUTING__BANDIT__QUALITY_WEIGHT": "2",
        "ROUTEIQ_PLUGINS__ENABLED": "evaluator",
    }
    with client_for(tmp_path, env) as client:
        for _ in range(10):
            assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
        bandit = client.get("/admin/routing").json()["bandit"]
        scores = [m for m in client.get("/admin/metrics").json() if m["name"] == "routeiq_quality_score"]
    assert sum(arm["pulls"] for arm in bandit.values()) == 10
    # Beta(1, 1) priors; each request adds 1 (its outcome) plus 2 (its weighted quality score).
    assert sum(arm["alpha"] + arm["beta"] - 2 for arm in bandit.values()) == pytest.approx(10 * 3)
    assert scores  # the same scores the bandit heard are observed as metrics


def test_experiment_and_bandit_together_is_a_config_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    env = {
        "ROUTEIQ_ROUTING__EXPERIMENT__ARMS": '[{"name": "a", "strategy": "round-robin"}]',
        "ROUTEIQ_ROUTING__BANDIT__STRATEGIES": "round-robin",
    }
    with pytest.raises(ConfigurationError, match="not both"):
        build_catalog(load_settings(str(cfg), env))
