"""Exact-cache entries in process memory: bounded (least recently used evicted) with per-entry TTL."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from cachetools import TLRUCache

from routeiq_core.cache.entry import CachedResponse
from routeiq_core.cache.keys import check_scope


class _Item(NamedTuple):
    entry: CachedResponse
    ttl_s: float


def _expires(_key: tuple[str, str], item: _Item, now: float) -> float:
    return now + item.ttl_s


class InMemoryCacheStore:
    """The in-process adapter of the ``CacheStore`` port (one process; use Redis to share).

    Methods never await, so each runs as one step on the event loop.

    Args:
        max_entries: Entries kept across all scopes; the least recently used go first.
        clock: Monotonic seconds (injectable for tests).
    """

    def __init__(self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._items: TLRUCache[tuple[str, str], _Item] = TLRUCache(
            maxsize=max_entries, ttu=_expires, timer=clock
        )

    def __len__(self) -> int:
        """Entries held (expired ones may count until the next write)."""
        return len(self._items)

    async def get(self, scope: str, key: str) -> CachedResponse | None:
        """The live entry, or ``None``."""
        item = self._items.get((check_scope(scope), key))
        return None if item is None else item.entry

    async def set(self, scope: str, key: str, entry: CachedResponse, ttl_s: float) -> None:
        """Store ``entry`` for ``ttl_s`` seconds."""
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive, got {ttl_s}")
        self._items[(check_scope(scope), key)] = _Item(entry, ttl_s)

    async def delete(self, scope: str, key: str) -> bool:
        """Remove one entry; whether a live one was there."""
        return self._items.pop((check_scope(scope), key), None) is not None

    async def clear_scope(self, scope: str) -> int:
        """Remove every entry of ``scope``."""
        check_scope(scope)
        self._items.expire()
        doomed = [k for k in self._items if k[0] == scope]
        for k in doomed:
            del self._items[k]
        return len(doomed)

    async def aclose(self) -> None:
        """Nothing to release."""
