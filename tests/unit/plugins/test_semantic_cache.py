"""semantic_cache: hits above the threshold only, the similarity header, scopes per tenant and parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from routeiq_adapters.metrics.memory import InMemoryMetrics
from routeiq_adapters.plugins import PluginDeps, SemanticCacheConfig, SemanticCachePlugin
from routeiq_core.plugins.port import ShortCircuit
from routeiq_core.providers import Operation
from tests.unit.plugins.helpers import chat, completion, frame, make_ctx, streamed_text

pytestmark = pytest.mark.anyio


class AngleEmbedder:
    """``"user: <angle>"`` → a unit vector at that angle (degrees): similarity of two prompts is cos Δθ."""

    dim = 2

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        angles = np.radians([float(t.rsplit(":", 1)[1]) for t in texts])
        return np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)


def ask(angle: float, **params: Any) -> dict[str, Any]:
    return chat(str(angle), temperature=0, **params)


def semantic(metrics: InMemoryMetrics, **config: Any) -> SemanticCachePlugin:
    deps = PluginDeps(metrics=metrics, embedder=AngleEmbedder())
    return SemanticCachePlugin(SemanticCacheConfig(**config), deps)


async def fill(
    plugin: SemanticCachePlugin, payload: dict[str, Any], text: str = "Paris.", team: str = "a"
) -> None:
    ctx = make_ctx(payload, team=team)
    assert await plugin.before_request(ctx) is None
    assert ctx.response_headers == {"x-routeiq-cache": "miss"}
    await plugin.after_response(ctx, completion(text))


async def test_a_hit_only_above_the_threshold(metrics: InMemoryMetrics) -> None:
    plugin = semantic(metrics, threshold=0.95)
    await fill(plugin, ask(0))
    near = await plugin.before_request(make_ctx(ask(10), team="a"))  # cos 10° ≈ 0.985
    assert isinstance(near, ShortCircuit)
    assert near.body == completion("Paris.")
    assert near.headers["x-routeiq-cache"] == "hit"
    assert near.headers["x-routeiq-cache-similarity"] == f"{np.cos(np.radians(10)):.4f}"
    far = make_ctx(ask(30), team="a")  # cos 30° ≈ 0.866
    assert await plugin.before_request(far) is None
    assert far.response_headers == {"x-routeiq-cache": "miss"}


async def test_tenants_parameters_and_operations_are_separate_scopes(metrics: InMemoryMetrics) -> None:
    plugin = semantic(metrics)
    await fill(plugin, ask(0))
    assert await plugin.before_request(make_ctx(ask(0), team="b")) is None
    assert await plugin.before_request(make_ctx(ask(0, max_tokens=5), team="a")) is None
    assert await plugin.before_request(make_ctx(ask(0), team="a", model_group="other")) is None
    completions = make_ctx(
        {"model": "chat", "prompt": "0", "temperature": 0}, team="a", operation=Operation.COMPLETIONS
    )
    assert await plugin.before_request(completions) is None
    embeddings = make_ctx({"model": "e", "input": "0"}, team="a", operation=Operation.EMBEDDINGS)
    assert await plugin.before_request(embeddings) is None
    assert embeddings.response_headers == {}


async def test_sampled_requests_are_not_cached_by_default(metrics: InMemoryMetrics) -> None:
    ctx = make_ctx(chat("0", temperature=1), team="a")
    assert await semantic(metrics).before_request(ctx) is None
    assert ctx.response_headers == {}


async def test_streams_fill_and_replay(metrics: InMemoryMetrics) -> None:
    plugin = semantic(metrics)
    ctx = make_ctx(ask(0, stream=True), team="a", stream=True)
    assert await plugin.before_request(ctx) is None
    await plugin.on_stream_chunk(ctx, frame("Par") + frame("is.", finish="stop"))
    await plugin.on_stream_end(ctx)
    hit = await plugin.before_request(make_ctx(ask(5, stream=True), team="a", stream=True))
    assert isinstance(hit, ShortCircuit)
    assert hit.frames is not None
    assert streamed_text(list(hit.frames)) == {0: "Paris."}


async def test_the_default_embedder_hits_on_the_same_prompt(metrics: InMemoryMetrics) -> None:
    plugin = SemanticCachePlugin(SemanticCacheConfig(embedding_dim=256), PluginDeps(metrics=metrics))
    await fill(plugin, chat("What is the capital of France?", temperature=0))
    hit = await plugin.before_request(
        make_ctx(chat("What is the capital of France?", temperature=0), team="a")
    )
    assert isinstance(hit, ShortCircuit)
    assert hit.headers["x-routeiq-cache-similarity"] == "1.0000"
    assert (
        await plugin.before_request(make_ctx(chat("How do volcanoes form?", temperature=0), team="a")) is None
    )
