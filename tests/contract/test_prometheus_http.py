"""``GET /metrics`` over HTTP: the Prometheus exposition, its access rule, and the whole node's totals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from tests.support.gateway_process import GatewayProcess

MASTER = "sk-master-metrics-0123456789"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
CONFIG = """
model_list:
  - model_name: demo
    litellm_params: {model: mock/demo, mock: {prompt_tokens: 10, completion_tokens: 5}}
"""
CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample by its name, parsed as Prometheus parses the exposition."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(found: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for ls, v in found.get(name, []) if labels.items() <= ls.items())


def make_client(tmp_path: Path, **env: str) -> TestClient[Litestar]:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    base = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db")}
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), {**base, **env})))
    return TestClient(create_app(container), raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    with make_client(tmp_path) as c:
        yield c


def test_metrics_need_a_key_with_metrics_read(client: TestClient[Litestar]) -> None:
    assert client.get("/metrics").status_code == 401
    member = client.post("/admin/keys", json={"role": "member"}, headers=ADMIN).json()["key"]
    assert client.get("/metrics", headers={"Authorization": f"Bearer {member}"}).status_code == 403
    viewer = client.post("/admin/keys", json={"role": "viewer"}, headers=ADMIN).json()["key"]
    reply = client.get("/metrics", headers={"Authorization": f"Bearer {viewer}"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")


def test_metrics_can_be_public(tmp_path: Path) -> None:
    with make_client(tmp_path, ROUTEIQ_OBSERVABILITY__METRICS_PUBLIC="true") as c:
        assert c.get("/metrics").status_code == 200


def test_a_call_shows_up_as_genai_and_gateway_metrics(client: TestClient[Litestar]) -> None:
    for _ in range(3):
        assert client.post("/v1/chat/completions", json=CHAT, headers=ADMIN).status_code == 200
    assert client.post("/v1/chat/completions", json={"model": "nope"}, headers=ADMIN).status_code in (
        400,
        404,
    )
    found = samples(client.get("/metrics", headers=ADMIN).text)
    assert value(found, "routeiq_requests_total", surface="openai", status="200") == 3
    assert value(found, "routeiq_requests_total", surface="openai") == 4
    genai = {
        "gen_ai_operation_name": "chat",
        "gen_ai_provider_name": "routeiq.mock",
        "gen_ai_request_model": "demo",
    }
    assert value(found, "gen_ai_client_operation_duration_seconds_count", **genai) == 3
    assert value(found, "gen_ai_client_token_usage_sum", gen_ai_token_type="input", **genai) == 30
    assert value(found, "gen_ai_client_token_usage_sum", gen_ai_token_type="output", **genai) == 15
    assert value(found, "routeiq_breaker_state", deployment="demo-0", state="closed") == 1
    assert value(found, "routeiq_requests_in_flight") == 1  # the scrape itself
    assert "routeiq_requests_shed_total" in found


def test_a_stream_records_its_time_to_first_chunk(client: TestClient[Litestar]) -> None:
    with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}, headers=ADMIN) as r:
        assert r.status_code == 200
        r.read()
    found = samples(client.get("/metrics", headers=ADMIN).text)
    assert value(found, "gen_ai_client_operation_time_to_first_chunk_seconds_count") == 1
    assert value(found, "gen_ai_client_operation_duration_seconds_count") == 1


def test_the_node_reports_the_sum_of_its_workers() -> None:
    """Two workers: every scrape, whichever worker answers it, reports every call the node served."""
    calls = 40
    env = {"ROUTEIQ_SERVER__WORKERS": "2", "ROUTEIQ_SECURITY__MASTER_KEY": MASTER}
    with GatewayProcess(CONFIG, env=env) as gw:
        for _ in range(calls):  # a new connection each: the kernel spreads them over the workers
            client = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=MASTER, max_retries=0)
            client.chat.completions.create(model="demo", messages=[{"role": "user", "content": "hi"}])
            client.close()
        per_worker = set()
        deadline = time.monotonic() + 20
        totals: list[float] = []
        while time.monotonic() < deadline:
            with httpx.Client() as fresh:  # a new connection: any worker may answer
                text = fresh.get(gw.base_url + "/metrics", headers=ADMIN).text
                points = fresh.get(gw.base_url + "/admin/metrics", headers=ADMIN).json()
            totals.append(value(samples(text), "routeiq_requests_total", surface="openai", status="200"))
            per_worker.add(
                sum(
                    p["value"]
                    for p in points
                    if p["name"] == "routeiq_requests" and p["labels"].get("status") == "200"
                )
            )
            if totals[-1] == calls and len(totals) >= 6 and totals[-6:] == [calls] * 6:
                break
            time.sleep(0.3)
        assert totals[-6:] == [calls] * 6, totals
        tokens = value(samples(text), "gen_ai_client_token_usage_count", gen_ai_token_type="input")
        assert tokens == calls
    assert any(n < calls for n in per_worker), "one worker served everything: the test proved nothing"
