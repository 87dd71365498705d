"""The whole node's metrics from its workers: each publishes its own to a shared folder, any one answers.

Why this mechanism: the hot path keeps counting into plain dictionaries (no lock, no shared memory,
no system call per increment, as prometheus_client's multiprocess mode would add), and a worker
writes its whole state to ``<folder>/<pid>-<start>.json`` every ``interval_s`` seconds and when it
stops (write to a temporary name, then rename: a reader never sees half a file). A scrape, on any
worker, merges its own live state with every other file:

- counters and histograms of every worker that ever ran on the node are summed, stopped ones
  included, so node totals never go down when a worker is replaced;
- gauges (in flight, breaker states) only of workers still running;
- another worker's numbers are at most ``interval_s`` old.

The ``routeiq serve`` supervisor makes the folder and hands it to its workers (``ROUTEIQ_METRICS_DIR``);
without it (one process, tests) a scrape is this process alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import anyio
import msgspec

from routeiq_adapters.metrics.memory import HistogramSeries, MetricsState, Series

logger = logging.getLogger("routeiq.metrics")
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(MetricsState)


class NodeMetrics:
    """Publishes this worker's metrics for the node and reads the node's.

    Args:
        directory: The folder the node's workers share (None: this process only).
        local: This worker's metrics now.
        interval_s: How often this worker publishes.
    """

    def __init__(
        self, directory: str | None, local: Callable[[], MetricsState], interval_s: float = 1.0
    ) -> None:
        self._directory = Path(directory) if directory else None
        self._local = local
        self._interval_s = interval_s
        self._name = f"{os.getpid()}-{time.time_ns()}.json"

    def publish(self) -> None:
        """Write this worker's metrics for the others (atomically)."""
        if self._directory is None:
            return
        target = self._directory / self._name
        partial = target.with_suffix(".tmp")
        try:
            partial.write_bytes(_ENCODER.encode(self._local()))
            os.replace(partial, target)
        except OSError as exc:
            logger.warning("could not publish this worker's metrics to %s: %s", self._directory, exc)

    async def run(self) -> None:
        """Publish every ``interval_s`` seconds until cancelled."""
        while True:
            self.publish()
            await anyio.sleep(self._interval_s)

    def node_state(self) -> MetricsState:
        """The node's metrics: this worker's live, the others' as last published."""
        states = [self._local()]
        for path, alive in self._others():
            try:
                state = _DECODER.decode(path.read_bytes())
            except (OSError, msgspec.DecodeError) as exc:
                logger.warning("skipping unreadable worker metrics %s: %s", path.name, exc)
                continue
            states.append(state if alive else msgspec.structs.replace(state, gauges=()))
        return merge(states)

    def _others(self) -> Iterable[tuple[Path, bool]]:
        if self._directory is None:
            return []
        found = []
        with contextlib.suppress(OSError):
            for path in self._directory.glob("*.json"):
                if path.name != self._name:
                    found.append((path, _alive(path.name.split("-", 1)[0])))
        return found


def _alive(pid_text: str) -> bool:
    if not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def merge(states: Iterable[MetricsState]) -> MetricsState:
    """Sum series with the same name and labels (histograms bucket by bucket)."""
    counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    histograms: dict[tuple[str, tuple[tuple[str, str], ...], tuple[float, ...]], HistogramSeries] = {}
    for state in states:
        for series in state.counters:
            key = (series.name, tuple(sorted(series.labels.items())))
            counters[key] = counters.get(key, 0.0) + series.value
        for series in state.gauges:
            key = (series.name, tuple(sorted(series.labels.items())))
            gauges[key] = gauges.get(key, 0.0) + series.value
        for h in state.histograms:
            hkey = (h.name, tuple(sorted(h.labels.items())), h.bounds)
            seen = histograms.get(hkey)
            histograms[hkey] = h if seen is None else _add(seen, h)
    return MetricsState(
        counters=tuple(Series(name=n, labels=dict(ls), value=v) for (n, ls), v in sorted(counters.items())),
        histograms=tuple(histograms[k] for k in sorted(histograms)),
        gauges=tuple(Series(name=n, labels=dict(ls), value=v) for (n, ls), v in sorted(gauges.items())),
    )


def _add(a: HistogramSeries, b: HistogramSeries) -> HistogramSeries:
    return msgspec.structs.replace(
        a,
        counts=tuple(x + y for x, y in zip(a.counts, b.counts, strict=True)),
        total=a.total + b.total,
        count=a.count + b.count,
    )


async def run_node_metrics(node: NodeMetrics) -> AsyncIterator[NodeMetrics]:
    """Container resource: publish in the background while the worker runs, and once more at the end."""
    task = asyncio.create_task(node.run())
    try:
        yield node
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        node.publish()
