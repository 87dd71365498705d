"""Adapters sharing runtime state between workers."""

from routeiq_adapters.state.redis_affinity import RedisAffinityStore
from routeiq_adapters.state.redis_breakers import RedisBreakerSync

__all__ = ["RedisAffinityStore", "RedisBreakerSync"]
