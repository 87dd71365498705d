"""The QuotaStore contract, run against every adapter: in memory and Redis (real server).

Redis runs skip locally when the server is down and fail under CI (see ``redis_url``). Each Redis
test uses its own key namespace and deletes it afterwards.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.lowlevel
import msgspec
import pytest

from routeiq_adapters.quota import InMemoryQuotaStore, RedisQuotaStore
from routeiq_core.access import (
    SPEND_SCALE,
    Amounts,
    QuotaItem,
    QuotaStore,
    QuotaStoreError,
    Refusal,
    Reservation,
    ReservedItem,
    Window,
)

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000.5


async def _drop_namespace(store: RedisQuotaStore) -> None:
    client = store._client
    keys = [key async for key in client.scan_iter(match=store.prefix + "*", count=500)]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], QuotaStore]]:
    """Builds stores sharing one set of counters: several Redis clients mimic several workers."""
    if request.param == "memory":
        shared = InMemoryQuotaStore()
        yield lambda: shared
        return
    url = request.getfixturevalue("redis_url")
    namespace = f"test-{uuid.uuid4().hex}"
    opened: list[RedisQuotaStore] = []

    def open_worker() -> QuotaStore:
        store = RedisQuotaStore.from_url(url, namespace=namespace, timeout_s=2.0)
        opened.append(store)
        return store

    try:
        yield open_worker
    finally:
        cleaner = RedisQuotaStore.from_url(url, namespace=namespace)
        await _drop_namespace(cleaner)
        await cleaner.aclose()
        for store in opened:
            await store.aclose()


@pytest.fixture
def store(make_store: Callable[[], QuotaStore]) -> QuotaStore:
    return make_store()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "make_store" in metafunc.fixturenames:
        metafunc.parametrize(
            "make_store", ["memory", pytest.param("redis", marks=pytest.mark.redis)], indirect=True
        )


def item(
    metric: str = "requests",
    limit: int = 3,
    amount: int = 1,
    *,
    scope: str = "key",
    sid: str = "k1",
    window: str = "minute",
) -> QuotaItem:
    return msgspec.convert(
        {
            "scope": scope,
            "scope_id": sid,
            "metric": metric,
            "window": window,
            "limit": limit,
            "amount": amount,
        },
        QuotaItem,
    )


async def test_reserves_up_to_the_limit_then_refuses(store: QuotaStore) -> None:
    for i in range(3):
        result = await store.reserve([item()], NOW + i)
        assert isinstance(result, Reservation)
        assert result.items[0].item == item()
    refusal = await store.reserve([item()], NOW + 3)
    assert isinstance(refusal, Refusal)
    assert (refusal.item, refusal.current) == (item(), 3)
    assert refusal.retry_after_s == pytest.approx(61 - 3.5)  # the bucket of NOW stops counting at +61 s


async def test_all_or_nothing_across_items(store: QuotaStore) -> None:
    requests = item(limit=10)
    tokens = item("total_tokens", limit=100, amount=60, scope="team", sid="t1")
    assert isinstance(await store.reserve([requests, tokens], NOW), Reservation)
    refusal = await store.reserve([requests, tokens], NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.item == tokens
    assert refusal.current == 60
    assert await store.usage("key:k1", "minute", NOW) == {"requests": 1}  # nothing partial left behind
    assert await store.usage("team:t1", "minute", NOW) == {"total_tokens": 60}


async def test_the_refusal_reported_is_the_one_that_frees_last(store: QuotaStore) -> None:
    minute = item(limit=1)
    hour = item(limit=1, window="hour")
    assert isinstance(await store.reserve([minute, hour], NOW), Reservation)
    refusal = await store.reserve([minute, hour], NOW + 1)
    assert isinstance(refusal, Refusal)
    assert refusal.item == hour
    assert refusal.retry_after_s > 3000


async def test_a_request_larger_than_the_limit_waits_a_full_window(store: QuotaStore) -> None:
    refusal = await store.reserve([item("total_tokens", limit=10, amount=11)], NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.retry_after_s == 60


async def test_usage_leaves_the_window(store: QuotaStore) -> None:
    assert isinstance(await store.reserve([item(limit=1)], NOW), Reservation)
    assert isinstance(await store.reserve([item(limit=1)], NOW + 60), Refusal)  # 60-61 s: still counted
    assert isinstance(await store.reserve([item(limit=1)], NOW + 60.6), Reservation)
    assert await store.usage("key:k1", "minute", NOW + 200) == {"requests": 0}


async def test_retry_after_is_exact(store: QuotaStore) -> None:
    rpm = item(limit=2)
    await store.reserve([rpm], NOW)
    await store.reserve([rpm], NOW + 20)
    refusal = await store.reserve([rpm], NOW + 30)
    assert isinstance(refusal, Refusal)
    assert isinstance(await store.reserve([rpm], NOW + 30 + refusal.retry_after_s - 0.01), Refusal)
    assert isinstance(await store.reserve([rpm], NOW + 30 + refusal.retry_after_s), Reservation)


async def test_settle_applies_the_difference_once(store: QuotaStore) -> None:
    tokens = item("total_tokens", limit=1000, amount=600)
    spend = item("spend", limit=10 * SPEND_SCALE, amount=4 * SPEND_SCALE)
    reservation = await store.reserve([tokens, spend], NOW)
    assert isinstance(reservation, Reservation)
    actual = Amounts(input_tokens=100, output_tokens=50, spend_units=SPEND_SCALE // 4)
    await store.settle(reservation, actual, NOW + 1)
    await store.settle(reservation, Amounts(), NOW + 2)  # a second settle does nothing
    assert await store.usage("key:k1", "minute", NOW + 2) == {"total_tokens": 150, "spend": SPEND_SCALE // 4}


async def test_settle_can_add_when_the_call_used_more(store: QuotaStore) -> None:
    reservation = await store.reserve([item("output_tokens", limit=100, amount=10)], NOW)
    assert isinstance(reservation, Reservation)
    await store.settle(reservation, Amounts(output_tokens=120), NOW)
    assert await store.usage("key:k1", "minute", NOW) == {"output_tokens": 120}
    assert isinstance(await store.reserve([item("output_tokens", limit=100, amount=0)], NOW), Refusal)


async def test_settle_of_a_gone_reservation_is_safe(store: QuotaStore) -> None:
    ghost = Reservation(id=uuid.uuid4().hex, items=(ReservedItem(item=item(), bucket=int(NOW)),))
    await store.settle(ghost, Amounts(requests=0), NOW)
    reservation = await store.reserve([item()], NOW)
    assert isinstance(reservation, Reservation)
    await store.settle(reservation, Amounts(requests=0), NOW + 600)  # its bucket has left the window
    assert await store.usage("key:k1", "minute", NOW + 600) == {"requests": 0}
    assert isinstance(await store.reserve([], NOW), Reservation)


async def test_large_spend_amounts_stay_exact(store: QuotaStore) -> None:
    budget = item("spend", limit=10**15 + 10, amount=10**14 + 1, window="month")
    for _ in range(10):
        assert isinstance(await store.reserve([budget], NOW), Reservation)
    refusal = await store.reserve([budget], NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.current == 10**15 + 10
    assert await store.usage("key:k1", "month", NOW) == {"spend": 10**15 + 10}


async def test_a_lagging_worker_counts_in_the_newest_bucket(store: QuotaStore) -> None:
    assert isinstance(await store.reserve([item(limit=1)], NOW + 100), Reservation)
    late = await store.reserve([item(limit=1)], NOW)
    assert isinstance(late, Refusal)
    assert late.retry_after_s > 100


async def test_ping(store: QuotaStore) -> None:
    await store.ping()


async def test_concurrent_reservations_admit_exactly_the_limit(make_store: Callable[[], QuotaStore]) -> None:
    workers = [make_store() for _ in range(4)]
    rpm = item(limit=50)
    outcomes: list[bool] = []

    async def request(n: int) -> None:
        result = await workers[n % len(workers)].reserve(
            [rpm, item("total_tokens", 10**6, 10, scope="team")], NOW
        )
        outcomes.append(isinstance(result, Reservation))

    async with anyio.create_task_group() as tg:
        for n in range(200):
            tg.start_soon(request, n)
    assert len(outcomes) == 200
    assert outcomes.count(True) == 50
    assert (await workers[0].usage("key:k1", "minute", NOW)) == {"requests": 50}
    assert (await workers[1].usage("team:k1", "minute", NOW)) == {"total_tokens": 500}


async def test_concurrent_budget_is_never_exceeded(make_store: Callable[[], QuotaStore]) -> None:
    workers = [make_store() for _ in range(4)]
    budget = item("spend", limit=100 * SPEND_SCALE, amount=7 * SPEND_SCALE, window="month")
    admitted: list[Reservation] = []

    async def request(n: int) -> None:
        result = await workers[n % len(workers)].reserve([budget], NOW)
        if isinstance(result, Reservation):
            admitted.append(result)
            await anyio.lowlevel.checkpoint()
            await workers[(n + 1) % len(workers)].settle(result, Amounts(spend_units=5 * SPEND_SCALE), NOW)

    async with anyio.create_task_group() as tg:
        for n in range(100):
            tg.start_soon(request, n)
    spent = (await workers[0].usage("key:k1", "month", NOW))["spend"]
    assert spent <= 100 * SPEND_SCALE
    assert spent == 5 * SPEND_SCALE * len(admitted)


# --- Redis-only behaviour -------------------------------------------------------------------------


@pytest.mark.redis
async def test_redis_matches_memory_on_random_traffic(redis_url: str) -> None:
    rng = random.Random(5)
    memory = InMemoryQuotaStore()
    redis_store = RedisQuotaStore.from_url(redis_url, namespace=f"test-{uuid.uuid4().hex}")
    limits = [
        item(limit=7),
        item("total_tokens", 300, scope="team", sid="t"),
        item("spend", 900, window="hour", scope="global", sid="*"),
    ]
    held: list[tuple[Reservation, Reservation]] = []
    now = NOW
    try:
        for _ in range(400):
            now += rng.choice([0.0, 0.3, 1.7, 9.0, 45.0])
            if held and rng.random() < 0.4:
                mine, theirs = held.pop(rng.randrange(len(held)))
                actual = Amounts(input_tokens=rng.randrange(60), spend_units=rng.randrange(200))
                await memory.settle(mine, actual, now)
                await redis_store.settle(theirs, actual, now)
                continue
            amount = rng.randrange(1, 80)
            request = [
                QuotaItem(**{**_fields(i), "amount": 1 if i.metric == "requests" else amount}) for i in limits
            ]
            a, b = await memory.reserve(request, now), await redis_store.reserve(request, now)
            assert type(a) is type(b)
            if isinstance(a, Refusal) and isinstance(b, Refusal):
                assert (a.item, a.current, a.retry_after_s) == (b.item, b.current, b.retry_after_s)
            elif isinstance(a, Reservation) and isinstance(b, Reservation):
                assert [r.bucket for r in a.items] == [r.bucket for r in b.items]
                held.append((a, b))
            windows: tuple[tuple[str, Window], ...] = (
                ("key:k1", "minute"),
                ("team:t", "minute"),
                ("global:*", "hour"),
            )
            for scope_key, window in windows:
                expected = await memory.usage(scope_key, window, now)
                assert await redis_store.usage(scope_key, window, now) == expected
    finally:
        await _drop_namespace(redis_store)
        await redis_store.aclose()


def _fields(value: QuotaItem) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__struct_fields__}


@pytest.mark.redis
async def test_redis_keys_are_namespaced_and_expire(redis_url: str) -> None:
    store = RedisQuotaStore.from_url(redis_url, namespace=f"test-{uuid.uuid4().hex}")
    try:
        await store.reserve([item(), item("total_tokens", 10**9, 5, window="day")], NOW)
        client = store._client
        keys = sorted([k.decode() async for k in client.scan_iter(match=store.prefix + "*")])
        assert len(keys) == 3
        assert all(k.startswith("routeiq:quota:{test-") for k in keys)
        for key in keys:
            ttl_ms = await client.pttl(key)
            assert ttl_ms > 0
            if key.endswith(":requests:minute"):
                assert ttl_ms <= 62_000
            elif key.endswith(":day"):
                assert ttl_ms <= 86_400_000 + 2 * 900_000
            else:
                assert ttl_ms <= 3_600_000  # the pending reservation
    finally:
        await _drop_namespace(store)
        await store.aclose()


async def test_redis_outage_raises_the_port_error_fast() -> None:
    store = RedisQuotaStore.from_url("redis://127.0.0.1:1/0", namespace="unreachable", timeout_s=0.2)
    try:
        with anyio.fail_after(5):
            with pytest.raises(QuotaStoreError):
                await store.ping()
            with pytest.raises(QuotaStoreError):
                await store.reserve([item()], NOW)
            with pytest.raises(QuotaStoreError):
                await store.usage("key:k1", "minute", NOW)
    finally:
        await store.aclose()


def test_redis_namespace_is_validated() -> None:
    with pytest.raises(ValueError, match="namespace"):
        RedisQuotaStore.from_url("redis://127.0.0.1:6379/0", namespace="a b}")


async def test_a_poisoned_counter_fails_only_its_own_requests(redis_url: str) -> None:
    """A counter driven to int64's edge (by a writer bypassing the service's bounds) makes the script
    refuse that counter's amounts: that request fails, nothing is declared an outage, others pass."""
    from routeiq_core.access import (
        OutageMonitor,
        Principal,
        QuotaConfig,
        QuotaDataError,
        QuotaExceededError,
        QuotaService,
    )

    store = RedisQuotaStore.from_url(redis_url, namespace=f"test-{uuid.uuid4().hex}")
    try:
        edge = 2**63 - 1
        poisoned = item("total_tokens", edge, edge, sid="key_poison")
        assert isinstance(await store.reserve([poisoned], NOW), Reservation)
        with pytest.raises(QuotaDataError):
            await store.reserve([item("total_tokens", edge, 1, sid="key_poison")], NOW)
        monitor = OutageMonitor("fail_closed")
        quota = QuotaService(store, QuotaConfig(), monitor=monitor, clock=lambda: NOW)
        victim = Principal(kind="virtual_key", role="member", key_id="key_poison", limits=_limits(tpm=10))
        other = Principal(kind="virtual_key", role="member", key_id="key_other", limits=_limits(tpm=10**6))
        with pytest.raises((QuotaDataError, QuotaExceededError)):  # its own 4xx/5xx, never a 503 for all
            await quota.reserve(victim, model_group="g", prompt_tokens=1, max_tokens=1)
        for _ in range(5):  # the other key is served at once: no outage was declared
            ticket = await quota.reserve(other, model_group="g", prompt_tokens=1, max_tokens=1)
            assert ticket.reservation is not None
        assert monitor.should_try()
    finally:
        await _drop_namespace(store)
        await store.aclose()


def _limits(**table: float) -> tuple[Any, ...]:
    from routeiq_core.access import parse_limits

    return parse_limits(table)
