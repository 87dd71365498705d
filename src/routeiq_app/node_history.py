"""The node's headline figures over time: each worker samples the node-wide metrics on an interval.

The node-wide metrics (:class:`~routeiq_adapters.metrics.node.NodeMetrics`, what ``/metrics`` answers)
are totals since start. To draw them over time, every worker keeps the last ``keep`` samples of the
figures the dashboard's overview shows — calls and errors of the call surfaces, the upstream latency
and time-to-first-chunk histograms, tokens, spend — one every ``interval_s`` seconds, in a bounded
ring. Any worker can answer, since each samples the whole node; a worker started later has a shorter
history. Rates are differences between consecutive samples, computed by the reader.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable

import anyio.to_thread
import msgspec

from routeiq_adapters.metrics.memory import HistogramSeries, MetricsState, Series
from routeiq_adapters.metrics.node import NodeMetrics
from routeiq_core import metric_names as names
from routeiq_core.surfaces import ANTHROPIC_SURFACE, MCP_SURFACE, OPENAI_SURFACE, RESPONSES_SURFACE

CALL_SURFACES = frozenset({OPENAI_SURFACE, ANTHROPIC_SURFACE, RESPONSES_SURFACE, MCP_SURFACE, "a2a"})
"""The surfaces whose requests are calls (not the admin API, the UI, health or metrics)."""


class Histogram(msgspec.Struct, frozen=True, kw_only=True):
    """Every series of one histogram summed: per-bucket counts (the last above every bound)."""

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    count: int
    total: float


class NodeSample(msgspec.Struct, frozen=True, kw_only=True):
    """The node's totals since start at ``at`` (unix time); ``in_flight`` is a gauge."""

    at: float
    requests: float
    errors: float
    latency_s: Histogram | None
    ttft_s: Histogram | None
    prompt_tokens: float
    completion_tokens: float
    spend: float
    shed: float
    retries: float
    fallbacks: float
    in_flight: float


def _total(series: Iterable[Series], name: str) -> float:
    return sum(s.value for s in series if s.name == name)


def _histogram(series: Iterable[HistogramSeries], name: str) -> Histogram | None:
    merged: Histogram | None = None
    for h in series:
        if h.name != name:
            continue
        if merged is None:
            merged = Histogram(bounds=h.bounds, counts=h.counts, count=h.count, total=h.total)
        elif merged.bounds == h.bounds:
            merged = Histogram(
                bounds=merged.bounds,
                counts=tuple(a + b for a, b in zip(merged.counts, h.counts, strict=True)),
                count=merged.count + h.count,
                total=merged.total + h.total,
            )
    return merged


def _failed(status: str) -> bool:
    return status.isdigit() and int(status) >= 400


def summarize(state: MetricsState, at: float) -> NodeSample:
    """The overview's figures of a node-wide metrics state."""
    calls = [
        c for c in state.counters if c.name == names.REQUESTS and c.labels.get("surface") in CALL_SURFACES
    ]
    return NodeSample(
        at=at,
        requests=sum(c.value for c in calls),
        errors=sum(c.value for c in calls if _failed(c.labels.get("status", ""))),
        latency_s=_histogram(state.histograms, names.OPERATION_DURATION),
        ttft_s=_histogram(state.histograms, names.TIME_TO_FIRST_CHUNK),
        prompt_tokens=_total(state.counters, names.PROMPT_TOKENS),
        completion_tokens=_total(state.counters, names.COMPLETION_TOKENS),
        spend=_total(state.counters, names.SPEND),
        shed=_total(state.counters, names.REQUESTS_SHED),
        retries=_total(state.counters, names.RETRIES),
        fallbacks=_total(state.counters, names.FALLBACKS),
        in_flight=_total(state.gauges, names.REQUESTS_IN_FLIGHT),
    )


class NodeHistory:
    """The last ``keep`` samples of the node's figures, one every ``interval_s`` seconds.

    Args:
        node: The node-wide metrics.
        interval_s: Seconds between samples.
        keep: Samples kept (the default: one hour at 20 s).
        clock: Unix time.
    """

    def __init__(
        self,
        node: NodeMetrics,
        *,
        interval_s: float = 20.0,
        keep: int = 180,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._node = node
        self.interval_s = interval_s
        self._clock = clock
        self._samples: deque[NodeSample] = deque(maxlen=keep)

    async def now(self) -> NodeSample:
        """A fresh sample of the node (not kept); reading the workers' files runs off the event loop."""
        state = await anyio.to_thread.run_sync(self._node.node_state)
        return summarize(state, self._clock())

    async def sample(self) -> NodeSample:
        """Take a sample and keep it."""
        taken = await self.now()
        self._samples.append(taken)
        return taken

    def samples(self) -> list[NodeSample]:
        """The kept samples, oldest first."""
        return list(self._samples)

    async def run(self) -> None:
        """Sample every ``interval_s`` seconds until cancelled."""
        while True:
            await self.sample()
            await anyio.sleep(self.interval_s)


async def run_node_history(history: NodeHistory) -> AsyncIterator[NodeHistory]:
    """Container resource: sample in the background while the worker runs."""
    task = asyncio.create_task(history.run())
    try:
        yield history
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
