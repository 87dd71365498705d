"""A gateway wired for tests: scripted upstreams, configuration-order routing, a manual clock."""

from __future__ import annotations

import random
from typing import Any

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_core.catalog import ModelGroup
from routeiq_core.gateway import Gateway
from routeiq_core.resilience import BreakerConfig, BreakerRegistry, RetryPolicy, reporting_transitions
from routeiq_core.routing import DeploymentStats, RouteContext
from routeiq_core.tracing import NOOP_TRACER
from tests.support.clocks import ManualClock
from tests.support.providers import ScriptedClient, catalog


class InOrder:
    """A strategy that keeps configuration order, so tests know which deployment comes first."""

    name = "in-order"

    def order(self, group: ModelGroup, candidates: Any, context: RouteContext) -> list[Any]:
        return list(candidates)


def make(
    groups: list[ModelGroup], script: dict[str, list[Any]] | None = None, **kw: Any
) -> tuple[Gateway, ScriptedClient, InMemoryMetrics, ManualClock, BreakerRegistry]:
    """A gateway over ``groups`` (strategy: configuration order) with a scripted client and a manual clock.

    Keywords: ``threshold`` (breaker failures), ``retries``, ``timeout`` (the request deadline),
    ``tracer``, ``forwarders`` (native forwarders by protocol).
    """
    clock = ManualClock()
    metrics = InMemoryMetrics()
    client = ScriptedClient(script)
    breakers = BreakerRegistry(
        BreakerConfig(failure_threshold=kw.pop("threshold", 3), cooldown_s=30),
        clock,
        reporting_transitions(metrics),
    )
    gateway = Gateway(
        catalog=catalog(*groups),
        clients={"mock": client},
        strategy=InOrder(),
        breakers=breakers,
        retry=RetryPolicy(num_retries=kw.pop("retries", 2), base_delay_s=0.1, max_delay_s=5),
        metrics=metrics,
        stats=DeploymentStats(clock),
        request_timeout_s=kw.pop("timeout", 60.0),
        rng=random.Random(0),
        tracer=kw.pop("tracer", NOOP_TRACER),
        clock=clock,
        sleep=clock.sleep,
        forwarders=kw.pop("forwarders", None),
    )
    return gateway, client, metrics, clock, breakers
