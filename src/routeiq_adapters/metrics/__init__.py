"""Metrics adapters."""

from routeiq_adapters.metrics.memory import InMemoryMetrics, MetricPoint

__all__ = ["InMemoryMetrics", "MetricPoint"]
