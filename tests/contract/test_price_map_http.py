"""Prices from the model price map on the HTTP path: the admin view, spend and budgets (in process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from tests.support.fake_upstream import USAGE, FakeUpstream

MASTER = "sk-master-test-key"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
PRICES = {
    "gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "max_input_tokens": 128000}
}
CALL_COST = (USAGE["prompt_tokens"] * 2.5 + USAGE["completion_tokens"] * 10) / 1e6


def config(upstream: str, prices: Path) -> str:
    return f"""
model_list:
  - model_name: gpt
    litellm_params: {{model: openai/gpt-4o, api_base: "{upstream}", api_key: sk-upstream}}
  - model_name: priced
    litellm_params: {{model: openai/gpt-4o, api_base: "{upstream}", api_key: sk-upstream}}
    model_info: {{input_price_per_mtok: 1, output_price_per_mtok: 1}}
  - model_name: mock
    litellm_params: {{model: mock/gpt-4o}}
routing:
  price_map: "{prices}"
"""


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(PRICES))
    with FakeUpstream() as upstream:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(config(upstream.base_url, prices))
        env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db")}
        container = Container()
        container.settings.override(providers.Object(load_settings(str(cfg), env)))
        with TestClient(create_app(container), raise_server_exceptions=False) as c:
            yield c


def chat(client: TestClient[Litestar], key: str, model: str) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}
    return client.post(
        "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
    ).status_code


def issue(client: TestClient[Litestar], **body: object) -> str:
    r = client.post("/admin/keys", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def test_admin_deployments_shows_prices_and_their_source(client: TestClient[Litestar]) -> None:
    rows = {d["id"]: d for d in client.get("/admin/deployments", headers=ADMIN).json()}
    shown = {
        name: (
            d["input_price_per_mtok"],
            d["output_price_per_mtok"],
            d["price_source"],
            d["max_context_tokens"],
        )
        for name, d in rows.items()
    }
    assert shown == {
        "gpt-0": (pytest.approx(2.5), pytest.approx(10.0), "price_map", 128000),
        "priced-0": (1.0, 1.0, "config", 128000),
        "mock-0": (0.0, 0.0, "none", None),
    }


def test_spend_of_a_deployment_priced_from_the_map(client: TestClient[Litestar]) -> None:
    key = issue(client, team="t1")
    assert chat(client, key, "gpt") == 200
    spend = client.get("/admin/spend", headers=ADMIN).json()
    assert spend["total"]["requests"] == 1
    assert spend["total"]["cost"] == pytest.approx(CALL_COST)


def test_a_budget_bites_on_the_map_price_and_not_on_an_unpriced_mock(client: TestClient[Litestar]) -> None:
    budget = {"max_spend": 2.5 * CALL_COST, "window": "day"}
    key = issue(client, budget=budget)
    codes = [chat(client, key, "gpt") for _ in range(4)]
    assert codes[:2] == [200, 200]
    assert codes[-1] == 429
    unpriced = issue(client, budget=budget)
    assert [chat(client, unpriced, "mock") for _ in range(4)] == [200] * 4
