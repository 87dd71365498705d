"""Admin read-outs: deployment health and in-process metrics (master key required when set)."""

from __future__ import annotations

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency

from routeiq_adapters.metrics import InMemoryMetrics, MetricPoint
from routeiq_app.auth import MasterKeyAuth
from routeiq_core.catalog import ModelCatalog
from routeiq_core.resilience import BreakerRegistry
from routeiq_core.routing import DeploymentSnapshot, DeploymentStats


class DeploymentState(msgspec.Struct, kw_only=True):
    """One deployment as the admin API shows it."""

    id: str
    model_group: str
    adapter: str
    upstream_model: str
    breaker: str
    consecutive_failures: int
    retry_after_s: float
    stats: DeploymentSnapshot


@get(
    "/admin/deployments",
    summary="Deployments and their circuit breakers",
    tags=["admin"],
    sync_to_thread=False,
)
def deployments(
    request: Request,  # type: ignore[type-arg]
    catalog: NamedDependency[ModelCatalog],
    breakers: NamedDependency[BreakerRegistry],
    stats: NamedDependency[DeploymentStats],
    auth: NamedDependency[MasterKeyAuth],
) -> list[DeploymentState]:
    """Breaker state, in-flight calls, latency and error EWMAs, last-minute usage per deployment."""
    auth.check(request.scope)  # type: ignore[arg-type]
    out = []
    for group in catalog.groups:
        for d in group.deployments:
            breaker = breakers.get(d.id)
            out.append(
                DeploymentState(
                    id=d.id,
                    model_group=group.name,
                    adapter=d.adapter,
                    upstream_model=d.upstream_model,
                    breaker=breaker.state.value,
                    consecutive_failures=breaker.consecutive_failures,
                    retry_after_s=round(breaker.retry_after_s(), 3),
                    stats=stats.snapshot(d.id),
                )
            )
    return out


@get("/admin/metrics", summary="In-process counters of this worker", tags=["admin"], sync_to_thread=False)
def metrics(
    request: Request,  # type: ignore[type-arg]
    metrics: NamedDependency[InMemoryMetrics],
    auth: NamedDependency[MasterKeyAuth],
) -> list[MetricPoint]:
    """Every counter: retries, fallbacks, breaker transitions, tokens, spend."""
    auth.check(request.scope)  # type: ignore[arg-type]
    return metrics.snapshot()
