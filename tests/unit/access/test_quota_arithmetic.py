"""Sliding-window arithmetic of the quota stores, checked against an independent model.

Properties (single process, any interleaving of reserve and settle): a reservation is admitted
exactly when every counter has room; no limit is ever exceeded within any window; refusals leave
nothing behind and name a limit that really is full; ``Retry-After`` is when it fits again (to the
millisecond); settling releases the difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routeiq_adapters.quota import InMemoryQuotaStore
from routeiq_core.access import (
    WINDOW_SPECS,
    Amounts,
    QuotaItem,
    Refusal,
    Reservation,
    bucket_of,
    refusal_error,
)

NOW = 1_700_000_000.25
LIMITS = (
    ("key", "k1", "requests", "minute", 5),
    ("team", "t1", "total_tokens", "minute", 100),
    ("global", "*", "total_tokens", "hour", 300),
)


def items(tokens: int) -> list[QuotaItem]:
    return [
        QuotaItem(
            scope=scope,  # type: ignore[arg-type]
            scope_id=sid,
            metric=metric,  # type: ignore[arg-type]
            window=window,  # type: ignore[arg-type]
            limit=limit,
            amount=1 if metric == "requests" else tokens,
        )
        for scope, sid, metric, window, limit in LIMITS
    ]


@dataclass
class Admitted:
    at: float
    reservation: Reservation
    net: dict[str, int]
    settled: bool = False


@dataclass
class Model:
    admitted: list[Admitted] = field(default_factory=list)

    def counted(self, item: QuotaItem, now: float) -> int:
        """What the conservative window counts at ``now``: buckets cur - n .. cur."""
        spec = WINDOW_SPECS[item.window]
        low = bucket_of(now, spec) - spec.buckets
        return sum(a.net[item.counter_key] for a in self.admitted if bucket_of(a.at, spec) >= low)

    def in_last_window(self, item: QuotaItem, now: float) -> int:
        """The true sliding-window usage: everything admitted in (now - W, now]."""
        seconds = WINDOW_SPECS[item.window].seconds
        return sum(a.net[item.counter_key] for a in self.admitted if a.at > now - seconds)

    def fits(self, request: list[QuotaItem], now: float) -> bool:
        return all(self.counted(i, now) + i.amount <= i.limit for i in request)


reserve_op = st.tuples(st.just("reserve"), st.integers(1, 70), st.floats(0, 25))
settle_op = st.tuples(st.just("settle"), st.integers(0, 1000), st.floats(0, 1))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(reserve_op, settle_op), max_size=80))
def test_never_admits_beyond_a_limit(ops: list[tuple[str, int, float]]) -> None:
    anyio.run(_run, ops)


async def _run(ops: list[tuple[str, int, float]]) -> None:
    store, model, now = InMemoryQuotaStore(), Model(), NOW
    for kind, number, real in ops:
        if kind == "reserve":
            now += real
            request = items(number)
            expected = model.fits(request, now)
            result = await store.reserve(request, now)
            if isinstance(result, Reservation):
                assert expected
                model.admitted.append(Admitted(now, result, {i.counter_key: i.amount for i in request}))
                for item in request:
                    assert model.in_last_window(item, now) <= item.limit
            else:
                assert not expected
                await _check_refusal(result, request, model, now)
        else:
            pending = [a for a in model.admitted if not a.settled]
            if not pending:
                continue
            target = pending[number % len(pending)]
            tokens = math.floor(target.net["team:t1:total_tokens:minute"] * real)
            await store.settle(target.reservation, Amounts(requests=1, input_tokens=tokens), now)
            await store.settle(target.reservation, Amounts(requests=1, input_tokens=0), now)  # ignored
            target.settled = True
            for key in target.net:
                if not key.endswith(":requests:minute"):
                    target.net[key] = tokens
        for item in items(0):
            usage = await store.usage(item.scope_key, item.window, now)
            assert usage.get(item.metric, 0) == model.counted(item, now)


async def _check_refusal(refusal: Refusal, request: list[QuotaItem], model: Model, now: float) -> None:
    item = refusal.item
    assert refusal.current == model.counted(item, now)
    assert refusal.current + item.amount > item.limit
    error = refusal_error(refusal)
    assert int(error.headers["Retry-After"]) >= 1
    assert error.scope == item.scope
    assert error.window == item.window
    if item.amount <= item.limit:
        # exact to the millisecond (stores count in whole milliseconds; floats blur the last one)
        assert model.fits(request, now + refusal.retry_after_s + 0.001)
        if refusal.retry_after_s >= 0.003:
            assert not model.fits(request, now + refusal.retry_after_s - 0.002)


@pytest.mark.anyio
async def test_settle_releases_the_difference() -> None:
    store = InMemoryQuotaStore()
    first = await store.reserve(items(60), NOW)
    assert isinstance(first, Reservation)
    assert isinstance(await store.reserve(items(60), NOW), Refusal)  # 60 + 60 > 100 tokens
    await store.settle(first, Amounts(input_tokens=15, output_tokens=5), NOW + 1)
    assert (await store.usage("team:t1", "minute", NOW + 1))["total_tokens"] == 20
    second = await store.reserve(items(60), NOW + 1)
    assert isinstance(second, Reservation)
    await store.settle(second, Amounts(requests=0), NOW + 2)  # released entirely, request count too
    assert await store.usage("team:t1", "minute", NOW + 2) == {"total_tokens": 20}
    assert (await store.usage("key:k1", "minute", NOW + 2))["requests"] == 1


@pytest.mark.anyio
async def test_usage_is_forgotten_after_the_window_and_the_retry_is_exact() -> None:
    store = InMemoryQuotaStore()
    rpm = [QuotaItem(scope="key", scope_id="k", metric="requests", window="minute", limit=2, amount=1)]
    assert isinstance(await store.reserve(rpm, NOW), Reservation)
    assert isinstance(await store.reserve(rpm, NOW + 30), Reservation)
    refusal = await store.reserve(rpm, NOW + 40)
    assert isinstance(refusal, Refusal)
    # the first request's bucket [NOW, NOW + 1) stops counting 61 s after it began
    assert refusal.retry_after_s == pytest.approx(math.floor(NOW) + 61 - (NOW + 40))
    assert isinstance(await store.reserve(rpm, NOW + 40 + refusal.retry_after_s - 0.01), Refusal)
    assert isinstance(await store.reserve(rpm, NOW + 40 + refusal.retry_after_s), Reservation)


@pytest.mark.anyio
async def test_a_lagging_clock_cannot_rewind_a_counter() -> None:
    store = InMemoryQuotaStore()
    rpm = [QuotaItem(scope="key", scope_id="k", metric="requests", window="minute", limit=1, amount=1)]
    assert isinstance(await store.reserve(rpm, NOW + 100), Reservation)
    late = await store.reserve(rpm, NOW)  # a worker whose clock is 100 s behind
    assert isinstance(late, Refusal)
    assert late.retry_after_s > 100  # counted from the newest bucket seen


@pytest.mark.anyio
async def test_items_must_name_distinct_counters() -> None:
    item = items(1)[0]
    with pytest.raises(ValueError, match="distinct"):
        await InMemoryQuotaStore().reserve([item, item], NOW)


@pytest.mark.anyio
async def test_idle_counters_and_reservations_are_pruned() -> None:
    store = InMemoryQuotaStore(prune_every=1, reservation_ttl_s=10)
    reservation = await store.reserve(items(1), NOW)
    assert isinstance(reservation, Reservation)
    await store.reserve([], NOW + 4000)  # everything from NOW has left every window
    assert store._counters == {}
    assert store._pending == {}
    await store.settle(reservation, Amounts(), NOW + 4000)  # gone: a no-op
