"""Quota counters in Redis: exact across every worker and node that shares the server."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from routeiq_adapters.quota._lua import RESERVE, SETTLE
from routeiq_core.access.errors import QuotaDataError, QuotaStoreError
from routeiq_core.access.quota import QuotaItem, Refusal, Reservation, ReservedItem
from routeiq_core.access.quota_limits import METRICS, WINDOW_SPECS, Amounts, Metric, Window
from routeiq_core.access.quota_window import bucket_of

_NAMESPACE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class RedisQuotaStore:
    """The Redis adapter of the ``QuotaStore`` port.

    Reserve and settle each run as one Lua script (loaded once, then called by ``EVALSHA``), so
    all-or-nothing holds across workers: Redis runs one script at a time. Keys are
    ``routeiq:quota:{<namespace>}:c:<scope>:<id>:<metric>:<window>`` (counters, expiring one window
    after their last change) and ``...:r:<reservation id>`` (pending reservations). The ``{...}`` hash
    tag keeps every key of a namespace in one Redis Cluster slot, as a multi-key script requires.

    Args:
        client: A ``redis.asyncio`` client with socket timeouts set (see :meth:`from_url`).
        namespace: Separates deployments (and tests) sharing a server.
        reservation_ttl_s: How long a reservation may wait for its settlement.
        owns_client: Whether :meth:`aclose` closes the client.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        namespace: str = "default",
        reservation_ttl_s: float = 3_600.0,
        owns_client: bool = False,
    ) -> None:
        if not _NAMESPACE.match(namespace):
            raise ValueError(f"namespace must match {_NAMESPACE.pattern}, got {namespace!r}")
        self._client = client
        self._prefix = f"routeiq:quota:{{{namespace}}}:"
        self._reservation_ttl_ms = max(1, math.ceil(reservation_ttl_s * 1000))
        self._owns_client = owns_client
        self._reserve = client.register_script(RESERVE)
        self._settle = client.register_script(SETTLE)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        namespace: str = "default",
        timeout_s: float = 0.5,
        max_connections: int = 64,
        reservation_ttl_s: float = 3_600.0,
    ) -> RedisQuotaStore:
        """A store with its own connection pool, every socket operation bounded by ``timeout_s``."""
        client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            max_connections=max_connections,
            health_check_interval=30,
        )
        return cls(client, namespace=namespace, reservation_ttl_s=reservation_ttl_s, owns_client=True)

    @property
    def prefix(self) -> str:
        """The key prefix of this store's namespace."""
        return self._prefix

    async def aclose(self) -> None:
        """Close the client if this store created it."""
        if self._owns_client:
            await self._client.aclose()

    async def reserve(self, items: Sequence[QuotaItem], now: float) -> Reservation | Refusal:
        """Reserve every item or none, in one script run (see the port)."""
        _check_distinct(items)
        reservation_id = uuid.uuid4().hex
        if not items:
            return Reservation(id=reservation_id, items=())
        keys = [self._prefix + "r:" + reservation_id, *(self._counter(item) for item in items)]
        args: list[int] = [math.floor(now * 1000), self._reservation_ttl_ms]
        for item in items:
            spec = WINDOW_SPECS[item.window]
            args += [item.amount, item.limit, spec.bucket_s * 1000, spec.buckets]
        reply = await self._call(self._reserve, keys, args)
        if reply[0] == 0:
            _, index, current, retry_ms = (int(x) for x in reply)
            return Refusal(item=items[index - 1], current=current, retry_after_s=retry_ms / 1000)
        buckets = [int(x) for x in reply[1:]]
        return Reservation(
            id=reservation_id,
            items=tuple(ReservedItem(item=item, bucket=b) for item, b in zip(items, buckets, strict=True)),
        )

    async def settle(self, reservation: Reservation, actual: Amounts, now: float) -> None:
        """Apply ``actual - reserved`` to buckets still counted; once per reservation."""
        if not reservation.items:
            return
        keys = [self._prefix + "r:" + reservation.id]
        args: list[int] = [math.floor(now * 1000)]
        for reserved in reservation.items:
            item = reserved.item
            spec = WINDOW_SPECS[item.window]
            keys.append(self._counter(item))
            args += [
                reserved.bucket,
                actual.of(item.metric) - item.amount,
                spec.bucket_s * 1000,
                spec.buckets,
            ]
        await self._call(self._settle, keys, args)

    async def usage(self, scope_key: str, window: Window, now: float) -> Mapping[Metric, int]:
        """Counted amounts of ``scope_key`` in ``window``, by metric (read only)."""
        spec = WINDOW_SPECS[window]
        cur = bucket_of(now, spec)
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for metric in METRICS:
                    pipe.hgetall(f"{self._prefix}c:{scope_key}:{metric}:{window}")
                replies: list[dict[bytes, bytes]] = await pipe.execute()
        except RedisError as exc:
            raise QuotaStoreError(f"Redis quota store failed: {exc}") from exc
        found: dict[Metric, int] = {}
        for metric, fields in zip(METRICS, replies, strict=True):
            if fields:
                lo = int(fields.get(b"lo", b"0"))
                low = max(cur, lo + spec.buckets) - spec.buckets
                found[metric] = sum(
                    int(v) for k, v in fields.items() if k not in (b"lo", b"total") and int(k) >= low
                )
        return found

    async def ping(self) -> None:
        """Raise :class:`QuotaStoreError` unless Redis answers."""
        try:
            await self._client.ping()
        except RedisError as exc:
            raise QuotaStoreError(f"Redis quota store unreachable: {exc}") from exc

    def _counter(self, item: QuotaItem) -> str:
        return self._prefix + "c:" + item.counter_key

    @staticmethod
    async def _call(script: Any, keys: list[str], args: list[int]) -> list[Any]:
        try:
            reply: list[Any] = await script(keys=keys, args=args)
        except ResponseError as exc:
            if type(exc) is ResponseError and "script" in str(exc):  # the script refused these amounts
                raise QuotaDataError(f"The quota store refused this request's amounts: {exc}") from exc
            raise QuotaStoreError(f"Redis quota store failed: {exc}") from exc  # OOM, READONLY, ...
        except RedisError as exc:
            raise QuotaStoreError(f"Redis quota store failed: {exc}") from exc
        return reply


def _check_distinct(items: Sequence[QuotaItem]) -> None:
    keys = [item.counter_key for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError("quota items must name distinct counters (merge limits on the same counter)")
