"""A small LRU/TTL cache in front of any :class:`KeyStore`, keeping authentication off the database."""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TTLCache

from routeiq_core.access.keys import KeyPage, KeyPatch, KeyStore, VirtualKey


class CachedKeyStore:
    """Caches ``get_by_hash`` hits for ``ttl_s``; every change made through it evicts the key at once.

    The cache is per process. A key revoked, rotated or changed through *another* worker (or node)
    stays usable here for at most ``ttl_s`` seconds: that TTL is the bound on how stale an
    authorization decision can be, so keep it short (a few seconds to a minute). Unknown hashes are
    not cached, so a flood of random keys cannot evict real ones; expiry is checked by the
    authenticator on every request, so caching never extends a key's life.

    Args:
        store: The store to read through to.
        maxsize: Most keys kept (least recently used are evicted first).
        ttl_s: Seconds an entry is trusted.
        timer: Monotonic clock (tests pass a fake one).
    """

    def __init__(
        self,
        store: KeyStore,
        *,
        maxsize: int = 10_000,
        ttl_s: float = 10.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._cache: TTLCache[str, VirtualKey] = TTLCache(maxsize=maxsize, ttl=ttl_s, timer=timer)
        self._generation = 0

    @property
    def ttl_s(self) -> float:
        """How long a change made elsewhere may go unseen here."""
        return float(self._cache.ttl)

    async def ensure_schema(self) -> None:
        """Delegate to the wrapped store."""
        await self._store.ensure_schema()

    async def create(self, key: VirtualKey) -> None:
        """Store a new key (nothing to evict: its hash was never cached)."""
        await self._store.create(key)

    async def get(self, key_id: str) -> VirtualKey | None:
        """Read through (admin path, not cached)."""
        return await self._store.get(key_id)

    async def get_by_hash(self, key_hash: str) -> VirtualKey | None:
        """The cached record, else the store's (cached unless a change raced with the lookup)."""
        cached = self._cache.get(key_hash)
        if cached is not None:
            return cached
        generation = self._generation
        found = await self._store.get_by_hash(key_hash)
        # A change made while we awaited may have evicted this very key: do not resurrect it.
        if found is not None and generation == self._generation:
            self._cache[key_hash] = found
        return found

    async def list_keys(
        self, *, team: str | None = None, user: str | None = None, limit: int = 100, after: str | None = None
    ) -> KeyPage:
        """Read through."""
        return await self._store.list_keys(team=team, user=user, limit=limit, after=after)

    async def update(self, key_id: str, patch: KeyPatch, now: float) -> VirtualKey | None:
        """Change the key and evict it."""
        self.invalidate(key_id)
        try:
            return await self._store.update(key_id, patch, now)
        finally:
            self.invalidate(key_id)

    async def rotate(self, key_id: str, key_hash: str, hint: str, now: float) -> VirtualKey | None:
        """Rotate the key and evict its old hash."""
        self.invalidate(key_id)
        try:
            return await self._store.rotate(key_id, key_hash, hint, now)
        finally:
            self.invalidate(key_id)

    async def revoke(self, key_id: str, now: float) -> VirtualKey | None:
        """Revoke the key and evict it."""
        self.invalidate(key_id)
        try:
            return await self._store.revoke(key_id, now)
        finally:
            self.invalidate(key_id)

    async def close(self) -> None:
        """Close the wrapped store and forget everything."""
        self.clear()
        await self._store.close()

    def invalidate(self, key_id: str) -> None:
        """Forget every cached entry of ``key_id`` (also lookups still in flight)."""
        self._generation += 1
        for key_hash in [h for h, record in self._cache.items() if record.key_id == key_id]:
            self._cache.pop(key_hash, None)

    def clear(self) -> None:
        """Forget everything."""
        self._generation += 1
        self._cache.clear()
