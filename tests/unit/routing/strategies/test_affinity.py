"""Affinity: the store port and the sticky stage."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeiq_core.catalog import Deployment
from routeiq_core.context import CallContext
from routeiq_core.routing import RouteContext
from routeiq_core.routing.composition import (
    AffinityStage,
    AffinityStore,
    HealthFilter,
    InMemoryAffinityStore,
    Pipeline,
    StrategyStage,
    conversation_key,
)
from routeiq_core.routing.strategies import RoundRobin, WeightedShuffle
from tests.support.clocks import ManualClock
from tests.unit.routing.strategies.support import PROPERTY, dep, deployment_lists, group_of, ids

# One entry per adapter of the port; the Redis adapter joins this list (and the suite moves to
# tests/contract) when it exists.
STORES: list[Callable[[ManualClock], AffinityStore]] = [
    lambda clock: InMemoryAffinityStore(maxsize=1000, clock=clock),
]


def by_request_id(context: RouteContext) -> str | None:
    return context.request_id


@pytest.fixture(params=STORES, ids=["memory"])
def clock_and_store(request: pytest.FixtureRequest) -> tuple[ManualClock, AffinityStore]:
    clock = ManualClock()
    return clock, request.param(clock)


def test_store_round_trip_replace_and_expiry(clock_and_store: tuple[ManualClock, AffinityStore]) -> None:
    clock, store = clock_and_store
    assert store.get("c1") is None
    store.set("c1", "d1", ttl_s=10)
    assert store.get("c1") == "d1"
    store.set("c1", "d2", ttl_s=10)
    assert store.get("c1") == "d2"
    clock.now += 9.9
    assert store.get("c1") == "d2"
    clock.now += 0.2
    assert store.get("c1") is None


def test_store_keeps_each_pins_own_ttl(clock_and_store: tuple[ManualClock, AffinityStore]) -> None:
    clock, store = clock_and_store
    store.set("short", "d1", ttl_s=1)
    store.set("long", "d2", ttl_s=100)
    clock.now += 2
    assert (store.get("short"), store.get("long")) == (None, "d2")


def test_store_ignores_a_non_positive_ttl(clock_and_store: tuple[ManualClock, AffinityStore]) -> None:
    _, store = clock_and_store
    store.set("c1", "d1", ttl_s=10)
    store.set("c1", "d2", ttl_s=0)
    assert store.get("c1") is None


def test_memory_store_is_bounded() -> None:
    store = InMemoryAffinityStore(maxsize=3, clock=ManualClock())
    for i in range(10):
        store.set(f"c{i}", "d", ttl_s=60)
    assert [store.get(f"c{i}") for i in range(10)].count("d") == 3


@PROPERTY
@given(deployment_lists(min_size=1), st.lists(st.sampled_from(["c1", "c2", None]), min_size=1, max_size=10))
def test_stage_output_is_a_permutation(ds: list[Deployment], keys: list[str | None]) -> None:
    stage = AffinityStage(InMemoryAffinityStore(clock=ManualClock()), by_request_id)
    for key in keys:
        ordered, _ = stage.apply(group_of(ds), list(ds), CallContext(request_id=key))
        assert sorted(ids(ordered)) == sorted(ids(ds))


def test_same_key_sticks_to_the_same_deployment() -> None:
    ds = [dep(i) for i in range(4)]
    pipeline = Pipeline(
        [
            StrategyStage(WeightedShuffle(random.Random(0))),
            AffinityStage(InMemoryAffinityStore(clock=ManualClock()), by_request_id),
        ]
    )
    first, reasons = pipeline.explain(group_of(ds), ds, CallContext(request_id="c1"))
    assert reasons[-1] == f"affinity: conversation c1 pinned → {first[0].id}"
    for _ in range(30):
        ordered, reasons = pipeline.explain(group_of(ds), ds, CallContext(request_id="c1"))
        assert ordered[0] == first[0]
        assert reasons[-1] == f"affinity: conversation c1 → {first[0].id}"
    others = {pipeline.order(group_of(ds), ds, CallContext(request_id=f"x{i}"))[0].id for i in range(40)}
    assert len(others) > 1  # other keys still spread


def test_repins_when_the_pinned_deployment_is_gone_or_unhealthy() -> None:
    ds = [dep(1), dep(2), dep(3)]
    down: set[str] = set()
    pipeline = Pipeline(
        [
            HealthFilter(lambda d: d.id not in down),
            StrategyStage(RoundRobin()),
            AffinityStage(InMemoryAffinityStore(clock=ManualClock()), by_request_id),
        ]
    )
    context = CallContext(request_id="c1")
    assert pipeline.order(group_of(ds), ds, context)[0].id == "d1"
    down.add("d1")
    ordered, reasons = pipeline.explain(group_of(ds), ds, context)
    assert ordered[0].id != "d1"
    repinned = ordered[0].id
    assert reasons[-1] == f"affinity: conversation c1 re-pinned d1 → {repinned} (d1 unavailable)"
    down.clear()
    assert all(pipeline.order(group_of(ds), ds, context)[0].id == repinned for _ in range(5))
    assert pipeline.order(group_of(ds[1:]), ds[1:], context)[0].id == repinned


def test_pin_expires_after_the_ttl_since_last_use() -> None:
    clock = ManualClock()
    ds = [dep(1), dep(2)]
    stage = AffinityStage(InMemoryAffinityStore(clock=clock), by_request_id, ttl_s=60)
    context = CallContext(request_id="c1")
    stage.apply(group_of(ds), list(ds), context)
    clock.now += 50
    assert stage.apply(group_of(ds), [ds[1], ds[0]], context)[0][0].id == "d1"  # renewed
    clock.now += 50
    assert stage.apply(group_of(ds), [ds[1], ds[0]], context)[0][0].id == "d1"
    clock.now += 61
    assert stage.apply(group_of(ds), [ds[1], ds[0]], context)[0][0].id == "d2"


def test_pin_records_the_deployment_that_served() -> None:
    ds = [dep(1), dep(2)]
    stage = AffinityStage(InMemoryAffinityStore(clock=ManualClock()), by_request_id)
    context = CallContext(request_id="c1")
    stage.pin(group_of(ds), context, "d2")
    assert stage.apply(group_of(ds), list(ds), context)[0][0].id == "d2"


def test_groups_do_not_share_pins() -> None:
    stage = AffinityStage(InMemoryAffinityStore(clock=ManualClock()), by_request_id)
    a, b = [dep(1), dep(2)], [dep(3), dep(4)]
    context = CallContext(request_id="c1")
    stage.apply(group_of(a, "a"), a, context)
    ordered, reason = stage.apply(group_of(b, "b"), b, context)
    assert ids(ordered) == ["d3", "d4"]
    assert reason == "affinity: conversation c1 pinned → d3"


def test_requests_without_a_key_pass_through() -> None:
    ds = [dep(1), dep(2)]
    stage = AffinityStage(InMemoryAffinityStore(clock=ManualClock()))
    assert conversation_key(CallContext(request_id="r1")) is None
    assert stage.apply(group_of(ds), list(ds), CallContext()) == (ds, "affinity: no key")
