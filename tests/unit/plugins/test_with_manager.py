"""The built-ins under the plugin manager: the capabilities they declare cover what their hooks do."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from routeiq_adapters.metrics.memory import InMemoryMetrics
from routeiq_adapters.plugins import PluginDeps, build_plugin
from routeiq_core.plugins import PluginManager, ShortCircuit
from routeiq_core.sse import DONE
from tests.unit.plugins.helpers import chat, frame, make_ctx, streamed_text

pytestmark = pytest.mark.anyio


async def chunks(*items: bytes) -> AsyncIterator[bytes]:
    for item in items:
        yield item


async def test_a_redacted_stream_fills_the_cache_and_the_next_request_is_a_hit(
    metrics: InMemoryMetrics,
) -> None:
    deps = PluginDeps(metrics=metrics)
    enabled = [
        build_plugin("pii_guard", {"responses": True}, deps),
        build_plugin("exact_cache", {}, deps),
        build_plugin("cost_tracker", {}, deps),
    ]
    manager = PluginManager(enabled, allowed_capabilities=None, metrics=metrics)
    await manager.startup()
    payload = chat("Who wrote to me?", temperature=0, stream=True)
    ctx = make_ctx(payload, team="a", stream=True)
    assert await manager.before_request(ctx) is None
    upstream = chunks(
        frame(role=True, content=""), frame("From jane.doe@exa"), frame("mple.com", finish="stop"), DONE
    )
    sent = [c async for c in manager.wrap_stream(ctx, upstream)]
    await manager.after_response(ctx, None)
    assert streamed_text(sent) == {0: "From [REDACTED:EMAIL]"}
    assert sent[-1] == DONE
    hit = await manager.before_request(make_ctx(payload, team="a", stream=True))
    assert isinstance(hit, ShortCircuit)
    assert hit.frames is not None
    assert streamed_text(list(hit.frames)) == {0: "From [REDACTED:EMAIL]"}
    assert metrics.counter("routeiq_plugin_failures") == 0
    await manager.shutdown()
