"""Admin read-outs: deployment health and in-process metrics (master key required when set)."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from routeiq_adapters.metrics import InMemoryMetrics, MetricPoint
from routeiq_app import serving
from routeiq_app.model_routing import ModelRouting
from routeiq_core.access import Principal, require
from routeiq_core.access.audited import counting_denials
from routeiq_core.audit import AuditTrail
from routeiq_core.calls import RoutedName
from routeiq_core.catalog import ModelCatalog
from routeiq_core.errors import ConfigurationError, ConflictError, InvalidRequestError
from routeiq_core.resilience import BreakerRegistry, ConcurrencyLimiter
from routeiq_core.routing import DeploymentSnapshot, DeploymentStats
from routeiq_core.routing.composition import Experiment, StrategyBandit


class DeploymentState(msgspec.Struct, kw_only=True):
    """One deployment as the admin API shows it."""

    id: str
    model_group: str
    adapter: str
    upstream_model: str
    input_price_per_mtok: float
    output_price_per_mtok: float
    price_source: str
    max_context_tokens: int | None
    breaker: str
    consecutive_failures: int
    retry_after_s: float
    stats: DeploymentSnapshot


@get(
    "/admin/deployments",
    summary="Deployments, their prices and circuit breakers",
    tags=["admin"],
    sync_to_thread=False,
)
def deployments(
    catalog: NamedDependency[ModelCatalog],
    breakers: NamedDependency[BreakerRegistry],
    stats: NamedDependency[DeploymentStats],
    principal: NamedDependency[Principal],
) -> list[DeploymentState]:
    """Prices (and where they came from), breaker state, in-flight calls, EWMAs, usage per deployment."""
    require(principal, "deployments.read")
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
                    input_price_per_mtok=d.input_price_per_mtok,
                    output_price_per_mtok=d.output_price_per_mtok,
                    price_source=d.price_source,
                    max_context_tokens=d.max_context_tokens,
                    breaker=breaker.state.value,
                    consecutive_failures=breaker.consecutive_failures,
                    retry_after_s=round(breaker.retry_after_s(), 3),
                    stats=stats.snapshot(d.id),
                )
            )
    return out


@get("/admin/metrics", summary="In-process counters of this worker", tags=["admin"], sync_to_thread=False)
def metrics(
    metrics: NamedDependency[InMemoryMetrics],
    limiter: NamedDependency[ConcurrencyLimiter],
    principal: NamedDependency[Principal],
) -> list[MetricPoint]:
    """Every counter: admitted/shed requests, retries, fallbacks, breaker transitions, tokens, spend."""
    require(principal, "metrics.read")
    admission = [
        MetricPoint(name="routeiq_requests_admitted", labels={}, value=limiter.admitted),
        MetricPoint(name="routeiq_requests_shed", labels={}, value=limiter.shed),
        MetricPoint(name="routeiq_requests_in_flight", labels={}, value=limiter.in_flight),
    ]
    return admission + metrics.snapshot()


class ReloadAccepted(msgspec.Struct, kw_only=True):
    """Answer of a reload request whose config validated."""

    status: str
    supervisor_pid: int
    detail: str


@post(
    "/admin/config/reload",
    summary="Validate the config and roll every worker onto it",
    tags=["admin"],
    status_code=202,
)
async def reload_config(
    principal: NamedDependency[Principal], audit_trail: NamedDependency[AuditTrail]
) -> ReloadAccepted:
    """400 with every problem if the config is invalid (nothing changes); 202 once workers are rolling."""
    with counting_denials(audit_trail, principal, "config.reload"):
        require(principal, "config.reload")
    try:
        pid = serving.request_reload()
    except ConfigurationError as exc:
        await audit_trail.admin(
            principal, "config.reload", outcome="failed", details={"problems": len(exc.problems)}
        )
        raise InvalidRequestError(
            "The new configuration is invalid; the current one keeps serving. Problems: "
            + "; ".join(exc.problems),
            code="invalid_config",
        ) from None
    except RuntimeError as exc:
        raise ConflictError(str(exc)) from None
    await audit_trail.admin(principal, "config.reload", details={"supervisor_pid": pid})
    return ReloadAccepted(
        status="reloading",
        supervisor_pid=pid,
        detail="workers restart one by one on the new config; in-flight requests finish on the old one",
    )


class RouterReloaded(msgspec.Struct, kw_only=True):
    """Answer of a router reload."""

    name: str
    registry_version: int


@post(
    "/admin/routers/{name:str}/reload",
    summary="Load a routed model's artifact again and swap it in (this worker)",
    tags=["admin"],
    status_code=200,
)
async def reload_router(
    name: FromPath[str],
    principal: NamedDependency[Principal],
    model_routing: NamedDependency[ModelRouting],
    audit_trail: NamedDependency[AuditTrail],
) -> RouterReloaded:
    """Verify the artifact; a tampered one is refused and the loaded router keeps serving."""
    with counting_denials(audit_trail, principal, "router.reload"):
        require(principal, "config.reload")
    try:
        version = await anyio.to_thread.run_sync(model_routing.reload, name)
    except ConfigurationError as exc:
        await audit_trail.admin(
            principal,
            "router.reload",
            target=name,
            outcome="failed",
            details={"problems": list(exc.problems)},
        )
        raise InvalidRequestError("; ".join(exc.problems), code="invalid_artifact") from None
    await audit_trail.admin(principal, "router.reload", target=name, details={"registry_version": version})
    return RouterReloaded(name=name, registry_version=version)


class RoutingState(msgspec.Struct, kw_only=True):
    """The deployment strategy of this worker and what its experiment or bandit has learned."""

    strategy: str
    experiment: dict[str, Any] | None = None
    bandit: dict[str, Any] | None = None
    routed: list[RoutedName] = msgspec.field(default_factory=list)
    registry: dict[str, Any] | None = None
    """Registry-backed routed names: the version each serves on this worker, and the last sync error."""


@get(
    "/admin/routing",
    summary="Deployment strategy, experiment and bandit counters (this worker)",
    tags=["admin"],
    sync_to_thread=False,
)
def routing_state(
    selected_strategy: NamedDependency[Any],
    principal: NamedDependency[Principal],
    model_routing: NamedDependency[ModelRouting],
    promotion_watcher: NamedDependency[Any],
) -> RoutingState:
    """Per-arm assignments and outcomes of an experiment, posteriors of a bandit; the routed names."""
    require(principal, "deployments.read")
    state = RoutingState(strategy=selected_strategy.name, routed=model_routing.routed.names)
    if promotion_watcher is not None:
        state.registry = {
            "serving": dict(promotion_watcher.serving),
            "last_error": promotion_watcher.last_error,
        }
    if isinstance(selected_strategy, Experiment):
        state.experiment = msgspec.to_builtins(selected_strategy.stats())
    elif isinstance(selected_strategy, StrategyBandit):
        state.bandit = msgspec.to_builtins(selected_strategy.stats())
    return state
