"""The node's Prometheus metrics: what a worker adds to its counters, and where workers publish them."""

from __future__ import annotations

import os
from collections.abc import Callable

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_adapters.metrics.memory import MetricsState, Series
from routeiq_adapters.metrics.node import NodeMetrics
from routeiq_app.settings import Settings
from routeiq_app.settings.schema import METRICS_DIR_ENV
from routeiq_core import metric_names as names
from routeiq_core.catalog import ModelCatalog
from routeiq_core.resilience import BreakerRegistry, ConcurrencyLimiter
from routeiq_core.resilience.circuit_breaker import BreakerState


def worker_state(
    metrics: InMemoryMetrics, limiter: ConcurrencyLimiter, breakers: BreakerRegistry, catalog: ModelCatalog
) -> Callable[[], MetricsState]:
    """This worker's metrics: its counters and histograms, load shedding, in flight, breaker states."""
    deployments = [d.id for group in catalog.groups for d in group.deployments]

    def state() -> MetricsState:
        counted = metrics.state()
        created = breakers.snapshot()
        gauges = [Series(name=names.REQUESTS_IN_FLIGHT, labels={}, value=limiter.in_flight)]
        for deployment in deployments:
            breaker = created.get(deployment)
            current = breaker.state if breaker is not None else BreakerState.CLOSED
            gauges += [
                Series(
                    name=names.BREAKER_STATE,
                    labels={"deployment": deployment, "state": s.value},
                    value=1.0 if s is current else 0.0,
                )
                for s in BreakerState
            ]
        shed = Series(name=names.REQUESTS_SHED, labels={}, value=limiter.shed)
        counters = (*counted.counters, shed)
        return MetricsState(counters=counters, histograms=counted.histograms, gauges=tuple(gauges))

    return state


def node_metrics(settings: Settings, local: Callable[[], MetricsState]) -> NodeMetrics:
    """The node exchange: the folder ``routeiq serve`` made for its workers, if this is one of them."""
    return NodeMetrics(
        os.environ.get(METRICS_DIR_ENV) or None, local, interval_s=settings.observability.metrics_interval_s
    )
