"""Least busy."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from routeiq_core.catalog import Deployment
from routeiq_core.context import CallContext
from routeiq_core.routing import DeploymentStats
from routeiq_core.routing.strategies import LeastBusy
from tests.unit.routing.strategies.support import PROPERTY, dep, deployment_lists, group_of, ids


@PROPERTY
@given(
    deployment_lists(), st.lists(st.integers(min_value=0, max_value=4), min_size=8, max_size=8), st.randoms()
)
def test_order_is_a_permutation_by_ascending_in_flight(
    ds: list[Deployment], loads: list[int], rng: random.Random
) -> None:
    stats = DeploymentStats()
    for d, load in zip(ds, loads, strict=False):
        for _ in range(load):
            stats.started(d.id)
    ordered = LeastBusy(stats, rng).order(group_of(ds), ds, CallContext())
    assert sorted(ids(ordered)) == sorted(ids(ds))
    in_flight = [stats.in_flight(d.id) for d in ordered]
    assert in_flight == sorted(in_flight)


def test_idle_deployment_first_and_ended_calls_count_down() -> None:
    ds = [dep(0), dep(1), dep(2)]
    stats = DeploymentStats()
    for _ in range(3):
        stats.started("d0")
    stats.started("d1")
    strategy = LeastBusy(stats, random.Random(0))
    assert ids(strategy.order(group_of(ds), ds, CallContext())) == ["d2", "d1", "d0"]
    for _ in range(3):
        stats.ended("d0")
    stats.started("d2")
    stats.started("d2")
    assert ids(strategy.order(group_of(ds), ds, CallContext())) == ["d0", "d1", "d2"]


def test_ties_are_broken_at_random() -> None:
    ds = [dep(0), dep(1), dep(2)]
    strategy = LeastBusy(DeploymentStats(), random.Random(7))
    firsts = Counter(strategy.order(group_of(ds), ds, CallContext())[0].id for _ in range(3000))
    assert set(firsts) == {"d0", "d1", "d2"}
    assert all(900 < n < 1100 for n in firsts.values())
