"""Traces of calls over HTTP, collected with the OpenTelemetry SDK's in-memory exporter.

The app runs in process; its upstream is a real local OpenAI-compatible server, which shows the
W3C trace context it received. Asserted: the span tree (server → quota reserve, plugin hooks,
upstream attempts) and its GenAI attributes for a chat call, a stream, a failover and a quota refusal.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from routeiq_adapters.otel.sdk import span_pipeline
from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from routeiq_core import span_names
from tests.support.fake_upstream import USAGE, FakeUpstream

MASTER = "sk-master-trace"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CLIENT_SPAN_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{CLIENT_SPAN_ID}-01"


def config(base_url: str) -> str:
    up = f"api_base: '{base_url}', api_key: sk-up"
    return f"""
model_list:
  - model_name: up
    litellm_params: {{model: openai/plain, {up}}}
  - model_name: broken
    litellm_params: {{model: openai/error-503, {up}}}
  - model_name: demo
    litellm_params: {{model: mock/demo}}
routing:
  fallbacks: [{{broken: [up]}}]
resilience:
  num_retries: 0
"""


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def make_app(tmp_path: Path, upstream: FakeUpstream, exporter: InMemorySpanExporter, **env: str) -> Litestar:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config(upstream.base_url))
    environ = {
        "ROUTEIQ_SECURITY__MASTER_KEY": MASTER,
        "ROUTEIQ_KEYS__SQLITE_PATH": ":memory:",
        **env,
    }
    settings = load_settings(str(cfg), environ)
    pipeline = span_pipeline("routeiq-test", {}, [SimpleSpanProcessor(exporter)])
    container = Container()
    container.settings.override(providers.Object(settings))
    container.span_pipeline.override(providers.Object(pipeline))
    return create_app(container)


@pytest.fixture
def client(
    tmp_path: Path, upstream: FakeUpstream, exporter: InMemorySpanExporter
) -> Iterator[TestClient[Litestar]]:
    with TestClient(make_app(tmp_path, upstream, exporter), raise_server_exceptions=False) as c:
        yield c


def finished(exporter: InMemorySpanExporter, server_spans: int = 1) -> list[ReadableSpan]:
    """The spans exported once ``server_spans`` server spans have ended (the server span ends last)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        spans = list(exporter.get_finished_spans())
        if sum(s.kind is SpanKind.SERVER for s in spans) >= server_spans:
            return spans
        time.sleep(0.01)
    raise AssertionError(f"no server span ended: {[s.name for s in exporter.get_finished_spans()]}")


def one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[str]:
    return [s.name for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def chat(model: str, **extra: object) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}


def test_a_chat_call_is_a_server_span_with_an_upstream_client_span_continuing_the_clients_trace(
    client: TestClient[Litestar], exporter: InMemorySpanExporter, upstream: FakeUpstream
) -> None:
    upstream.requests.clear()
    headers = {**ADMIN, "traceparent": TRACEPARENT, "user-agent": "trace-test"}
    body = chat("up", temperature=0.5, max_tokens=50, seed=3, stop="END")
    r = client.post("/v1/chat/completions", json=body, headers=headers)
    assert r.status_code == 200, r.text
    spans = finished(exporter)
    server = one(spans, "POST /v1/chat/completions")
    assert server.kind is SpanKind.SERVER
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == CLIENT_SPAN_ID
    assert {s.context.trace_id for s in spans} == {server.context.trace_id}
    assert sorted(children(spans, server)) == ["chat plain", "routeiq.quota.reserve"]
    s = attrs(server)
    assert s[span_names.HTTP_STATUS] == 200
    assert s[span_names.HTTP_ROUTE] == "/v1/chat/completions"
    assert s[span_names.USER_AGENT] == "trace-test"
    assert s[span_names.REQUEST_ID] == r.headers["x-request-id"]
    assert s[span_names.MODEL_GROUP] == "up"
    assert s[span_names.DEPLOYMENT] == r.headers["x-routeiq-deployment"]
    assert s[span_names.CACHE_HIT] is False
    assert server.status.status_code is StatusCode.UNSET

    attempt = one(spans, "chat plain")
    a = attrs(attempt)
    assert attempt.kind is SpanKind.CLIENT
    assert a[span_names.OPERATION_NAME] == "chat"
    assert a[span_names.PROVIDER_NAME] == "openai"
    assert a[span_names.REQUEST_MODEL] == "plain"
    assert a[span_names.SERVER_ADDRESS] == "127.0.0.1"
    assert a[span_names.SERVER_PORT] == int(upstream.base_url.rsplit(":", 1)[1].split("/")[0])
    assert a[span_names.REQUEST_TEMPERATURE] == 0.5
    assert a[span_names.REQUEST_MAX_TOKENS] == 50
    assert a[span_names.REQUEST_SEED] == 3
    assert a[span_names.REQUEST_STOP_SEQUENCES] == ("END",)
    assert a[span_names.RESPONSE_MODEL] == "plain"
    assert a[span_names.RESPONSE_ID]
    assert a[span_names.RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[span_names.USAGE_INPUT_TOKENS] == USAGE["prompt_tokens"]
    assert a[span_names.USAGE_OUTPUT_TOKENS] == USAGE["completion_tokens"]
    assert (a[span_names.ATTEMPT], a[span_names.FALLBACK], a[span_names.STREAM]) == (1, False, False)
    assert span_names.INPUT_MESSAGES not in a  # content is opt-in

    (sent,) = upstream.requests
    received = sent["headers"]["traceparent"]
    assert received == f"00-{TRACE_ID}-{attempt.context.span_id:016x}-01"
    reserve = one(spans, "routeiq.quota.reserve")
    assert attrs(reserve)[span_names.QUOTA_OUTCOME] == "reserved"


def test_a_stream_keeps_its_attempt_span_open_until_the_last_chunk(
    client: TestClient[Litestar], exporter: InMemorySpanExporter
) -> None:
    with client.stream("POST", "/v1/chat/completions", json=chat("up", stream=True), headers=ADMIN) as r:
        assert r.status_code == 200
        text = "".join(r.iter_text())
    assert text.endswith("data: [DONE]\n\n")
    spans = finished(exporter)
    attempt = one(spans, "chat plain")
    a = attrs(attempt)
    assert a[span_names.STREAM] is True
    assert a[span_names.USAGE_INPUT_TOKENS] == USAGE["prompt_tokens"]
    assert a[span_names.RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[span_names.RESPONSE_MODEL] == "plain"
    server = one(spans, "POST /v1/chat/completions")
    assert attempt.end_time is not None
    assert server.end_time is not None
    assert attempt.end_time <= server.end_time
    assert attempt.parent is not None
    assert attempt.parent.span_id == server.context.span_id


def test_a_failover_is_two_client_spans_the_first_failed(
    client: TestClient[Litestar], exporter: InMemorySpanExporter
) -> None:
    r = client.post("/v1/chat/completions", json=chat("broken"), headers=ADMIN)
    assert r.status_code == 200, r.text
    spans = finished(exporter)
    failed, served = one(spans, "chat error-503"), one(spans, "chat plain")
    f, s = attrs(failed), attrs(served)
    assert failed.status.status_code is StatusCode.ERROR
    assert f[span_names.ERROR_TYPE] == "503"
    assert (f[span_names.ATTEMPT], f[span_names.FALLBACK], f[span_names.MODEL_GROUP]) == (1, False, "broken")
    assert (s[span_names.ATTEMPT], s[span_names.FALLBACK], s[span_names.MODEL_GROUP]) == (2, True, "up")
    assert served.status.status_code is StatusCode.UNSET
    assert failed.end_time is not None
    assert served.start_time is not None
    assert failed.end_time <= served.start_time


def test_a_quota_refusal_fails_the_reserve_span_and_calls_no_upstream(
    client: TestClient[Litestar], exporter: InMemorySpanExporter
) -> None:
    r = client.post("/admin/keys", json={"rpm": 1}, headers=ADMIN)
    assert r.status_code == 201, r.text
    key = {"Authorization": f"Bearer {r.json()['key']}"}
    assert client.post("/v1/chat/completions", json=chat("demo"), headers=key).status_code == 200
    exporter.clear()
    refused = client.post("/v1/chat/completions", json=chat("demo"), headers=key)
    assert refused.status_code == 429
    spans = finished(exporter)
    server = one(spans, "POST /v1/chat/completions")
    assert children(spans, server) == ["routeiq.quota.reserve"]
    reserve = one(spans, "routeiq.quota.reserve")
    assert attrs(reserve)[span_names.QUOTA_OUTCOME] == "rate"
    assert reserve.status.status_code is StatusCode.ERROR
    assert attrs(reserve)[span_names.ERROR_TYPE] == "429"
    s = attrs(server)
    assert s[span_names.HTTP_STATUS] == 429
    assert s[span_names.ERROR_TYPE] == "429"  # the call failed; a 4xx leaves the server span's status unset
    assert s[span_names.KEY_ID] == r.json()["key_id"]


def test_content_is_captured_only_when_opted_in(
    tmp_path: Path, upstream: FakeUpstream, exporter: InMemorySpanExporter
) -> None:
    app = make_app(tmp_path, upstream, exporter, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")
    with TestClient(app) as c:
        assert c.post("/v1/chat/completions", json=chat("up"), headers=ADMIN).status_code == 200
    a = attrs(one(finished(exporter), "chat plain"))
    assert '"content":"hi"' in a[span_names.INPUT_MESSAGES]
    assert '"finish_reason":"stop"' in a[span_names.OUTPUT_MESSAGES]


def test_other_routes_get_a_server_span_named_by_method(
    client: TestClient[Litestar], exporter: InMemorySpanExporter
) -> None:
    assert client.get("/v1/models", headers=ADMIN).status_code == 200
    (server,) = finished(exporter)
    assert server.name == "GET"
    assert attrs(server)[span_names.URL_PATH] == "/v1/models"
