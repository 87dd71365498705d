"""Round robin."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from routeiq_core.catalog import Deployment
from routeiq_core.context import CallContext
from routeiq_core.routing.strategies import RoundRobin
from tests.unit.routing.strategies.support import PROPERTY, dep, deployment_lists, group_of, ids


@PROPERTY
@given(deployment_lists(), st.integers(min_value=1, max_value=20))
def test_every_order_is_a_permutation(ds: list[Deployment], calls: int) -> None:
    strategy = RoundRobin()
    for _ in range(calls):
        assert sorted(ids(strategy.order(group_of(ds), ds, CallContext()))) == sorted(ids(ds))


@PROPERTY
@given(st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=10))
def test_cycles_evenly_over_every_position(n: int, rounds: int) -> None:
    ds = [dep(i) for i in range(n)]
    strategy = RoundRobin()
    positions = [Counter[str]() for _ in range(n)]
    for _ in range(n * rounds):
        for position, d in enumerate(strategy.order(group_of(ds), ds, CallContext())):
            positions[position][d.id] += 1
    for counter in positions:
        assert counter == {d.id: rounds for d in ds}


def test_consecutive_requests_take_turns() -> None:
    ds = [dep(i) for i in range(3)]
    strategy = RoundRobin()
    firsts = [strategy.order(group_of(ds), ds, CallContext())[0].id for _ in range(6)]
    assert firsts == ["d0", "d1", "d2", "d0", "d1", "d2"]
    assert ids(strategy.order(group_of(ds), ds, CallContext())) == ["d0", "d1", "d2"]
    assert ids(strategy.order(group_of(ds), ds, CallContext())) == ["d1", "d2", "d0"]


def test_each_group_has_its_own_counter() -> None:
    a = [dep(0), dep(1)]
    b = [dep(2), dep(3)]
    strategy = RoundRobin()
    assert strategy.order(group_of(a, "a"), a, CallContext())[0].id == "d0"
    assert strategy.order(group_of(a, "a"), a, CallContext())[0].id == "d1"
    assert strategy.order(group_of(b, "b"), b, CallContext())[0].id == "d2"


def test_name_matches_the_config_value() -> None:
    assert RoundRobin().name == "round-robin"
