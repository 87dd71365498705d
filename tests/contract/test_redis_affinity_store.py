"""The SharedAffinityStore port on Redis: a real server, an unreachable one, a silent one, an outage.

Every test uses its own key namespace (a uuid) and deletes it afterwards, so runs never collide.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
import pytest
import redis.asyncio as aioredis

from routeiq_adapters.state import RedisAffinityStore
from routeiq_adapters.state.redis_affinity import PREFIX
from routeiq_core.context import CallContext
from routeiq_core.routing.composition import AffinityStage, InMemoryAffinityStore
from tests.support.clocks import ManualClock
from tests.unit.routing.strategies.support import dep, group_of, ids

pytestmark = pytest.mark.anyio

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused
KEY = "g\x1fconversation-1"

OpenStore = Callable[..., RedisAffinityStore]


@pytest.fixture
async def open_store(redis_url: str) -> AsyncIterator[OpenStore]:
    """Opens Redis stores (one per simulated worker) in this test's namespace; cleans up after."""
    namespace = f"test-{uuid.uuid4().hex}"
    opened: list[RedisAffinityStore] = []
    used = {namespace}

    def open_worker(url: str = redis_url, **kw: Any) -> RedisAffinityStore:
        kw.setdefault("namespace", namespace)
        used.add(kw["namespace"])
        store = RedisAffinityStore(url, **kw)
        opened.append(store)
        return store

    try:
        yield open_worker
    finally:
        for store in opened:
            await store.aclose()
        client = aioredis.Redis.from_url(redis_url)
        for ns in used:
            keys = [key async for key in client.scan_iter(match=f"{PREFIX}{ns}:*", count=500)]
            if keys:
                await client.delete(*keys)
        await client.aclose()


async def test_a_stored_pin_is_fetched_back_by_every_worker_and_replaced(open_store: OpenStore) -> None:
    a, b = open_store(), open_store()  # two workers, one Redis
    await a.store(KEY, "d1", ttl_s=60)
    assert await a.fetch(KEY) == "d1"
    assert await b.fetch(KEY) == "d1"
    await b.store(KEY, "d2", ttl_s=60)  # b re-pins (after a failover, say)
    assert await a.fetch(KEY) == "d2"
    assert (a.failures, b.failures) == (0, 0)
    assert (await a.check()).status == "ok"


async def test_an_unknown_key_is_none(open_store: OpenStore) -> None:
    store = open_store()
    await store.store(KEY, "d1", ttl_s=60)
    assert await store.fetch("g\x1fnever-seen") is None
    assert await store.fetch("other-group\x1fconversation-1") is None  # the group is part of the key
    assert store.failures == 0


async def test_a_pin_expires_after_its_ttl(open_store: OpenStore) -> None:
    store = open_store()
    await store.store(KEY, "d1", ttl_s=0.2)
    assert await store.fetch(KEY) == "d1"
    await anyio.sleep(0.4)  # Redis expires the key itself (not a performance measurement)
    assert await store.fetch(KEY) is None


async def test_the_ttl_is_set_in_redis_in_milliseconds(open_store: OpenStore, redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    store = open_store(namespace=namespace)
    await store.store(KEY, "d1", ttl_s=30.5)
    await store.store("g\x1ftiny", "d1", ttl_s=0.0001)  # rounds up to 1 ms, never to "no expiry"
    client = aioredis.Redis.from_url(redis_url)
    try:
        ttl = await client.pttl(f"{PREFIX}{namespace}:{KEY}")
    finally:
        await client.aclose()
    assert 29_000 < ttl <= 30_500
    await anyio.sleep(0.01)
    assert await store.fetch("g\x1ftiny") is None


async def test_a_zero_or_negative_ttl_deletes_the_pin(open_store: OpenStore) -> None:
    store = open_store()
    await store.store(KEY, "d1", ttl_s=60)
    await store.store(KEY, "d2", ttl_s=0)
    assert await store.fetch(KEY) is None
    await store.store(KEY, "d1", ttl_s=60)
    await store.store(KEY, "d1", ttl_s=-1)
    assert await store.fetch(KEY) is None
    assert store.failures == 0


async def test_namespaces_isolate(open_store: OpenStore) -> None:
    blue = open_store(namespace=f"test-blue-{uuid.uuid4().hex}")
    green = open_store(namespace=f"test-green-{uuid.uuid4().hex}")
    await blue.store(KEY, "d1", ttl_s=60)
    assert await green.fetch(KEY) is None
    await green.store(KEY, "d2", ttl_s=60)
    assert (await blue.fetch(KEY), await green.fetch(KEY)) == ("d1", "d2")
    await green.store(KEY, "d2", ttl_s=0)  # deleting in one namespace leaves the other alone
    assert (await blue.fetch(KEY), await green.fetch(KEY)) == ("d1", None)


async def test_an_unreachable_redis_is_reported_not_raised_and_left_alone_for_retry_s(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    store = RedisAffinityStore(CLOSED_PORT_URL, timeout_s=0.2, retry_s=5.0, clock=clock)
    try:
        with caplog.at_level(logging.INFO, logger="routeiq.affinity"):
            assert await store.fetch(KEY) is None
            assert store.failures == 1
            health = await store.check()
            assert health.status == "degraded"
            assert health.name == "affinity-store"
            assert "ConnectionError" in (health.reason or "")
            assert "per worker" in (health.reason or "")

            clock.now += 4.9  # still inside retry_s: Redis is not asked again
            await store.store(KEY, "d1", ttl_s=60)
            assert await store.fetch(KEY) is None
            assert store.failures == 1

            clock.now += 0.2  # retry_s is over: the store tries again (and fails again)
            await store.store(KEY, "d1", ttl_s=60)
            assert store.failures == 2
            assert (await store.check()).status == "degraded"
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]  # logged once per outage
    finally:
        await store.aclose()


class SilentServer:
    """A TCP server that accepts connections and never answers: a hung Redis."""

    def __init__(self) -> None:
        self.accepted = 0

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, self._hold)
            try:
                yield f"redis://127.0.0.1:{port}/0"
            finally:
                tg.cancel_scope.cancel()

    async def _hold(self, stream: anyio.abc.SocketStream) -> None:
        self.accepted += 1
        async with stream:
            await anyio.sleep_forever()


async def test_a_redis_that_never_answers_costs_one_timeout_and_no_retries() -> None:
    server = SilentServer()
    async with server.running() as url:
        store = RedisAffinityStore(url, timeout_s=0.1, retry_s=60, clock=ManualClock())
        try:
            with anyio.fail_after(5):  # generous: a missing timeout would hang here forever
                assert await store.fetch(KEY) is None
                await store.store(KEY, "d1", ttl_s=60)  # within retry_s: dropped without waiting
            assert store.failures == 1
            assert server.accepted == 1  # the client did not reconnect and retry behind our back
            health = await store.check()
            assert health.status == "degraded"
            assert "TimeoutError" in (health.reason or "")
        finally:
            await store.aclose()


class SwitchableRelay:
    """A TCP relay to Redis that can be cut (connections dropped and refused) and restored."""

    def __init__(self, target_url: str) -> None:
        parsed = urlsplit(target_url)
        self._target = (parsed.hostname or "127.0.0.1", parsed.port or 6379)
        self._open: set[anyio.abc.SocketStream] = set()
        self.up = True

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, self._relay)
            try:
                yield f"redis://127.0.0.1:{port}/0"
            finally:
                tg.cancel_scope.cancel()

    async def cut(self) -> None:
        self.up = False
        for stream in list(self._open):
            await stream.aclose()

    def restore(self) -> None:
        self.up = True

    async def _relay(self, client: anyio.abc.SocketStream) -> None:
        async with client:
            if not self.up:
                return  # accepted and closed at once: the client sees a dropped connection
            async with await anyio.connect_tcp(*self._target) as upstream:
                self._open |= {client, upstream}
                try:
                    async with anyio.create_task_group() as tg:

                        async def pipe(src: anyio.abc.SocketStream, dst: anyio.abc.SocketStream) -> None:
                            try:
                                async for chunk in src:
                                    await dst.send(chunk)
                            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                                pass
                            tg.cancel_scope.cancel()

                        tg.start_soon(pipe, client, upstream)
                        tg.start_soon(pipe, upstream, client)
                finally:
                    self._open -= {client, upstream}


async def test_the_store_recovers_after_an_outage(
    open_store: OpenStore, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    relay = SwitchableRelay(redis_url)
    async with relay.running() as url:
        store = open_store(url, timeout_s=1.0, retry_s=2.0, clock=clock)
        await store.store(KEY, "d1", ttl_s=60)
        assert await store.fetch(KEY) == "d1"

        await relay.cut()
        assert await store.fetch(KEY) is None
        assert store.failures == 1
        assert (await store.check()).status == "degraded"

        relay.restore()
        clock.now += 1.0  # Redis is back, but retry_s has not passed: still per worker
        assert await store.fetch(KEY) is None
        assert store.failures == 1
        assert (await store.check()).status == "degraded"

        clock.now += 1.5
        with caplog.at_level(logging.INFO, logger="routeiq.affinity"):
            assert await store.fetch(KEY) == "d1"  # the pin survived in Redis
        assert store.failures == 1
        health = await store.check()
        assert (health.status, health.reason) == ("ok", None)
        assert any("back" in r.getMessage() for r in caplog.records)


async def test_a_conversation_pinned_by_one_worker_is_honoured_by_another(open_store: OpenStore) -> None:
    shared = open_store()
    worker_a = AffinityStage(InMemoryAffinityStore(clock=ManualClock()), shared=shared)
    worker_b = AffinityStage(InMemoryAffinityStore(clock=ManualClock()), shared=shared)
    d1, d2, d3 = dep(1), dep(2), dep(3)
    group = group_of([d1, d2, d3])
    conversation = f"c-{uuid.uuid4().hex}"
    context = CallContext(conversation_id=conversation)

    ordered, reason = worker_a.apply(group, [d2, d1, d3], context)  # a's strategy put d2 first
    assert (ordered[0].id, reason) == ("d2", f"affinity: conversation {conversation} pinned → d2")
    await worker_a.commit(group, context, "d2")

    await worker_b.prepare(group, context)
    ordered, reason = worker_b.apply(group, [d1, d3, d2], context)  # b's strategy prefers d1
    assert ids(ordered) == ["d2", "d1", "d3"]
    assert reason == f"affinity: conversation {conversation} → d2"


async def test_a_shared_re_pin_overrides_a_workers_stale_local_pin(open_store: OpenStore) -> None:
    shared = open_store()
    worker_a = AffinityStage(InMemoryAffinityStore(clock=ManualClock()), shared=shared)
    worker_b = AffinityStage(InMemoryAffinityStore(clock=ManualClock()), shared=shared)
    ds = [dep(1), dep(2), dep(3)]
    group = group_of(ds)
    context = CallContext(conversation_id=f"c-{uuid.uuid4().hex}")

    await worker_b.prepare(group, context)
    assert worker_b.apply(group, list(ds), context)[0][0].id == "d1"
    await worker_b.commit(group, context, "d1")  # b served the conversation on d1

    await worker_a.prepare(group, context)
    assert worker_a.apply(group, list(ds), context)[0][0].id == "d1"
    await worker_a.commit(group, context, "d3")  # ... then a failed over to d3, which answered

    await worker_b.prepare(group, context)
    assert worker_b.apply(group, list(ds), context)[0][0].id == "d3"


async def test_without_redis_each_worker_keeps_its_own_pins() -> None:
    shared = RedisAffinityStore(CLOSED_PORT_URL, timeout_s=0.2, retry_s=60, clock=ManualClock())
    stage = AffinityStage(InMemoryAffinityStore(clock=ManualClock()), shared=shared)
    ds = [dep(1), dep(2), dep(3)]
    group = group_of(ds)
    context = CallContext(conversation_id="c1")
    try:
        await stage.prepare(group, context)  # neither raises
        assert stage.apply(group, [ds[1], ds[0], ds[2]], context)[0][0].id == "d2"
        await stage.commit(group, context, "d2")
        await stage.prepare(group, context)
        assert stage.apply(group, list(ds), context)[0][0].id == "d2"  # the local pin holds
        assert shared.failures == 1
    finally:
        await shared.aclose()
