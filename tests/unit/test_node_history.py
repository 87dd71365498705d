"""The overview's node figures: what counts as a call, errors, merged histograms, the bounded ring."""

from __future__ import annotations

import pytest

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_adapters.metrics.node import NodeMetrics
from routeiq_app.node_history import NodeHistory, summarize
from routeiq_core import metric_names as names

pytestmark = pytest.mark.anyio


def counted() -> InMemoryMetrics:
    metrics = InMemoryMetrics()
    metrics.increment(names.REQUESTS, 3, surface="openai", status="200")
    metrics.increment(names.REQUESTS, 1, surface="anthropic", status="429")
    metrics.increment(names.REQUESTS, 1, surface="mcp", status="500")
    metrics.increment(names.REQUESTS, 7, surface="admin", status="200")  # not calls
    metrics.increment(names.REQUESTS, 2, surface="ui", status="401")
    metrics.increment(names.SPEND, 0.5, model_group="a", deployment="a1")
    metrics.increment(names.SPEND, 0.25, model_group="b", deployment="b1")
    metrics.increment(names.PROMPT_TOKENS, 10, model_group="a", deployment="a1")
    for seconds, model in ((0.015, "a"), (0.5, "b"), (0.5, "a")):
        metrics.observe(names.OPERATION_DURATION, seconds, **{names.REQUEST_MODEL: model})
    return metrics


def test_summary_counts_call_surfaces_and_merges_histograms_across_labels() -> None:
    sample = summarize(counted().state(), at=100.0)
    assert sample.at == 100.0
    assert sample.requests == 5
    assert sample.errors == 2
    assert sample.spend == pytest.approx(0.75)
    assert sample.prompt_tokens == 10
    assert sample.completion_tokens == 0
    assert sample.latency_s is not None
    assert sample.latency_s.count == 3
    assert sum(sample.latency_s.counts) == 3
    assert sample.latency_s.total == pytest.approx(1.015)
    assert sample.ttft_s is None


async def test_history_keeps_the_last_samples_in_order() -> None:
    metrics = counted()
    ticks = iter(range(10))
    history = NodeHistory(NodeMetrics(None, metrics.state), keep=3, clock=lambda: float(next(ticks)))
    for _ in range(5):
        await history.sample()
        metrics.increment(names.REQUESTS, 1, surface="openai", status="200")
    kept = history.samples()
    assert [s.at for s in kept] == [2.0, 3.0, 4.0]
    assert [s.requests for s in kept] == [7, 8, 9]
    now = await history.now()
    assert now.requests == 10
    assert len(history.samples()) == 3  # a fresh read is not kept
