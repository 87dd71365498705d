"""Share circuit-breaker state between workers and nodes through Redis pub/sub.

Each worker keeps its own breakers (the hot path never waits on Redis). When a breaker opens or
closes locally, the transition is published; every other worker adopts it. A Redis outage only
means workers decide alone again until it is back: it is logged once per transition and shown in
readiness, never raised into the request path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

import msgspec
import redis.asyncio as aioredis

from routeiq_core.health import ComponentHealth
from routeiq_core.resilience import BreakerRegistry, BreakerState

logger = logging.getLogger("routeiq.breaker_sync")
CHANNEL = "routeiq:breakers"


class BreakerEvent(msgspec.Struct, frozen=True):
    """One published transition."""

    origin: str
    deployment: str
    state: str
    remaining_s: float


class RedisBreakerSync:
    """Publishes local breaker transitions and applies the ones other workers publish.

    Args:
        redis_url: ``redis://host:port/db``.
        timeout_s: Socket connect/read timeout of every Redis call.
        reconnect_s: Wait between reconnection attempts while Redis is down.
        namespace: Separates RouteIQ deployments sharing one Redis (one channel each).
    """

    name = "breaker-sync"

    def __init__(
        self, redis_url: str, *, timeout_s: float = 2.0, reconnect_s: float = 1.0, namespace: str = "default"
    ) -> None:
        self.worker_id = uuid.uuid4().hex
        self.channel = f"{CHANNEL}:{namespace}"
        self._url = redis_url
        self._timeout_s = timeout_s
        self._reconnect_s = reconnect_s
        self._outbox: asyncio.Queue[BreakerEvent] | None = None
        self._registry: BreakerRegistry | None = None
        self._connected: bool | None = None  # None: not tried yet
        self.received = 0

    def notify(self, key: str, old: BreakerState, new: BreakerState) -> None:
        """Transition hook: queue a local open/close for publishing (never blocks)."""
        if self._outbox is None or self._registry is None or new is BreakerState.HALF_OPEN:
            return
        remaining = self._registry.get(key).retry_after_s()
        self._outbox.put_nowait(BreakerEvent(self.worker_id, key, new.value, remaining))

    @property
    def connected(self) -> bool:
        """Whether the subscription to Redis is up."""
        return self._connected is True

    async def check(self) -> ComponentHealth:
        """Readiness: degraded while Redis is unreachable (breakers then work per worker)."""
        if self.connected:
            return ComponentHealth(name=self.name, status="ok")
        return ComponentHealth(
            name=self.name, status="degraded", reason="Redis unreachable: circuit breakers are per worker"
        )

    @contextlib.asynccontextmanager
    async def running(self, registry: BreakerRegistry) -> AsyncIterator[None]:
        """Publish and subscribe in the background for as long as the context is open."""
        self._registry = registry
        self._outbox = asyncio.Queue(maxsize=10_000)
        client = aioredis.Redis.from_url(
            self._url, socket_timeout=self._timeout_s, socket_connect_timeout=self._timeout_s
        )
        tasks = [asyncio.create_task(self._publish(client)), asyncio.create_task(self._subscribe(client))]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await client.aclose()
            self._outbox = None

    async def _publish(self, client: aioredis.Redis) -> None:
        assert self._outbox is not None
        encoder = msgspec.json.Encoder()
        while True:
            event = await self._outbox.get()
            try:
                await client.publish(self.channel, encoder.encode(event))
            except (aioredis.RedisError, OSError) as exc:
                logger.warning("could not publish breaker state of %s: %s", event.deployment, exc)

    async def _subscribe(self, client: aioredis.Redis) -> None:
        decoder = msgspec.json.Decoder(BreakerEvent)
        while True:
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._set_connected(True)
                    while True:
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                        if message is not None:
                            self._apply(decoder.decode(message["data"]))
            except (aioredis.RedisError, OSError, msgspec.DecodeError) as exc:
                self._set_connected(False, exc)
                await asyncio.sleep(self._reconnect_s)

    def _apply(self, event: BreakerEvent) -> None:
        if event.origin == self.worker_id or self._registry is None:
            return
        self.received += 1
        self._registry.apply_remote(event.deployment, BreakerState(event.state), event.remaining_s)
        logger.info("breaker of %s set to %s by another worker", event.deployment, event.state)

    def _set_connected(self, connected: bool, exc: BaseException | None = None) -> None:
        if connected != self._connected:
            if connected:
                logger.info("breaker sync connected to Redis")
            else:
                logger.warning(
                    "breaker sync has no Redis (%s); breakers are per worker until it is back", exc
                )
        self._connected = connected
