"""Metrics kept in process memory: counters and summaries, readable by tests and the admin API."""

from __future__ import annotations

import msgspec

LabelSet = tuple[tuple[str, str], ...]


class Summary(msgspec.Struct, kw_only=True):
    """Count, sum, min and max of the observations of one series."""

    count: int = 0
    total: float = 0.0
    minimum: float = float("inf")
    maximum: float = float("-inf")


class MetricPoint(msgspec.Struct, frozen=True, kw_only=True):
    """One series in a snapshot."""

    name: str
    labels: dict[str, str]
    value: float
    count: int | None = None


class InMemoryMetrics:
    """The in-process adapter of the metrics port (one per worker)."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, LabelSet], float] = {}
        self._summaries: dict[tuple[str, LabelSet], Summary] = {}

    def increment(self, name: str, value: float = 1.0, /, **labels: str) -> None:
        """Add ``value`` to a counter."""
        key = (name, tuple(sorted(labels.items())))
        self._counters[key] = self._counters.get(key, 0.0) + value

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        """Fold one observation into a summary."""
        key = (name, tuple(sorted(labels.items())))
        summary = self._summaries.get(key)
        if summary is None:
            summary = self._summaries[key] = Summary()
        summary.count += 1
        summary.total += value
        summary.minimum = min(summary.minimum, value)
        summary.maximum = max(summary.maximum, value)

    def counter(self, name: str, **labels: str) -> float:
        """The sum of every series of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self._counters.items() if n == name and wanted <= set(ls))

    def snapshot(self) -> list[MetricPoint]:
        """Every counter and summary (summaries report their sum and count)."""
        points = [
            MetricPoint(name=n, labels=dict(ls), value=v) for (n, ls), v in sorted(self._counters.items())
        ]
        points += [
            MetricPoint(name=n, labels=dict(ls), value=s.total, count=s.count)
            for (n, ls), s in sorted(self._summaries.items(), key=lambda item: item[0])
        ]
        return points
