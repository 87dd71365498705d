"""Quota store adapters: in process memory and Redis."""

from routeiq_adapters.quota.memory import InMemoryQuotaStore
from routeiq_adapters.quota.redis import RedisQuotaStore

__all__ = ["InMemoryQuotaStore", "RedisQuotaStore"]
