"""What only the in-memory store does: a bound on entries, evicting the least recently used."""

from __future__ import annotations

import pytest

from routeiq_adapters.cache import InMemoryCacheStore
from routeiq_core.cache.entry import CachedResponse
from tests.support.clocks import ManualClock

pytestmark = pytest.mark.anyio


def entry(n: int) -> CachedResponse:
    return CachedResponse(body=str(n).encode(), model_group="chat", created=0.0)


async def test_bounded_with_lru_eviction() -> None:
    store = InMemoryCacheStore(max_entries=2)
    await store.set("team-a", "k1", entry(1), 60)
    await store.set("team-b", "k2", entry(2), 60)
    assert await store.get("team-a", "k1") is not None  # k1 is now the most recent
    await store.set("team-a", "k3", entry(3), 60)
    assert len(store) == 2
    assert await store.get("team-b", "k2") is None
    assert await store.get("team-a", "k1") is not None


async def test_per_entry_ttl_with_an_injected_clock() -> None:
    clock = ManualClock(0.0)
    store = InMemoryCacheStore(clock=clock)
    await store.set("team-a", "short", entry(1), 1)
    await store.set("team-a", "long", entry(2), 10)
    clock.now = 5
    assert await store.get("team-a", "short") is None
    assert await store.get("team-a", "long") is not None
    assert await store.clear_scope("team-a") == 1


def test_max_entries_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        InMemoryCacheStore(max_entries=0)
