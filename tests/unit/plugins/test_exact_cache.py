"""exact_cache: miss → store → hit without an upstream, stream replay and filling, policy, tenants, Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from routeiq_adapters.metrics.memory import InMemoryMetrics
from routeiq_adapters.plugins import ExactCacheConfig, ExactCachePlugin, PluginDeps
from routeiq_core.plugins.port import Capability, PluginContext, ShortCircuit
from routeiq_core.providers import Operation, Usage
from tests.unit.plugins.helpers import chat, completion, frame, make_ctx, streamed_text, usage_frame

pytestmark = pytest.mark.anyio

ANSWER = completion("Paris.", usage={"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11})


def question(**params: Any) -> dict[str, Any]:
    return chat("What is the capital of France?", temperature=0, **params)


@pytest.fixture
async def cache(deps: PluginDeps) -> AsyncIterator[ExactCachePlugin]:
    plugin = ExactCachePlugin(ExactCacheConfig(), deps)
    yield plugin
    await plugin.on_shutdown()


async def answer(plugin: ExactCachePlugin, ctx: PluginContext, body: bytes = ANSWER) -> ShortCircuit | None:
    """One request through the cache hooks; the 'upstream' answers ``body`` on a miss."""
    result = await plugin.before_request(ctx)
    assert not isinstance(result, dict)
    if result is None:
        await plugin.after_response(ctx, body)
    return result


async def test_miss_then_hit_returns_the_same_body_without_the_upstream(
    cache: ExactCachePlugin, metrics: InMemoryMetrics
) -> None:
    first = make_ctx(question(), team="a", usage=Usage(prompt_tokens=9, completion_tokens=2))
    assert await answer(cache, first) is None
    assert first.response_headers == {"x-routeiq-cache": "miss"}
    hit = await cache.before_request(make_ctx(question(), team="a"))
    assert isinstance(hit, ShortCircuit)
    assert hit.body == ANSWER
    assert hit.frames is None
    assert hit.headers == {"x-routeiq-cache": "hit"}
    assert hit.usage == Usage(prompt_tokens=9, completion_tokens=2)
    assert metrics.counter("routeiq_cache_requests", cache="exact", result="hit") == 1
    assert metrics.counter("routeiq_cache_requests", cache="exact", result="miss") == 1


async def test_delivery_fields_do_not_change_the_key(cache: ExactCachePlugin) -> None:
    await answer(cache, make_ctx(question(user="u1"), team="a"))
    assert isinstance(
        await cache.before_request(make_ctx(question(user="u2", model="alias"), team="a")), ShortCircuit
    )
    assert await cache.before_request(make_ctx(question(max_tokens=5), team="a")) is None


async def test_a_streamed_request_is_answered_by_replaying_the_cached_body(cache: ExactCachePlugin) -> None:
    await answer(cache, make_ctx(question(), team="a"))
    payload = question(stream=True, stream_options={"include_usage": True})
    hit = await cache.before_request(make_ctx(payload, team="a", stream=True))
    assert isinstance(hit, ShortCircuit)
    assert hit.body is None
    assert hit.frames is not None
    assert hit.headers == {"x-routeiq-cache": "hit"}
    assert streamed_text(list(hit.frames)) == {0: "Paris."}
    assert b'"finish_reason":"stop"' in hit.frames[-2]
    assert b'"usage"' in hit.frames[-1]
    assert b"[DONE]" not in b"".join(hit.frames)


async def test_a_streamed_miss_fills_the_cache_from_its_frames(cache: ExactCachePlugin) -> None:
    ctx = make_ctx(question(stream=True), team="a", stream=True)
    assert await cache.before_request(ctx) is None
    chunks = [
        frame(role=True, content=""),
        frame("Par") + frame("is."),
        frame(finish="stop") + usage_frame(9, 2),
    ]
    for chunk in chunks:
        assert await cache.on_stream_chunk(ctx, chunk) == chunk
    assert await cache.after_response(ctx, None) is None
    assert await cache.on_stream_end(ctx) == []
    hit = await cache.before_request(make_ctx(question(), team="a"))
    assert isinstance(hit, ShortCircuit)
    assert hit.body is not None
    body = msgspec.json.decode(hit.body)
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == "Paris."
    assert body["usage"]["total_tokens"] == 11


async def test_an_unfinished_stream_is_not_stored(cache: ExactCachePlugin) -> None:
    ctx = make_ctx(question(stream=True), team="a", stream=True)
    await cache.before_request(ctx)
    await cache.on_stream_chunk(ctx, frame("Par"))
    await cache.on_stream_end(ctx)
    assert await cache.before_request(make_ctx(question(), team="a")) is None


async def test_sampled_and_tool_requests_are_not_cached_by_default(
    deps: PluginDeps, cache: ExactCachePlugin
) -> None:
    for payload in (chat("hi", temperature=0.7), chat("hi"), question(tools=[{"type": "function"}])):
        ctx = make_ctx(payload, team="a")
        assert await answer(cache, ctx) is None
        assert ctx.response_headers == {}
        assert ctx.state == {}
        assert await cache.before_request(make_ctx(payload, team="a")) is None
    sampled = ExactCachePlugin(ExactCacheConfig(allow_temperature=True), deps)
    await answer(sampled, make_ctx(chat("hi", temperature=0.7), team="a"))
    assert isinstance(
        await sampled.before_request(make_ctx(chat("hi", temperature=0.7), team="a")), ShortCircuit
    )


async def test_tenants_never_share_entries(deps: PluginDeps, cache: ExactCachePlugin) -> None:
    await answer(cache, make_ctx(question(), team="a", key_id="k1"))
    assert isinstance(await cache.before_request(make_ctx(question(), team="a", key_id="k2")), ShortCircuit)
    assert await cache.before_request(make_ctx(question(), team="b", key_id="k1")) is None
    assert await cache.before_request(make_ctx(question(), key_id="k1")) is None
    per_key = ExactCachePlugin(ExactCacheConfig(per="key"), deps)
    await answer(per_key, make_ctx(question(), team="a", key_id="k1"))
    assert await per_key.before_request(make_ctx(question(), team="a", key_id="k2")) is None


async def test_model_groups_and_operations_never_share_entries(cache: ExactCachePlugin) -> None:
    await answer(cache, make_ctx(question(), team="a"))
    assert await cache.before_request(make_ctx(question(), team="a", model_group="other")) is None
    completions = make_ctx(question(), team="a", operation=Operation.COMPLETIONS)
    assert await cache.before_request(completions) is None


async def test_only_opted_in_teams_and_keys_use_the_cache(deps: PluginDeps) -> None:
    plugin = ExactCachePlugin(msgspec.convert({"teams": ["a"], "keys": ["k9"]}, ExactCacheConfig), deps)
    for ctx in (make_ctx(question(), team="a"), make_ctx(question(), team="z", key_id="k9")):
        await answer(plugin, ctx)
        assert ctx.response_headers == {"x-routeiq-cache": "miss"}
    outsider = make_ctx(question(), team="b", key_id="k1")
    assert await answer(plugin, outsider) is None
    assert outsider.response_headers == {}


async def test_error_answers_are_not_stored(cache: ExactCachePlugin) -> None:
    await answer(cache, make_ctx(question(), team="a"), body=b'{"error": {"message": "x"}}')
    assert await cache.before_request(make_ctx(question(), team="a")) is None


async def test_a_failing_store_is_a_miss_not_a_failed_request(metrics: InMemoryMetrics) -> None:
    config = ExactCacheConfig(backend="redis", redis_url="redis://127.0.0.1:1/0", redis_timeout_s=0.2)
    plugin = ExactCachePlugin(config, PluginDeps(metrics=metrics))
    try:
        ctx = make_ctx(question(), team="a")
        assert await answer(plugin, ctx) is None
        assert ctx.response_headers == {"x-routeiq-cache": "miss"}
    finally:
        await plugin.on_shutdown()
    assert metrics.counter("routeiq_cache_requests", result="error") == 1
    assert metrics.counter("routeiq_cache_requests", result="store_error") == 1


@pytest.mark.redis
async def test_redis_backend_miss_store_hit(redis_url: str, deps: PluginDeps) -> None:
    config = ExactCacheConfig(backend="redis", redis_url=redis_url, namespace=f"t{uuid.uuid4().hex[:12]}")
    plugin = ExactCachePlugin(config, deps)
    other = ExactCachePlugin(config, deps)  # another worker sharing the server
    try:
        assert Capability.NETWORK in plugin.spec.capabilities
        await answer(plugin, make_ctx(question(), team="a"))
        hit = await other.before_request(make_ctx(question(), team="a"))
        assert isinstance(hit, ShortCircuit)
        assert hit.body == ANSWER
        assert await other.before_request(make_ctx(question(), team="b")) is None
    finally:
        await plugin.on_shutdown()
        await other.on_shutdown()
