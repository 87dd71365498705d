"""Key generation and the LRU/TTL cache in front of key stores."""

from __future__ import annotations

import anyio
import pytest

from routeiq_core.access import (
    KEY_PREFIX,
    Authenticator,
    CachedKeyStore,
    KeyHasher,
    KeyPatch,
    KeyService,
    NewKey,
    Principal,
    VirtualKey,
    generate_key,
)
from routeiq_core.errors import AuthenticationError
from tests.support.stores import DictKeyStore

pytestmark = pytest.mark.anyio

HASHER = KeyHasher("server-secret-for-tests")


class Timer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_generated_keys_are_long_random_and_prefixed() -> None:
    keys = {generate_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(k.startswith(KEY_PREFIX) and len(k) >= len(KEY_PREFIX) + 43 for k in keys)


async def test_hits_are_cached_for_the_ttl() -> None:
    backing, timer = DictKeyStore(), Timer()
    cached = CachedKeyStore(backing, ttl_s=10, timer=timer)
    issued = await KeyService(cached, HASHER).issue(Principal.admin(), NewKey())
    for _ in range(5):
        assert await cached.get_by_hash(issued.record.key_hash) == issued.record
    assert backing.lookups == 1
    timer.now = 10.5
    await cached.get_by_hash(issued.record.key_hash)
    assert backing.lookups == 2
    assert cached.ttl_s == 10


async def test_unknown_hashes_are_not_cached() -> None:
    backing = DictKeyStore()
    cached = CachedKeyStore(backing)
    for _ in range(3):
        assert await cached.get_by_hash("nope") is None
    assert backing.lookups == 3


async def test_changes_through_the_cache_take_effect_at_once() -> None:
    backing = DictKeyStore()
    cached = CachedKeyStore(backing, ttl_s=3600)
    service = KeyService(cached, HASHER)
    auth = Authenticator(store=cached, hasher=HASHER)
    issued = await service.issue(Principal.admin(), NewKey(allowed_models=("a",)))
    assert (await auth.authenticate(issued.key)).allowed_models == ("a",)
    await service.update(Principal.admin(), issued.record.key_id, KeyPatch(allowed_models=("b",)))
    assert (await auth.authenticate(issued.key)).allowed_models == ("b",)
    rotated = await service.rotate(Principal.admin(), issued.record.key_id)
    with pytest.raises(AuthenticationError):
        await auth.authenticate(issued.key)
    await auth.authenticate(rotated.key)
    await service.revoke(Principal.admin(), issued.record.key_id)
    with pytest.raises(AuthenticationError):
        await auth.authenticate(rotated.key)


async def test_a_change_on_another_worker_is_seen_within_the_ttl() -> None:
    backing, timer = DictKeyStore(), Timer()
    worker_a = CachedKeyStore(backing, ttl_s=5, timer=timer)
    worker_b = CachedKeyStore(backing, ttl_s=5, timer=timer)
    issued = await KeyService(worker_a, HASHER).issue(Principal.admin(), NewKey())
    auth_a = Authenticator(store=worker_a, hasher=HASHER, clock=lambda: 0.0)
    await auth_a.authenticate(issued.key)
    await KeyService(worker_b, HASHER).revoke(Principal.admin(), issued.record.key_id)
    await auth_a.authenticate(issued.key)  # still cached on worker A ...
    timer.now = 5.01
    with pytest.raises(AuthenticationError):  # ... but never longer than the TTL
        await auth_a.authenticate(issued.key)


async def test_a_lookup_racing_a_revoke_is_not_cached() -> None:
    started, release = anyio.Event(), anyio.Event()

    class SlowStore(DictKeyStore):
        async def get_by_hash(self, key_hash: str) -> VirtualKey | None:
            found = await super().get_by_hash(key_hash)
            started.set()
            await release.wait()
            return found  # the record as it was before the revoke

    backing = SlowStore()
    cached = CachedKeyStore(backing, ttl_s=3600)
    record = VirtualKey(key_id="key_1", key_hash="h1", hint="sk-riq-...abcd")
    await backing.create(record)
    async with anyio.create_task_group() as tg:
        tg.start_soon(cached.get_by_hash, "h1")
        await started.wait()
        await cached.revoke("key_1", 1.0)
        release.set()
    release.set()
    fresh = await cached.get_by_hash("h1")
    assert fresh is not None
    assert fresh.revoked_at == 1.0


async def test_lru_bound_and_clear() -> None:
    backing = DictKeyStore()
    cached = CachedKeyStore(backing, maxsize=2)
    for i in range(3):
        await backing.create(VirtualKey(key_id=f"key_{i}", key_hash=f"h{i}", hint="x"))
        await cached.get_by_hash(f"h{i}")
    assert len(cached._cache) == 2
    cached.clear()
    assert len(cached._cache) == 0
    await cached.close()
