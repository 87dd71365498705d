"""The cache-store port: where exact-cache entries live, per tenant scope, with a TTL."""

from __future__ import annotations

from typing import Protocol

from routeiq_core.cache.entry import CachedResponse
from routeiq_core.errors import RouteIQError


class CacheStoreError(RouteIQError):
    """A cache store could not answer (connection refused, timeout, protocol error).

    Adapters raise it (chaining the driver's exception) so the cache plugin can treat the cache as a
    miss (fail open) without importing any driver.
    """

    status_code = 503
    error_type = "service_unavailable_error"
    default_code = "cache_store_error"


class CacheStore(Protocol):
    """Stores :class:`CachedResponse` entries by ``(scope, key)``.

    ``scope`` is a tenant scope (:func:`routeiq_core.cache.keys.tenant_scope`), checked with
    :func:`routeiq_core.cache.keys.check_scope` (``ValueError`` otherwise); ``key`` is a
    :func:`routeiq_core.cache.keys.cache_key` hex digest. Entries of one scope are never visible
    from another. Adapters raise :class:`CacheStoreError` when their backend fails.
    """

    async def get(self, scope: str, key: str) -> CachedResponse | None:
        """The live entry, or ``None`` (missing or expired)."""
        ...

    async def set(self, scope: str, key: str, entry: CachedResponse, ttl_s: float) -> None:
        """Store ``entry`` for ``ttl_s`` seconds (> 0), replacing any entry under the key."""
        ...

    async def delete(self, scope: str, key: str) -> bool:
        """Remove one entry; whether there was one."""
        ...

    async def clear_scope(self, scope: str) -> int:
        """Remove every entry of ``scope``; how many were removed."""
        ...

    async def aclose(self) -> None:
        """Release connections (the in-memory store has none)."""
        ...
