r"""Conversation-affinity pins shared between workers and nodes through Redis.

One string key per pin (``<prefix><group>\x1f<conversation>`` → deployment id) with a millisecond
expiry, so Redis drops idle conversations itself. Every call is bounded by ``timeout_s``. When Redis
fails, the store stops asking it for ``retry_s`` (each worker then keeps its own pins, as without
Redis), logs once per outage and reports degraded readiness; nothing is raised into the request path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from routeiq_core.health import ComponentHealth

logger = logging.getLogger("routeiq.affinity")
PREFIX = "routeiq:affinity:"


class RedisAffinityStore:
    """The core's ``SharedAffinityStore`` port on Redis.

    Args:
        redis_url: ``redis://host:port/db``.
        namespace: Separates deployments sharing one Redis.
        timeout_s: Connect and read timeout of every call.
        retry_s: After a failure, Redis is left alone this long.
        clock: Monotonic seconds (tests).
    """

    name = "affinity-store"

    def __init__(
        self,
        redis_url: str,
        *,
        namespace: str = "default",
        timeout_s: float = 0.25,
        retry_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = aioredis.Redis.from_url(
            redis_url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            decode_responses=True,
            retry=Retry(NoBackoff(), 0),  # one attempt per call, so timeout_s bounds it
        )
        self._prefix = f"{PREFIX}{namespace}:"
        self._retry_s = retry_s
        self._clock = clock
        self._down_until = 0.0
        self._outage: str | None = None
        self.failures = 0

    async def fetch(self, key: str) -> str | None:
        """The shared pin of ``key``, or None (also while Redis is down)."""
        if self._skipping():
            return None
        try:
            value = await self._client.get(self._prefix + key)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        self._recovered()
        return value if isinstance(value, str) else None

    async def store(self, key: str, deployment_id: str, ttl_s: float) -> None:
        """Share the pin for ``ttl_s`` seconds (dropped while Redis is down)."""
        if self._skipping():
            return
        try:
            if ttl_s > 0:
                await self._client.set(self._prefix + key, deployment_id, px=max(1, int(ttl_s * 1000)))
            else:
                await self._client.delete(self._prefix + key)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return
        self._recovered()

    async def check(self) -> ComponentHealth:
        """Readiness: pings Redis (outside the pause after a failure); degraded while it is unreachable."""
        if not self._skipping():
            try:
                await self._client.ping()
            except (RedisError, OSError) as exc:
                self._failed(exc)
            else:
                self._recovered()
        if self._outage is None:
            return ComponentHealth(name=self.name, status="ok")
        return ComponentHealth(
            name=self.name,
            status="degraded",
            reason=f"Redis unreachable ({self._outage}): conversation affinity is per worker",
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    def _skipping(self) -> bool:
        return self._outage is not None and self._clock() < self._down_until

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        self._down_until = self._clock() + self._retry_s
        if self._outage is None:
            logger.warning("affinity store: Redis unreachable, pins stay per worker: %s", exc)
        self._outage = type(exc).__name__

    def _recovered(self) -> None:
        if self._outage is not None:
            logger.info("affinity store: Redis is back, pins are shared again")
            self._outage = None
