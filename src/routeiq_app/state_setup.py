"""Wiring of the optional shared-state adapters (Redis) into the container."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_adapters.state import RedisAffinityStore, RedisBreakerSync
from routeiq_core.health import HealthCheck
from routeiq_core.resilience import BreakerRegistry, Transition, fan_out, reporting_transitions


def breaker_sync(redis_url: str | None, namespace: str = "default") -> RedisBreakerSync | None:
    """A Redis breaker sync when a Redis URL is configured."""
    return RedisBreakerSync(redis_url, namespace=namespace) if redis_url else None


def breaker_hooks(metrics: InMemoryMetrics, sync: RedisBreakerSync | None) -> Transition:
    """Count and log every transition, and publish it when breaker state is shared."""
    report = reporting_transitions(metrics)
    return fan_out(report, sync.notify) if sync is not None else report


async def run_breaker_sync(sync: RedisBreakerSync | None, registry: BreakerRegistry) -> AsyncIterator[None]:
    """Container Resource: the sync's background tasks live as long as the app."""
    if sync is None:
        yield
        return
    async with sync.running(registry):
        yield


def affinity_store(redis_url: str | None, affinity: bool, namespace: str) -> RedisAffinityStore | None:
    """Conversation pins shared through Redis when affinity is on and a Redis URL is configured."""
    return RedisAffinityStore(redis_url, namespace=namespace) if redis_url and affinity else None


async def close_affinity_store(store: RedisAffinityStore | None) -> AsyncIterator[None]:
    """Container Resource: close the store's connections at shutdown."""
    try:
        yield
    finally:
        if store is not None:
            await store.aclose()


def health_checks(*checks: HealthCheck | None) -> Sequence[HealthCheck]:
    """The configured health checks (optional ones left out)."""
    return [c for c in checks if c is not None]
