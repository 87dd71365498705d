"""The OpenAI routes in process (Litestar TestClient) over the mock provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture
def settings() -> Settings:
    return load_settings(str(ROOT / "examples" / "demo-config.yaml"), {"ROUTEIQ_ROUTING__SEED": "7"})


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("prefix", ["/v1", ""])
def test_chat_completion_with_route_headers(client: TestClient[Litestar], prefix: str) -> None:
    r = client.post(f"{prefix}/chat/completions", json=CHAT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert (
        body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )
    assert r.headers["x-routeiq-model-group"] == "demo"
    assert r.headers["x-routeiq-deployment"] in {"demo-0", "demo-1"}
    assert r.headers["x-routeiq-strategy"] == "simple-shuffle"
    assert r.headers["x-routeiq-attempts"] == "1"
    assert r.headers["x-request-id"]


def test_alias_routes_to_its_group(client: TestClient[Litestar]) -> None:
    r = client.post("/v1/chat/completions", json={**CHAT, "model": "gpt-4o-mini"})
    assert r.headers["x-routeiq-model-group"] == "demo"


def test_streaming_sse(client: TestClient[Litestar]) -> None:
    with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-routeiq-deployment"]
        text = "".join(r.iter_text())
    events = [e for e in text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    chunks = [msgspec.json.decode(e[len("data: ") :]) for e in events[:-1]]
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert content.startswith("Hello from")
    assert all("usage" not in c for c in chunks)  # not asked for


def test_streaming_usage_when_asked(client: TestClient[Litestar]) -> None:
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    with client.stream("POST", "/v1/chat/completions", json=body) as r:
        text = "".join(r.iter_text())
    usage_events = [e for e in text.split("\n\n") if '"usage"' in e]
    assert len(usage_events) == 1


def test_completions_and_embeddings(client: TestClient[Litestar]) -> None:
    r = client.post("/v1/completions", json={"model": "demo", "prompt": "Say hi"})
    assert r.status_code == 200
    assert r.json()["object"] == "text_completion"
    e = client.post("/v1/embeddings", json={"model": "demo-embed", "input": ["a", "b"]})
    assert e.status_code == 200
    assert [len(d["embedding"]) for d in e.json()["data"]] == [16, 16]


def test_models_list_and_retrieve(client: TestClient[Litestar]) -> None:
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert ids == ["demo", "gpt-4o-mini", "demo-embed"]
    assert client.get("/v1/models/demo").json()["id"] == "demo"
    assert client.get("/models/nope").status_code == 404


def test_unknown_model_is_404_listing_groups(client: TestClient[Litestar]) -> None:
    r = client.post("/v1/chat/completions", json={**CHAT, "model": "gpt-9"})
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "model_not_found"
    assert err["param"] == "model"
    assert "demo, demo-embed" in err["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "demo"}, "messages"),
        ({"model": "demo", "messages": "hi"}, "messages"),
        ({**CHAT, "max_tokens": "many"}, "max_tokens"),
        ({**CHAT, "temperature": 7}, "temperature"),
        ({"messages": CHAT["messages"]}, "model"),
    ],
)
def test_invalid_body_names_the_field(client: TestClient[Litestar], body: dict, param: str) -> None:  # type: ignore[type-arg]
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    assert err["param"] == param, err
    assert param in err["message"]


@pytest.mark.parametrize("raw", [b"{nope", b"[1, 2]", b""])
def test_malformed_json_is_400(client: TestClient[Litestar], raw: bytes) -> None:
    r = client.post("/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_json"


def test_get_on_an_operation_is_405(client: TestClient[Litestar]) -> None:
    assert client.get("/v1/chat/completions").status_code == 405


def test_embeddings_cannot_stream(client: TestClient[Litestar]) -> None:
    r = client.post("/v1/embeddings", json={"model": "demo-embed", "input": "x", "stream": True})
    assert r.status_code == 400


def test_passthrough_of_unmodelled_fields(client: TestClient[Litestar], app: Litestar) -> None:
    body = {**CHAT, "tools": [{"type": "function", "function": {"name": "f"}}], "logprobs": True}
    assert client.post("/v1/chat/completions", json=body).status_code == 200


def test_body_limit_is_413(settings: Settings) -> None:
    small = msgspec.structs.replace(
        settings, server=msgspec.structs.replace(settings.server, max_request_body_bytes=100)
    )
    c = Container()
    c.settings.override(providers.Object(small))
    with TestClient(create_app(c)) as tc:
        r = tc.post(
            "/v1/chat/completions", json={**CHAT, "messages": [{"role": "user", "content": "x" * 500}]}
        )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large"


def test_shed_requests_never_reach_a_provider(client: TestClient[Litestar], app: Litestar) -> None:
    container = app.state.container
    limiter, mock = container.limiter(), container.mock_provider()
    before = mock.calls
    limiter.in_flight = limiter.limit
    try:
        r = client.post("/v1/chat/completions", json=CHAT)
    finally:
        limiter.in_flight = 0
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    assert mock.calls == before


def test_admin_deployments_and_metrics(client: TestClient[Litestar]) -> None:
    client.post("/v1/chat/completions", json=CHAT)
    states = client.get("/admin/deployments").json()
    assert {s["id"] for s in states} == {"demo-0", "demo-1", "demo-embed-0"}
    assert all(s["breaker"] == "closed" for s in states)
    served = [s for s in states if s["stats"]["total_requests"] == 1]
    assert len(served) == 1
    assert served[0]["stats"]["in_flight"] == 0
    names = {m["name"] for m in client.get("/admin/metrics").json()}
    assert "routeiq_prompt_tokens" in names


def test_ready_lists_deployments_component(client: TestClient[Litestar]) -> None:
    components = {c["name"]: c for c in client.get("/health/ready").json()["components"]}
    assert components["deployments"]["status"] == "ok"


class TestMasterKey:
    @pytest.fixture
    def settings(self) -> Settings:
        env = {"ROUTEIQ_SECURITY__MASTER_KEY": "sk-master"}
        return load_settings(str(ROOT / "examples" / "demo-config.yaml"), env)

    def test_missing_and_wrong_key_are_401(self, client: TestClient[Litestar]) -> None:
        r = client.post("/v1/chat/completions", json=CHAT)
        assert r.status_code == 401
        assert r.json()["error"]["type"] == "authentication_error"
        bad = client.post("/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        assert client.get("/v1/models").status_code == 401
        assert client.get("/admin/deployments").status_code == 401

    def test_right_key_passes_and_health_stays_open(self, client: TestClient[Litestar]) -> None:
        ok = client.post("/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer sk-master"})
        assert ok.status_code == 200
        assert client.get("/health/ready").status_code == 200
