"""Circuit-breaker state shared between workers through real Redis."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from routeiq_adapters.state import RedisBreakerSync
from routeiq_core.resilience import BreakerConfig, BreakerRegistry, BreakerState


def worker(redis_url: str) -> tuple[RedisBreakerSync, BreakerRegistry]:
    sync = RedisBreakerSync(redis_url)
    registry = BreakerRegistry(BreakerConfig(failure_threshold=2, cooldown_s=30), on_transition=sync.notify)
    return sync, registry


async def eventually(predicate: Callable[[], bool]) -> bool:
    """Poll ``predicate`` for up to 5 s (state arrives from another connection: no event to wait on)."""
    for _ in range(250):
        if predicate():
            return True
        await anyio.sleep(0.02)
    return predicate()


@pytest.mark.anyio
async def test_an_open_breaker_reaches_the_other_worker_and_so_does_its_recovery(redis_url: str) -> None:
    (sync_a, a), (sync_b, b) = worker(redis_url), worker(redis_url)
    async with sync_a.running(a), sync_b.running(b):
        assert await eventually(lambda: sync_a.connected and sync_b.connected)
        a.get("d1").record_failure()
        a.get("d1").record_failure()  # opens on worker a
        assert await eventually(lambda: b.get("d1").state is BreakerState.OPEN)
        assert not b.get("d1").allow()
        assert 25 < b.get("d1").retry_after_s() <= 30  # the remaining cool-down came along
        b.get("d1").apply_remote(BreakerState.OPEN, 0)  # pretend b's cool-down is over
        assert b.get("d1").allow()  # b probes
        b.get("d1").record_success()  # ... successfully: closes on b, published to a
        assert await eventually(lambda: a.get("d1").state is BreakerState.CLOSED)
        assert (await sync_a.check()).status == "ok"


@pytest.mark.anyio
async def test_unreachable_redis_is_declared_not_raised() -> None:
    sync, registry = worker("redis://127.0.0.1:9/0")
    async with sync.running(registry):
        registry.get("d").record_failure()
        registry.get("d").record_failure()
        assert registry.get("d").state is BreakerState.OPEN  # local breakers keep working
        await anyio.sleep(0.2)
        health = await sync.check()
    assert health.status == "degraded"
    assert "per worker" in (health.reason or "")
