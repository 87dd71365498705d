"""Ended MCP legacy sessions shared between workers and nodes through Redis.

One key per ended session (``<prefix><session id>``) expiring when the session would have, so
Redis forgets it by itself. Every call is bounded by ``timeout_s``. This worker's own endings are
also kept in memory, so they hold while Redis is down; during an outage (Redis is then left alone
for ``retry_s``) a session another worker ended may still be accepted here until Redis is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from routeiq_core.mcp import LocalRevocations

logger = logging.getLogger("routeiq.mcp")
PREFIX = "routeiq:mcp-ended:"


class RedisSessionRevocations:
    """The core's ``Revocations`` port on Redis (with this worker's endings in memory too).

    Args:
        redis_url: ``redis://host:port/db``.
        namespace: Separates deployments sharing one Redis.
        timeout_s: Connect and read timeout of every call.
        retry_s: After a failure, Redis is left alone this long.
        clock: Monotonic seconds (tests).
    """

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
            retry=Retry(NoBackoff(), 0),
        )
        self._prefix = f"{PREFIX}{namespace}:"
        self._local = LocalRevocations()
        self._retry_s = retry_s
        self._clock = clock
        self._down_until = 0.0

    async def revoke(self, session_id: str, ttl_s: float) -> None:
        """Remember the ending here and in Redis (for ``ttl_s`` seconds)."""
        await self._local.revoke(session_id, ttl_s)
        if self._clock() < self._down_until:
            return
        try:
            await self._client.set(self._prefix + session_id, b"1", px=max(1, int(ttl_s * 1000)))
        except (RedisError, OSError) as exc:
            self._failed(exc)

    async def revoked(self, session_id: str) -> bool:
        """Whether this worker or any other ended the session (this worker's view alone during an outage)."""
        if await self._local.revoked(session_id):
            return True
        if self._clock() < self._down_until:
            return False
        try:
            return bool(await self._client.exists(self._prefix + session_id))
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return False

    def _failed(self, exc: Exception) -> None:
        if self._clock() >= self._down_until:
            logger.warning("MCP session revocations: Redis failed (%s); retrying in %g s", exc, self._retry_s)
        self._down_until = self._clock() + self._retry_s

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
