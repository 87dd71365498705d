"""Composing the deployment strategy the container builds from the routing settings."""

from __future__ import annotations

from routeiq_app.settings import Settings
from routeiq_core.routing import DeploymentStrategy
from routeiq_core.routing.composition import AffinityStage, InMemoryAffinityStore, Pipeline, StrategyStage


def with_affinity(strategy: DeploymentStrategy, settings: Settings) -> DeploymentStrategy:
    """The configured strategy, followed by conversation affinity when ``routing.affinity`` is on."""
    if not settings.routing.affinity:
        return strategy
    affinity = AffinityStage(InMemoryAffinityStore(), ttl_s=settings.routing.affinity_ttl_s)
    return Pipeline([StrategyStage(strategy), affinity], fallback=strategy, name=f"{strategy.name}+affinity")
