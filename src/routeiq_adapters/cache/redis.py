"""Exact-cache entries in Redis, shared by every worker and node using the server."""

from __future__ import annotations

import math
import re

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from routeiq_core.cache.entry import CachedResponse
from routeiq_core.cache.keys import check_scope
from routeiq_core.cache.store import CacheStoreError

_NAMESPACE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SCAN_COUNT = 500


class RedisCacheStore:
    """The Redis adapter of the ``CacheStore`` port.

    Keys are ``routeiq:cache:<scope>:<hash>``, or ``routeiq:cache:{<namespace>}:<scope>:<hash>`` with
    a namespace (the braces keep namespaces and scopes apart, and a namespace in one cluster slot).
    Values are msgpack-encoded entries; the TTL is set with the write (``SET ... PX``), so Redis
    expires entries itself. ``clear_scope`` walks the scope with ``SCAN`` and ``UNLINK``.

    Args:
        client: A ``redis.asyncio`` client with socket timeouts set (see :meth:`from_url`).
        namespace: Separates deployments (and tests) sharing a server.
        owns_client: Whether :meth:`aclose` closes the client.
    """

    def __init__(
        self, client: aioredis.Redis, *, namespace: str | None = None, owns_client: bool = False
    ) -> None:
        if namespace is not None and not _NAMESPACE.match(namespace):
            raise ValueError(f"namespace must match {_NAMESPACE.pattern}, got {namespace!r}")
        self._client = client
        self._prefix = "routeiq:cache:" + (f"{{{namespace}}}:" if namespace else "")
        self._owns_client = owns_client
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(CachedResponse)

    @classmethod
    def from_url(
        cls, url: str, *, namespace: str | None = None, timeout_s: float = 0.5, max_connections: int = 64
    ) -> RedisCacheStore:
        """A store with its own connection pool, every socket operation bounded by ``timeout_s``."""
        client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            max_connections=max_connections,
            health_check_interval=30,
        )
        return cls(client, namespace=namespace, owns_client=True)

    @property
    def prefix(self) -> str:
        """The prefix of every key this store writes."""
        return self._prefix

    def _key(self, scope: str, key: str) -> str:
        return f"{self._prefix}{check_scope(scope)}:{key}"

    async def get(self, scope: str, key: str) -> CachedResponse | None:
        """The live entry, or ``None`` (an undecodable value counts as a miss)."""
        name = self._key(scope, key)
        try:
            raw = await self._client.get(name)
        except RedisError as exc:
            raise CacheStoreError(f"Redis cache store failed: {exc}") from exc
        if not isinstance(raw, bytes):
            return None
        try:
            return self._decoder.decode(raw)
        except msgspec.DecodeError:
            return None

    async def set(self, scope: str, key: str, entry: CachedResponse, ttl_s: float) -> None:
        """Store ``entry`` for ``ttl_s`` seconds (millisecond precision)."""
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive, got {ttl_s}")
        name = self._key(scope, key)
        try:
            await self._client.set(name, self._encoder.encode(entry), px=max(1, math.ceil(ttl_s * 1000)))
        except RedisError as exc:
            raise CacheStoreError(f"Redis cache store failed: {exc}") from exc

    async def delete(self, scope: str, key: str) -> bool:
        """Remove one entry; whether there was one."""
        name = self._key(scope, key)
        try:
            removed: int = await self._client.delete(name)
        except RedisError as exc:
            raise CacheStoreError(f"Redis cache store failed: {exc}") from exc
        return removed > 0

    async def clear_scope(self, scope: str) -> int:
        """Remove every entry of ``scope`` (scan, then unlink in batches)."""
        pattern = f"{self._prefix}{check_scope(scope)}:*"
        removed = 0
        try:
            batch: list[bytes] = []
            async for name in self._client.scan_iter(match=pattern, count=_SCAN_COUNT):
                batch.append(name)
                if len(batch) >= _SCAN_COUNT:
                    removed += await self._client.unlink(*batch)
                    batch = []
            if batch:
                removed += await self._client.unlink(*batch)
        except RedisError as exc:
            raise CacheStoreError(f"Redis cache store failed: {exc}") from exc
        return removed

    async def ping(self) -> None:
        """Raise :class:`CacheStoreError` unless Redis answers."""
        try:
            await self._client.ping()
        except RedisError as exc:
            raise CacheStoreError(f"Redis cache store unreachable: {exc}") from exc

    async def aclose(self) -> None:
        """Close the client if this store created it."""
        if self._owns_client:
            await self._client.aclose()
