"""The metrics port: counters and observations the core emits (retries, fallbacks, breaker moves)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable


class Metrics(Protocol):
    """Where the core reports what happened; adapters export it (in memory, later OpenTelemetry)."""

    def increment(self, name: str, value: float = 1.0, /, **labels: str) -> None:
        """Add ``value`` to the counter ``name`` with these labels."""
        ...

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        """Record one observation (a latency, a token count) of ``name``."""
        ...


Record = Callable[[float], None]
"""Adds a value to one series (a counter's increment, a histogram's observation)."""


@runtime_checkable
class BindsSeries(Protocol):
    """A metrics adapter that can resolve a series once, for callers that record it on every request.

    Same meaning as ``increment``/``observe`` with those labels, without looking the series up each
    time. Checked once by the callers that cache series (``isinstance``), never per call.
    """

    def counter_series(self, name: str, /, **labels: str) -> Record:
        """The recorder of counter ``name`` with ``labels``."""
        ...

    def histogram_series(self, name: str, /, **labels: str) -> Record:
        """The recorder of histogram ``name`` with ``labels``."""
        ...


def counter_recorder(metrics: Metrics, name: str, /, **labels: str) -> Record:
    """A recorder of counter ``name``: bound once when the adapter can, else through ``increment``."""
    if isinstance(metrics, BindsSeries):
        return metrics.counter_series(name, **labels)
    return lambda value: metrics.increment(name, value, **labels)


def histogram_recorder(metrics: Metrics, name: str, /, **labels: str) -> Record:
    """A recorder of histogram ``name``: bound once when the adapter can, else through ``observe``."""
    if isinstance(metrics, BindsSeries):
        return metrics.histogram_series(name, **labels)
    return lambda value: metrics.observe(name, value, **labels)


class RouteCounters:
    """Counters labelled by ``model_group`` and ``deployment``, each series resolved once.

    A route's labels are configured names (a wildcard group counts under its pattern), so the cache
    is bounded by the configuration.
    """

    def __init__(self, metrics: Metrics, *counter_names: str) -> None:
        self._metrics = metrics
        self._names = counter_names
        self._series: dict[tuple[str, str], tuple[Record, ...]] = {}

    def __call__(self, model_group: str, deployment: str) -> tuple[Record, ...]:
        """One recorder per counter name, in the order given."""
        found = self._series.get((model_group, deployment))
        if found is None:
            found = self._series[(model_group, deployment)] = tuple(
                counter_recorder(self._metrics, name, model_group=model_group, deployment=deployment)
                for name in self._names
            )
        return found
