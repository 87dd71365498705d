"""Metrics kept in process memory: counters and histograms, readable by tests and the exporters.

One per worker. Histograms use the bucket boundaries :mod:`routeiq_core.metric_names` declares
(names it does not declare get :data:`DEFAULT_BUCKETS`). :meth:`InMemoryMetrics.state` is what the
node exporter publishes for ``/metrics``; :meth:`InMemoryMetrics.snapshot` is ``/admin/metrics``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

import msgspec

from routeiq_core.metric_names import BY_NAME

LabelSet = tuple[tuple[str, str], ...]
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Series(msgspec.Struct, frozen=True, kw_only=True):
    """One counter or gauge series."""

    name: str
    labels: dict[str, str]
    value: float


class HistogramSeries(msgspec.Struct, frozen=True, kw_only=True):
    """One histogram series: per-bucket counts (not cumulative; the last is above every bound)."""

    name: str
    labels: dict[str, str]
    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    total: float
    count: int


class MetricsState(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one process counted: what a worker publishes for the node's ``/metrics``."""

    counters: tuple[Series, ...] = ()
    histograms: tuple[HistogramSeries, ...] = ()
    gauges: tuple[Series, ...] = ()


class MetricPoint(msgspec.Struct, frozen=True, kw_only=True):
    """One series in the ``/admin/metrics`` snapshot."""

    name: str
    labels: dict[str, str]
    value: float
    count: int | None = None


class _Histogram:
    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0
        self.count = 0


def _bounds(name: str) -> tuple[float, ...]:
    spec = BY_NAME.get(name)
    return tuple(float(b) for b in spec.buckets) if spec is not None and spec.buckets else DEFAULT_BUCKETS


class InMemoryMetrics:
    """The in-process adapter of the metrics port (one per worker)."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, LabelSet], float] = {}
        self._histograms: dict[tuple[str, LabelSet], _Histogram] = {}

    def increment(self, name: str, value: float = 1.0, /, **labels: str) -> None:
        """Add ``value`` to a counter."""
        key = (name, tuple(sorted(labels.items())))
        self._counters[key] = self._counters.get(key, 0.0) + value

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        """Count one observation in its histogram bucket."""
        key = (name, tuple(sorted(labels.items())))
        histogram = self._histograms.get(key)
        if histogram is None:
            histogram = self._histograms[key] = _Histogram(_bounds(name))
        histogram.counts[bisect_left(histogram.bounds, value)] += 1
        histogram.total += value
        histogram.count += 1

    def counter_series(self, name: str, /, **labels: str) -> Callable[[float], None]:
        """The recorder of one counter series (looked up once, here)."""
        key = (name, tuple(sorted(labels.items())))
        counters = self._counters
        counters.setdefault(key, 0.0)

        def record(value: float) -> None:
            counters[key] += value

        return record

    def histogram_series(self, name: str, /, **labels: str) -> Callable[[float], None]:
        """The recorder of one histogram series (looked up once, here)."""
        key = (name, tuple(sorted(labels.items())))
        histogram = self._histograms.get(key)
        if histogram is None:
            histogram = self._histograms[key] = _Histogram(_bounds(name))
        bounds, counts = histogram.bounds, histogram.counts

        def record(value: float) -> None:
            counts[bisect_left(bounds, value)] += 1
            histogram.total += value
            histogram.count += 1

        return record

    def counter(self, name: str, **labels: str) -> float:
        """The sum of every counter series of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self._counters.items() if n == name and wanted <= set(ls))

    def observations(self, name: str, **labels: str) -> int:
        """How many observations every histogram series of ``name`` with ``labels`` holds."""
        wanted = set(labels.items())
        return sum(h.count for (n, ls), h in self._histograms.items() if n == name and wanted <= set(ls))

    def state(self) -> MetricsState:
        """Every series, for exporting."""
        return MetricsState(
            counters=tuple(
                Series(name=n, labels=dict(ls), value=v) for (n, ls), v in sorted(self._counters.items())
            ),
            histograms=tuple(
                HistogramSeries(
                    name=n,
                    labels=dict(ls),
                    bounds=h.bounds,
                    counts=tuple(h.counts),
                    total=h.total,
                    count=h.count,
                )
                for (n, ls), h in sorted(self._histograms.items(), key=lambda item: item[0])
            ),
        )

    def snapshot(self) -> list[MetricPoint]:
        """Every counter, and every histogram's sum and count."""
        points = [
            MetricPoint(name=n, labels=dict(ls), value=v) for (n, ls), v in sorted(self._counters.items())
        ]
        points += [
            MetricPoint(name=n, labels=dict(ls), value=h.total, count=h.count)
            for (n, ls), h in sorted(self._histograms.items(), key=lambda item: item[0])
        ]
        return points
