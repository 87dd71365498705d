"""The official `openai` SDK against `routeiq serve` on a real socket.

Upstreams: the built-in mock provider, and a local OpenAI-compatible server (FakeUpstream) reached
through the native adapter — so routing, failover, breakers and streaming run exactly as deployed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import openai
import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow

MOCK_TEXT = "Hello from the mock"


def config(upstream: str) -> str:
    def via(name: str, model: str, **extra: str) -> str:
        lines = [
            f"  - model_name: {name}",
            "    litellm_params:",
            f"      model: openai/{model}",
            f"      api_base: {upstream}",
            "      api_key: sk-upstream",
        ]
        lines += [f"      {k}: {v}" for k, v in extra.items()]
        return "\n".join(lines)

    return "\n".join(
        [
            "model_list:",
            "  - model_name: mock",
            "    litellm_params:",
            "      model: mock/m",
            f"      mock: {{content: '{MOCK_TEXT}'}}",
            "  - model_name: mock-embed",
            "    litellm_params: {model: mock/e}",
            via("up", "plain"),
            via("broken", "error-500"),
            via("limited", "error-429"),
            via("slow", "slow", timeout="0.5"),
            via("flaky", "flaky"),
            via("cut", "cut-stream"),
            via("gated", "gated-stream"),
            via("hang", "hang-stream"),
            via("breaker", "error-503"),
            via("bad", "error-400"),
            via("redirected", "redirect"),
            via("redirected", "plain"),
            via("garbled", "garbled-stream"),
            via("bad-bytes", "bad-bytes-stream"),
            via("garbled-first", "garbled-first"),
            via("garbled-first", "plain"),
            "  - model_name: refused",
            "    litellm_params: {model: openai/x, api_base: 'http://127.0.0.1:9/v1'}",
            "routing:",
            "  fallbacks: [{broken: [up]}]",
            "resilience:",
            "  num_retries: 2",
            "  retry_base_delay_s: 0.01",
            "  retry_max_delay_s: 1.5",
            "  breaker_failure_threshold: 3",
            "  breaker_cooldown_s: 60",
        ]
    )


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def gateway(upstream: FakeUpstream) -> Iterator[GatewayProcess]:
    with GatewayProcess(config(upstream.base_url)) as gw:
        yield gw


@pytest.fixture
def client(gateway: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="unused", max_retries=0, timeout=10)


def chat(model: str, **kw: object) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **kw}


def test_chat_sync_with_routing_headers(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(**chat("mock"))  # type: ignore[call-overload]
    completion = raw.parse()
    assert completion.choices[0].message.content == MOCK_TEXT
    assert completion.usage.total_tokens > 0
    assert raw.headers["x-routeiq-model-group"] == "mock"
    assert raw.headers["x-routeiq-deployment"] == "mock-0"
    assert raw.headers["x-routeiq-attempts"] == "1"


def test_chat_stream_sync(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(**chat("mock", stream=True))  # type: ignore[call-overload]
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == MOCK_TEXT


def test_chat_async_and_stream_with_usage(gateway: GatewayProcess) -> None:
    async def main() -> tuple[str, str, int]:
        async with openai.AsyncOpenAI(base_url=f"{gateway.base_url}/v1", api_key="x", max_retries=0) as ac:
            done = await ac.chat.completions.create(**chat("up"))  # type: ignore[call-overload]
            stream = await ac.chat.completions.create(
                **chat("up", stream=True, stream_options={"include_usage": True})  # type: ignore[call-overload]
            )
            parts, total = [], 0
            async for chunk in stream:
                if chunk.choices:
                    parts.append(chunk.choices[0].delta.content or "")
                if chunk.usage:
                    total = chunk.usage.total_tokens
            return done.choices[0].message.content or "", "".join(parts), total

    full, streamed, total = anyio.run(main)
    assert full == streamed == "Hello from upstream"
    assert total == 8


def test_completions_embeddings_models(client: openai.OpenAI) -> None:
    assert client.completions.create(model="mock", prompt="x").choices[0].text == MOCK_TEXT
    emb = client.embeddings.create(model="mock-embed", input=["a", "b"])
    assert len(emb.data) == 2
    assert emb.usage.prompt_tokens >= 1
    up_emb = client.embeddings.create(model="up", input="a")
    assert len(up_emb.data[0].embedding) == 4
    ids = {m.id for m in client.models.list()}
    assert {"mock", "up", "broken"} <= ids
    assert client.models.retrieve("mock").id == "mock"


def test_unmodelled_fields_reach_the_upstream(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    client.chat.completions.create(**chat("up", user="u-42", logit_bias={"1": 2}, seed=3))  # type: ignore[call-overload]
    sent = [r for r in upstream.requests if r["json"].get("user") == "u-42"][-1]
    assert sent["json"]["logit_bias"] == {"1": 2}
    assert sent["json"]["seed"] == 3
    assert sent["json"]["model"] == "plain"
    assert sent["authorization"] == "Bearer sk-upstream"


def test_unknown_model_and_bad_body(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="Available models"):
        client.chat.completions.create(**chat("nope"))  # type: ignore[call-overload]
    with pytest.raises(openai.BadRequestError, match="temperature"):
        client.chat.completions.create(**chat("mock", temperature=9))  # type: ignore[call-overload]


def test_upstream_client_error_passes_through(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(**chat("bad"))  # type: ignore[call-overload]


def test_fallback_group_answers_when_primary_is_down(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(**chat("broken"))  # type: ignore[call-overload]
    assert raw.headers["x-routeiq-model-group"] == "up"
    assert raw.parse().choices[0].message.content == "Hello from upstream"


def test_429_with_retry_after_is_retried_then_reported(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    before = upstream.calls("error-429")
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(**chat("limited"))  # type: ignore[call-overload]
    assert upstream.calls("error-429") - before == 3  # 1 + num_retries
    assert time.monotonic() - started >= 2.0  # two waits of at least Retry-After (1 s)
    assert info.value.response.headers.get("retry-after") == "1"


def test_timeout_is_408(client: openai.OpenAI) -> None:
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(**chat("slow"))  # type: ignore[call-overload]
    assert info.value.status_code == 408
    assert time.monotonic() - started < 5


def test_connection_refused_is_502(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(**chat("refused"))  # type: ignore[call-overload]
    assert info.value.status_code == 502


def test_flaky_upstream_is_retried(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    upstream.flaky_failures = 2
    raw = client.chat.completions.with_raw_response.create(**chat("flaky"))  # type: ignore[call-overload]
    assert raw.headers["x-routeiq-attempts"] == "3"


def test_stream_cut_midway_raises_in_the_client(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(**chat("cut", stream=True))  # type: ignore[call-overload]
    chunks = iter(stream)
    assert next(chunks).choices[0].delta.content == "Hello"  # the first chunk arrived before the error event
    with pytest.raises(openai.APIError, match="stream"):
        list(chunks)


def test_a_redirecting_deployment_is_failed_over_for_json_and_streams(client: openai.OpenAI) -> None:
    for _ in range(10):
        raw = client.chat.completions.with_raw_response.create(**chat("redirected"))  # type: ignore[call-overload]
        assert raw.parse().choices[0].message.content == "Hello from upstream"
        stream = client.chat.completions.create(**chat("redirected", stream=True))  # type: ignore[call-overload]
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello from upstream"


@pytest.mark.parametrize("model", ["garbled", "bad-bytes"])
def test_a_malformed_upstream_event_becomes_an_error_event_not_a_parse_failure(
    client: openai.OpenAI, model: str
) -> None:
    stream = client.chat.completions.create(**chat(model, stream=True))  # type: ignore[call-overload]
    chunks = iter(stream)
    assert next(chunks).choices[0].delta.content == "Hello"
    with pytest.raises(
        openai.APIError, match="not a JSON object"
    ):  # the SDK's own error, not JSONDecodeError
        list(chunks)


def test_a_malformed_first_event_is_failed_over(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(**chat("garbled-first", stream=True))  # type: ignore[call-overload]
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello from upstream"


def test_first_chunk_arrives_before_the_upstream_sends_the_rest(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    upstream.gate.clear()
    stream = client.chat.completions.create(**chat("gated", stream=True))  # type: ignore[call-overload]
    chunks = iter(stream)
    first = next(chunks)  # would block (and time out) if the gateway buffered the stream
    assert not upstream.gate.is_set()
    assert first.choices[0].delta.content == "Hello"
    upstream.gate.set()  # only now does the upstream send the remaining chunks
    rest = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert rest == " from upstream"


def spent(gateway: GatewayProcess, model_group: str) -> dict[str, Any]:
    r = httpx.get(f"{gateway.base_url}/admin/spend", params={"model_group": model_group}, timeout=5)
    r.raise_for_status()
    totals: dict[str, Any] = r.json()["total"]
    return totals


def test_client_disconnect_cancels_the_upstream_and_is_still_billed(
    client: openai.OpenAI, upstream: FakeUpstream, gateway: GatewayProcess
) -> None:
    before = spent(gateway, "hang")["requests"]
    upstream.disconnected.clear()
    stream = client.chat.completions.create(**chat("hang", stream=True))  # type: ignore[call-overload]
    next(iter(stream))
    stream.close()
    assert upstream.disconnected.wait(5), "the upstream request was not cancelled"
    deadline = time.monotonic() + 5
    while spent(gateway, "hang")["requests"] == before and time.monotonic() < deadline:
        time.sleep(0.05)
    after = spent(gateway, "hang")
    assert after["requests"] == before + 1  # settled once, though the upstream never reported usage
    assert after["prompt_tokens"] > 0


def test_breaker_opens_and_sheds_with_503(
    client: openai.OpenAI, upstream: FakeUpstream, gateway: GatewayProcess
) -> None:
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(**chat("breaker"))  # 3 attempts -> threshold reached  # type: ignore[call-overload]
    calls = upstream.calls("error-503")
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(**chat("breaker"))  # type: ignore[call-overload]
    assert info.value.status_code == 503
    assert int(info.value.response.headers["retry-after"]) >= 1
    assert upstream.calls("error-503") == calls  # nothing reached the upstream
    states = {d["id"]: d["breaker"] for d in httpx.get(f"{gateway.base_url}/admin/deployments").json()}
    assert states["breaker-0"] == "open"
    ready = httpx.get(f"{gateway.base_url}/health/ready").json()
    assert ready["status"] == "degraded"
    assert "breaker" in next(c for c in ready["components"] if c["name"] == "deployments")["reason"]


def test_every_concurrent_request_is_answered(gateway: GatewayProcess) -> None:
    results: list[int] = []

    def worker() -> None:
        c = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="x", max_retries=0, timeout=20)
        for model in ("mock", "up", "broken", "flaky"):
            results.append(
                c.chat.completions.with_raw_response.create(**chat(model)).http_response.status_code
            )  # type: ignore[call-overload]

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 32
    assert set(results) <= {200}
