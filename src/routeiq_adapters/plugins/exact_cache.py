"""``exact_cache``: answers a request seen before (same normalised request, model group and tenant)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from routeiq_adapters.cache.memory import InMemoryCacheStore
from routeiq_adapters.cache.redis import RedisCacheStore
from routeiq_adapters.plugins._cache_base import CACHE_HEADER, CacheOptions, ResponseCachePlugin
from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core.cache.entry import CachedResponse
from routeiq_core.cache.keys import cache_key
from routeiq_core.cache.store import CacheStore
from routeiq_core.errors import ConfigurationError
from routeiq_core.plugins.port import Capability, FailureMode, PluginContext, PluginSpec

NAME = "exact_cache"


class ExactCacheConfig(CacheOptions, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of ``plugins.exact_cache`` (the shared cache settings, plus where entries live).

    Attributes:
        backend: ``memory`` (this process, LRU) or ``redis`` (shared by every worker and node).
        max_entries: Entries kept in memory (``memory`` backend).
        redis_url: The Redis server (``redis`` backend).
        namespace: Separates deployments sharing one Redis.
        redis_timeout_s: Deadline of each Redis operation; a slow Redis is a miss.
    """

    backend: Literal["memory", "redis"] = "memory"
    max_entries: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    redis_url: str | None = None
    namespace: str | None = None
    redis_timeout_s: Annotated[float, msgspec.Meta(gt=0.0)] = 0.5


class _Plan(msgspec.Struct, frozen=True):
    scope: str
    key: str


def _store(config: ExactCacheConfig) -> CacheStore:
    if config.backend == "memory":
        return InMemoryCacheStore(max_entries=config.max_entries)
    if not config.redis_url:
        raise ConfigurationError([f"plugins.{NAME}.redis_url: required when backend is 'redis'"])
    return RedisCacheStore.from_url(
        config.redis_url, namespace=config.namespace, timeout_s=config.redis_timeout_s
    )


class ExactCachePlugin(ResponseCachePlugin[_Plan]):
    """Caches answers by the SHA-256 of the tenant scope and the normalised request.

    Args:
        config: The plugin's settings.
        deps: The app's services (metrics).

    Raises:
        ConfigurationError: ``redis`` without a ``redis_url``.
        ValueError: An invalid namespace.
    """

    cache_kind = "exact"

    def __init__(self, config: ExactCacheConfig, deps: PluginDeps) -> None:
        caps = {Capability.REQUEST_READ, Capability.RESPONSE_READ, Capability.STORAGE}
        if config.backend == "redis":
            caps.add(Capability.NETWORK)
        spec = PluginSpec(
            name=NAME, version="1", capabilities=frozenset(caps), failure_mode=FailureMode.CONTINUE
        )
        super().__init__(config, deps, spec)
        self.config = config
        self._cache: CacheStore = _store(config)

    async def on_shutdown(self) -> None:
        """Close the store's connections."""
        await self._cache.aclose()

    def plan(self, ctx: PluginContext, group: str, scope: str) -> _Plan | None:
        """The request's key within its tenant scope."""
        return _Plan(scope, cache_key(scope, group, ctx.operation, ctx.payload))

    async def lookup(self, plan: _Plan) -> tuple[CachedResponse, Mapping[str, str]] | None:
        """The stored answer, if any."""
        entry = await self._cache.get(plan.scope, plan.key)
        return None if entry is None else (entry, {CACHE_HEADER: "hit"})

    async def store(self, plan: _Plan, entry: CachedResponse) -> None:
        """Store the answer for ``ttl_s``."""
        await self._cache.set(plan.scope, plan.key, entry, self.policy.ttl_s)
