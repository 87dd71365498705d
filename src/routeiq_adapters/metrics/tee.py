"""A metrics adapter that records into several others (in memory for ``/metrics``, and OpenTelemetry)."""

from __future__ import annotations

from routeiq_core.metrics import Metrics, Record, counter_recorder, histogram_recorder


class TeeMetrics:
    """Every increment and observation goes to each of ``sinks``, in order."""

    def __init__(self, *sinks: Metrics) -> None:
        self._sinks = sinks

    def increment(self, name: str, value: float = 1.0, /, **labels: str) -> None:
        """Add to the counter in every sink."""
        for sink in self._sinks:
            sink.increment(name, value, **labels)

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        """Observe in every sink."""
        for sink in self._sinks:
            sink.observe(name, value, **labels)

    def counter_series(self, name: str, /, **labels: str) -> Record:
        """One recorder feeding each sink's series."""
        return _fan_out([counter_recorder(sink, name, **labels) for sink in self._sinks])

    def histogram_series(self, name: str, /, **labels: str) -> Record:
        """One recorder feeding each sink's series."""
        return _fan_out([histogram_recorder(sink, name, **labels) for sink in self._sinks])


def _fan_out(records: list[Record]) -> Record:
    def record(value: float) -> None:
        for each in records:
            each(value)

    return record
