"""Cache store adapters: in process memory and Redis."""

from routeiq_adapters.cache.memory import InMemoryCacheStore
from routeiq_adapters.cache.redis import RedisCacheStore

__all__ = ["InMemoryCacheStore", "RedisCacheStore"]
