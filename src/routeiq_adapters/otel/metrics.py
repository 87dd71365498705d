"""The OpenTelemetry adapter of the metrics port: every counter and histogram as an OTel instrument.

Instruments are made from :data:`routeiq_core.metric_names.METRICS` (unit, description, and the
histograms' bucket boundaries as the advisory the SDK applies), once per name; each series'
attributes are bound once for callers that cache series. Gauges are not emitted through the port
(the Prometheus exporter computes them from each worker's state), so they are not exported here.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.metrics import Counter, Histogram, Meter

from routeiq_core.metric_names import BY_NAME
from routeiq_core.metrics import Record


class OTelMetrics:
    """Counts and observes into an OpenTelemetry meter."""

    def __init__(self, meter: Meter) -> None:
        self._meter = meter
        self._counters: dict[str, Counter] = {}
        self._histograms: dict[str, Histogram] = {}

    def increment(self, name: str, value: float = 1.0, /, **labels: str) -> None:
        """Add to a counter."""
        self._counter(name).add(value, labels)

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        """Record one histogram observation."""
        self._histogram(name).record(value, labels)

    def counter_series(self, name: str, /, **labels: str) -> Record:
        """The recorder of one counter series."""
        counter, attributes = self._counter(name), dict(labels)
        return lambda value: counter.add(value, attributes)

    def histogram_series(self, name: str, /, **labels: str) -> Record:
        """The recorder of one histogram series."""
        histogram, attributes = self._histogram(name), dict(labels)
        return lambda value: histogram.record(value, attributes)

    def _counter(self, name: str) -> Counter:
        found = self._counters.get(name)
        if found is None:
            found = self._counters[name] = self._meter.create_counter(name, **_described(name))
        return found

    def _histogram(self, name: str) -> Histogram:
        found = self._histograms.get(name)
        if found is None:
            spec = BY_NAME.get(name)
            advisory = list(spec.buckets) if spec is not None and spec.buckets else None
            found = self._histograms[name] = self._meter.create_histogram(
                name, explicit_bucket_boundaries_advisory=advisory, **_described(name)
            )
        return found


def _described(name: str) -> dict[str, Any]:
    spec = BY_NAME.get(name)
    return {} if spec is None else {"unit": spec.unit, "description": spec.description}
