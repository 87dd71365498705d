"""The admin endpoints the dashboard's screens added, over HTTP, with their RBAC.

``/admin/audit/verify`` (the CLI's verification, tampering found), ``/admin/system`` (config hash,
plugins, readiness), ``/admin/metrics/node``, ``/admin/routing/explain`` (a trained router's choice),
``/admin/spend/daily`` and ``/admin/spend/burndown``, and clearing a key's or team's last limit.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.routes.admin_system import OPTIONAL_SECTIONS
from routeiq_app.settings import load_settings
from routeiq_core.routing.learned import (
    HashingEmbedderConfig,
    load_routing_table,
    save_router,
    train_routing_model,
)
from tests.contract.test_model_router_http import write_table

MASTER = "sk-master-dashboard-api"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
CONFIG = """
model_list:
  - model_name: cheap
    litellm_params:
      model: mock/cheap
      mock: {{content: from cheap, prompt_tokens: 10, completion_tokens: 5}}
    model_info: {{input_price_per_mtok: 1000, output_price_per_mtok: 2000}}
  - model_name: strong
    litellm_params: {{model: mock/strong, mock: {{content: from strong}}}}
plugins: {{enabled: [cost_tracker]}}
routing:
  routers:
    - name: auto
      artifact: '{artifact}'
      model_map: {{small-model: cheap, big-model: strong}}
"""


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dashboard-router")
    write_table(root / "table.jsonl")
    model = train_routing_model(
        "knn",
        load_routing_table(root / "table.jsonl"),
        embedder_config=HashingEmbedderConfig(dim=256),
        seed=0,
    )
    return save_router(model, root / "artifact")


def make_client(tmp_path: Path, artifact: Path, master: str = MASTER) -> TestClient[Litestar]:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.format(artifact=artifact))
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": master, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db")}
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), env)))
    return TestClient(create_app(container), raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path: Path, artifact: Path) -> Iterator[TestClient[Litestar]]:
    with make_client(tmp_path, artifact) as c:
        yield c


def bearer(client: TestClient[Litestar], role: str, **fields: object) -> dict[str, str]:
    issued = client.post("/admin/keys", json={"role": role, **fields}, headers=ADMIN)
    assert issued.status_code == 201, issued.text
    return {"Authorization": f"Bearer {issued.json()['key']}"}


def chat(client: TestClient[Litestar], headers: dict[str, str], model: str = "cheap") -> None:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    r = client.post("/v1/chat/completions", json=body, headers=headers)
    assert r.status_code == 200, r.text


def test_audit_verify_reports_ok_then_the_first_tampered_entry(
    client: TestClient[Litestar], tmp_path: Path
) -> None:
    auditor = bearer(client, "auditor")
    viewer = bearer(client, "viewer", team="t1")
    ok = client.get("/admin/audit/verify", headers=auditor)
    assert ok.status_code == 200, ok.text
    result = ok.json()
    assert result["ok"] is True
    assert result["size"] >= 3  # config.load and two key.create
    assert result["reason"] is None
    assert client.get("/admin/audit/verify", headers=viewer).status_code == 403
    with sqlite3.connect(tmp_path / "keys-audit.db") as conn:
        conn.execute("UPDATE routeiq_audit_log SET body = replace(body, 'auditor', 'admin') WHERE seq = 1")
    bad = client.get("/admin/audit/verify", headers=ADMIN).json()
    assert bad["ok"] is False
    assert bad["index"] == 1
    assert "entry 1" in bad["reason"]


def test_system_reports_a_stable_redacted_config_hash_and_plugins(
    client: TestClient[Litestar], tmp_path: Path, artifact: Path
) -> None:
    r = client.get("/admin/system", headers=ADMIN)
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["config_hash"].startswith("sha256:")
    assert MASTER not in r.text
    assert [p["name"] for p in info["plugins"]] == ["cost_tracker"]
    assert info["plugins"][0]["state"] == "active"
    assert {c["name"] for c in info["readiness"]["components"]} >= {"plugins"}
    assert info["routed_models"] == 1
    served = client.app.route_handler_method_map
    assert info["sections"] == [n for n, p in OPTIONAL_SECTIONS.items() if p in served]
    assert "mcp_servers" in info["sections"]  # the MCP gateway's read-out; no A2A one yet
    viewer = client.get("/admin/system", headers=bearer(client, "viewer", team="t1"))
    assert viewer.json()["config_hash"] == info["config_hash"]
    assert client.get("/admin/system", headers=bearer(client, "member")).status_code == 403
    other = tmp_path / "other"
    other.mkdir()
    with make_client(other, artifact, master="sk-another-master-key") as second:
        # Another process, another secret and database path: only the path shows in the hash.
        again = second.get("/admin/system", headers={"Authorization": "Bearer sk-another-master-key"})
    assert again.json()["config_hash"] != info["config_hash"]  # keys.sqlite_path differs


def test_config_hash_ignores_secrets_only(tmp_path: Path, artifact: Path) -> None:
    from routeiq_app.settings.fingerprint import config_hash, redacted_settings

    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.format(artifact=artifact))
    one = load_settings(str(cfg), {"ROUTEIQ_SECURITY__MASTER_KEY": "sk-one-1234567890"})
    two = load_settings(str(cfg), {"ROUTEIQ_SECURITY__MASTER_KEY": "sk-two-1234567890"})
    three = load_settings(str(cfg), {"ROUTEIQ_SERVER__PORT": "4111"})
    assert config_hash(one) == config_hash(two)
    assert config_hash(one) != config_hash(three)
    assert redacted_settings(one)["security"]["master_key"] == "<redacted>"
    dsn = load_settings(str(cfg), {"ROUTEIQ_STATE__REDIS_URL": "redis://user:pw@h:6379/0"})
    assert "pw" not in str(redacted_settings(dsn))


def test_node_metrics_count_the_calls_now_and_over_time(client: TestClient[Litestar]) -> None:
    chat(client, ADMIN)
    r = client.get("/admin/metrics/node", headers=ADMIN)
    assert r.status_code == 200, r.text
    body = r.json()
    now = body["now"]
    assert now["requests"] == 1  # the call; not the admin API's own requests
    assert now["errors"] == 0
    assert now["latency_s"]["count"] == 1
    assert now["prompt_tokens"] == 10
    assert now["spend"] == pytest.approx(0.02)
    assert now["at"] == pytest.approx(time.time(), abs=60)
    assert body["interval_s"] == 20
    assert body["samples"]  # sampled once at startup, then every interval
    assert body["samples"][0]["requests"] == 0
    client.post("/v1/chat/completions", json={"model": "cheap", "messages": []}, headers=ADMIN)
    assert client.get("/admin/metrics/node", headers=ADMIN).json()["now"]["errors"] == 1
    assert client.get("/admin/metrics/node", headers=bearer(client, "viewer", team="t")).status_code == 200
    assert client.get("/admin/metrics/node", headers=bearer(client, "member")).status_code == 403


def test_routing_explain_gives_the_routers_choice_and_scores(client: TestClient[Litestar]) -> None:
    hard = client.post(
        "/admin/routing/explain",
        json={"model": "auto", "prompt": "solve the integral of x^3 dx step by step"},
        headers=ADMIN,
    )
    assert hard.status_code == 200, hard.text
    answer = hard.json()
    assert answer["model_group"] == "strong"
    assert answer["model"] == "big-model"
    assert {c["model_group"] for c in answer["candidates"]} == {"cheap", "strong"}
    assert [c["chosen"] for c in answer["candidates"]].count(True) == 1
    assert "predicted quality" in answer["reason"]
    easy = client.post(
        "/admin/routing/explain",
        json={"model": "auto", "prompt": "say hello to friend number 7", "cost_weight": 1000},
        headers=ADMIN,
    )
    assert easy.json()["model_group"] == "cheap"
    assert easy.json()["cost_weight"] == 1000
    assert client.get("/admin/routing", headers=ADMIN).json()["routed"][0]["name"] == "auto"
    refused = client.post("/admin/routing/explain", json={"model": "cheap", "prompt": "x"}, headers=ADMIN)
    assert refused.status_code == 400
    assert "not a routed model" in refused.json()["error"]["message"]
    for body in (
        {"model": "auto"},
        {"model": "auto", "prompt": " "},
        {"model": "auto", "prompt": "x", "x": 1},
    ):
        assert client.post("/admin/routing/explain", json=body, headers=ADMIN).status_code == 400, body
    viewer = bearer(client, "viewer", team="t")
    assert (
        client.post(
            "/admin/routing/explain", json={"model": "auto", "prompt": "x"}, headers=viewer
        ).status_code
        == 403
    )


def test_spend_by_day_and_budget_burndown(client: TestClient[Litestar]) -> None:
    issued = client.post(
        "/admin/keys", json={"role": "member", "team": "t1", "budget": {"max_spend": 100.0}}, headers=ADMIN
    ).json()
    chat(client, {"Authorization": f"Bearer {issued['key']}"})
    daily = client.get("/admin/spend/daily", params={"days": 7}, headers=ADMIN)
    assert daily.status_code == 200, daily.text
    days = daily.json()["days"]
    assert len(days) == 7
    assert days[-1]["start"] <= time.time() < days[-1]["end"]
    assert days[-1]["cost"] == pytest.approx(0.02)  # 10 in x 1000/Mtok + 5 out x 2000/Mtok
    assert days[-1]["cumulative_cost"] == pytest.approx(0.02)
    assert sum(d["requests"] for d in days[:-1]) == 0
    assert client.get("/admin/spend/daily", params={"days": 0}, headers=ADMIN).status_code == 400
    burn = client.get("/admin/spend/burndown", params={"key_id": issued["key_id"]}, headers=ADMIN)
    assert burn.status_code == 200, burn.text
    b = burn.json()
    assert b["budget"] == {"max_spend": 100.0, "window": "month"}
    assert b["spent"] == pytest.approx(0.02)
    assert b["remaining"] == pytest.approx(99.98)
    assert len(b["points"]) == 30
    assert b["window_end"] - b["window_start"] == 30 * 86_400
    no_budget = client.post("/admin/keys", json={"role": "member"}, headers=ADMIN).json()
    r = client.get("/admin/spend/burndown", params={"key_id": no_budget["key_id"]}, headers=ADMIN)
    assert r.status_code == 400
    assert client.get("/admin/spend/burndown", headers=ADMIN).status_code == 400
    other_team = bearer(client, "viewer", team="t2")
    assert client.get(
        "/admin/spend/burndown", params={"key_id": issued["key_id"]}, headers=other_team
    ).status_code in (
        403,
        404,
    )
    mine = client.get("/admin/spend/daily", params={"days": 1}, headers=other_team).json()
    assert mine["filter"]["team"] == "t2"
    assert mine["days"][0]["requests"] == 0


def test_a_limits_object_replaces_every_limit_and_empty_clears_the_last(client: TestClient[Litestar]) -> None:
    key = client.post("/admin/keys", json={"role": "member", "rpm": 60}, headers=ADMIN).json()
    path = f"/admin/keys/{key['key_id']}"
    assert key["limits"] == {"requests_per_minute": 60}
    assert client.patch(path, json={"limits": {"tpm": 1000}}, headers=ADMIN).json()["limits"] == {
        "total_tokens_per_minute": 1000
    }
    cleared = client.patch(path, json={"limits": {}, "alias": "free"}, headers=ADMIN)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["limits"] == {}
    assert cleared.json()["alias"] == "free"
    assert client.get(path, headers=ADMIN).json()["limits"] == {}
    assert client.patch(path, json={"alias": "x"}, headers=ADMIN).json()["limits"] == {}
    both = client.patch(path, json={"limits": {}, "rpm": 5}, headers=ADMIN)
    assert both.status_code == 400
    assert "not both" in both.json()["error"]["message"]
    assert client.patch(path, json={"limits": [1]}, headers=ADMIN).status_code == 400
    assert client.patch(path, json={"limits": {"rpx": 1}}, headers=ADMIN).status_code == 400
    team = client.post("/admin/teams", json={"team_id": "t9", "limits": {"rpm": 10}}, headers=ADMIN).json()
    assert team["limits"] == {"requests_per_minute": 10}
    assert client.patch("/admin/teams/t9", json={"limits": {}}, headers=ADMIN).json()["limits"] == {}
