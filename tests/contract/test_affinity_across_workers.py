"""Conversation affinity across two app instances (two workers, or two nodes) sharing one Redis.

Both instances route with round robin, and instance B is always one turn ahead of A (it serves one
request without a conversation first), so without shared pins they deterministically disagree about
where a new conversation goes: the control test shows it, the other tests show Redis prevents it.
Conversation ids are uuids, so the pins of different runs never collide in Redis.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_adapters.state.redis_affinity import PREFIX
from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings

CONFIG = """
model_list:
  - model_name: g
    litellm_params: {model: mock/a, mock: {content: a}}
    model_info: {id: a}
  - model_name: g
    litellm_params: {model: mock/b, mock: {content: b}}
    model_info: {id: b}
  - model_name: g
    litellm_params: {model: mock/c, mock: {content: c}}
    model_info: {id: c}
"""
CHAT = {"model": "g", "messages": [{"role": "user", "content": "hi"}]}
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"

Client = TestClient[Litestar]


def settings_env(seed: int, redis_url: str | None, *, affinity: bool = True) -> dict[str, str]:
    env = {
        "ROUTEIQ_ROUTING__STRATEGY": "round-robin",
        "ROUTEIQ_ROUTING__SEED": str(seed),
        "ROUTEIQ_ROUTING__AFFINITY": "true" if affinity else "false",
        "ROUTEIQ_ROUTING__AFFINITY_TTL_S": "120",  # leftovers of an interrupted run expire soon
    }
    if redis_url is not None:
        env["ROUTEIQ_STATE__REDIS_URL"] = redis_url
    return env


def client_for(tmp_path: Path, env: dict[str, str]) -> Client:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), env)))
    return TestClient(create_app(container))


@contextmanager
def two_instances(tmp_path: Path, redis_url: str | None) -> Iterator[tuple[Client, Client]]:
    """Instances A and B of one configuration; B's round robin is one turn ahead of A's."""
    with (
        client_for(tmp_path, settings_env(1, redis_url)) as a,
        client_for(tmp_path, settings_env(2, redis_url)) as b,
    ):
        warm_up = b.post("/v1/chat/completions", json=CHAT)  # no conversation: only turns B's counter
        assert warm_up.status_code == 200, warm_up.text
        yield a, b


def served(client: Client, conversation: str) -> str:
    r = client.post("/v1/chat/completions", json=CHAT, headers={"x-routeiq-conversation-id": conversation})
    assert r.status_code == 200, r.text
    assert r.headers["x-routeiq-strategy"] == "round-robin+affinity"
    return r.headers["x-routeiq-deployment"]


def alternate(a: Client, b: Client, conversations: list[str], rounds: int) -> dict[str, list[str]]:
    """Each round sends every conversation once, switching instance per conversation and per round."""
    history: dict[str, list[str]] = {c: [] for c in conversations}
    for r in range(rounds):
        for i, conversation in enumerate(conversations):
            history[conversation].append(served((a, b)[(i + r) % 2], conversation))
    return history


@pytest.fixture
def conversation_ids(redis_url: str) -> Iterator[list[str]]:
    """Fresh conversation ids; their pins are deleted from Redis afterwards."""
    ids = [f"conv-{uuid.uuid4().hex}" for _ in range(6)]
    yield ids
    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(*(f"{PREFIX}default:g\x1f{c}" for c in ids))
    finally:
        client.close()


def test_a_conversation_started_on_one_instance_stays_put_on_the_other(
    tmp_path: Path, redis_url: str, conversation_ids: list[str]
) -> None:
    conversation = conversation_ids[0]
    with two_instances(tmp_path, redis_url) as (a, b):
        first = served(a, conversation)
        on_b = [served(b, conversation) for _ in range(5)]
        back_on_a = [served(a, conversation) for _ in range(3)]
        assert on_b == [first] * 5
        assert back_on_a == [first] * 3
        ready = b.get("/health/ready")
    assert ready.status_code == 200
    components = {c["name"]: c for c in ready.json()["components"]}
    assert components["affinity-store"] == {"name": "affinity-store", "status": "ok", "reason": None}


def test_alternating_conversations_each_stay_on_their_deployment(
    tmp_path: Path, redis_url: str, conversation_ids: list[str]
) -> None:
    conversations = conversation_ids[:4]
    with two_instances(tmp_path, redis_url) as (a, b):
        history = alternate(a, b, conversations, rounds=4)
    for conversation, deployments in history.items():
        assert len(set(deployments)) == 1, (conversation, deployments)
    assert len({deployments[0] for deployments in history.values()}) > 1, history  # they still spread


def test_control_without_redis_the_instances_disagree(tmp_path: Path) -> None:
    conversations = [f"conv-{uuid.uuid4().hex}" for _ in range(4)]
    with two_instances(tmp_path, None) as (a, b):
        first = served(a, conversations[0])
        assert served(b, conversations[0]) != first  # B's own round robin decides
        history = alternate(a, b, conversations[1:], rounds=4)
        ready = a.get("/health/ready")
    assert any(len(set(deployments)) > 1 for deployments in history.values()), history
    assert "affinity-store" not in {c["name"] for c in ready.json()["components"]}


def test_the_shared_store_needs_both_affinity_and_a_redis_url(tmp_path: Path, redis_url: str) -> None:
    with client_for(tmp_path, settings_env(1, redis_url, affinity=False)) as client:
        r = client.post("/v1/chat/completions", json=CHAT, headers={"x-routeiq-conversation-id": "c"})
        assert r.headers["x-routeiq-strategy"] == "round-robin"
        components = client.get("/health/ready").json()["components"]
    assert "affinity-store" not in {c["name"] for c in components}


def test_an_unreachable_redis_degrades_readiness_but_not_requests(tmp_path: Path) -> None:
    conversation = f"conv-{uuid.uuid4().hex}"
    with client_for(tmp_path, settings_env(1, CLOSED_PORT_URL)) as client:
        first = served(client, conversation)
        assert [served(client, conversation) for _ in range(4)] == [first] * 4  # local pins still hold
        ready = client.get("/health/ready")
    assert ready.status_code == 200  # degraded still serves
    body = ready.json()
    components = {c["name"]: c for c in body["components"]}
    assert components["affinity-store"]["status"] == "degraded"
    assert "per worker" in components["affinity-store"]["reason"]
    assert body["status"] == "degraded"
