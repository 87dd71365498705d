"""The ``CacheStore`` contract, run against every adapter: in process memory and Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import anyio
import pytest
import redis.asyncio as aioredis

from routeiq_adapters.cache import InMemoryCacheStore, RedisCacheStore
from routeiq_core.cache.entry import CachedResponse
from routeiq_core.cache.keys import cache_key, tenant_scope
from routeiq_core.cache.store import CacheStore, CacheStoreError
from routeiq_core.providers import Operation, Usage

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[CacheStore]:
    if request.param == "memory":
        yield InMemoryCacheStore()
        return
    url = request.getfixturevalue("redis_url")
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    redis_store = RedisCacheStore.from_url(url, namespace=namespace)
    try:
        yield redis_store
    finally:
        client = aioredis.Redis.from_url(url)
        names = [name async for name in client.scan_iter(match=f"routeiq:cache:{{{namespace}}}:*")]
        if names:
            await client.delete(*names)
        await client.aclose()
        await redis_store.aclose()


SCOPE_A = tenant_scope(team="team a", key_id=None)
SCOPE_B = tenant_scope(team=None, key_id="key-b")


def entry(text: str = "hello", usage: Usage | None = None) -> CachedResponse:
    body = b'{"object":"chat.completion","choices":[{"message":{"content":"' + text.encode() + b'"}}]}'
    return CachedResponse(body=body, model_group="chat", created=1_700_000_000.5, usage=usage)


def key(n: int = 0) -> str:
    return cache_key(SCOPE_A, "chat", Operation.CHAT, {"messages": [{"role": "user", "content": str(n)}]})


async def test_a_missing_entry_is_none(store: CacheStore) -> None:
    assert await store.get(SCOPE_A, key()) is None


async def test_round_trip_keeps_every_field(store: CacheStore) -> None:
    stored = entry("héllo \x00 bytes", Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7))
    await store.set(SCOPE_A, key(), stored, 60)
    assert await store.get(SCOPE_A, key()) == stored


async def test_set_replaces(store: CacheStore) -> None:
    await store.set(SCOPE_A, key(), entry("one"), 60)
    await store.set(SCOPE_A, key(), entry("two"), 60)
    assert await store.get(SCOPE_A, key()) == entry("two")


async def test_entries_expire_after_their_ttl(store: CacheStore) -> None:
    await store.set(SCOPE_A, key(1), entry(), 0.15)
    await store.set(SCOPE_A, key(2), entry(), 60)
    assert await store.get(SCOPE_A, key(1)) is not None
    await anyio.sleep(0.3)
    assert await store.get(SCOPE_A, key(1)) is None
    assert await store.get(SCOPE_A, key(2)) is not None


async def test_delete(store: CacheStore) -> None:
    await store.set(SCOPE_A, key(), entry(), 60)
    assert await store.delete(SCOPE_A, key()) is True
    assert await store.get(SCOPE_A, key()) is None
    assert await store.delete(SCOPE_A, key()) is False


async def test_scopes_never_share_entries(store: CacheStore) -> None:
    await store.set(SCOPE_A, key(), entry("a"), 60)
    assert await store.get(SCOPE_B, key()) is None
    await store.set(SCOPE_B, key(), entry("b"), 60)
    assert await store.get(SCOPE_A, key()) == entry("a")
    assert await store.delete(SCOPE_B, key()) is True
    assert await store.get(SCOPE_A, key()) == entry("a")


async def test_clear_scope_removes_only_that_scope(store: CacheStore) -> None:
    for n in range(5):
        await store.set(SCOPE_A, key(n), entry(), 60)
    await store.set(SCOPE_B, key(0), entry(), 60)
    assert await store.clear_scope(SCOPE_A) == 5
    assert all([await store.get(SCOPE_A, key(n)) is None for n in range(5)])
    assert await store.get(SCOPE_B, key(0)) is not None
    assert await store.clear_scope(SCOPE_A) == 0


async def test_invalid_scopes_and_ttls_are_rejected(store: CacheStore) -> None:
    with pytest.raises(ValueError, match="invalid cache scope"):
        await store.get("a:b", key())
    with pytest.raises(ValueError, match="invalid cache scope"):
        await store.clear_scope("*")
    with pytest.raises(ValueError, match="ttl_s"):
        await store.set(SCOPE_A, key(), entry(), 0)


# --- Redis only -------------------------------------------------------------------------------


@pytest.mark.redis
async def test_redis_key_layout_and_server_side_ttl(redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    store = RedisCacheStore.from_url(redis_url, namespace=namespace)
    client = aioredis.Redis.from_url(redis_url)
    try:
        await store.set(SCOPE_A, key(), entry(), 30)
        name = f"routeiq:cache:{{{namespace}}}:{SCOPE_A}:{key()}"
        assert store.prefix == f"routeiq:cache:{{{namespace}}}:"
        assert 0 < await client.pttl(name) <= 30_000
        await client.set(name, b"not msgpack")
        assert await store.get(SCOPE_A, key()) is None
        await store.ping()
    finally:
        await client.delete(f"routeiq:cache:{{{namespace}}}:{SCOPE_A}:{key()}")
        await client.aclose()
        await store.aclose()


async def test_redis_outage_raises_cache_store_error() -> None:
    store = RedisCacheStore.from_url("redis://127.0.0.1:1/0", timeout_s=0.2)
    try:
        with pytest.raises(CacheStoreError):
            await store.get(SCOPE_A, key())
        with pytest.raises(CacheStoreError):
            await store.set(SCOPE_A, key(), entry(), 1)
    finally:
        await store.aclose()


def test_redis_namespace_is_validated() -> None:
    with pytest.raises(ValueError, match="namespace"):
        RedisCacheStore.from_url("redis://127.0.0.1:6379/0", namespace="a:b")
