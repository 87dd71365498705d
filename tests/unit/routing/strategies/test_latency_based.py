"""Latency based (power of two choices on the latency EWMA)."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from routeiq_core.catalog import Deployment
from routeiq_core.context import CallContext
from routeiq_core.routing import DeploymentStats
from routeiq_core.routing.strategies import LatencyBased
from tests.unit.routing.strategies.support import PROPERTY, dep, deployment_lists, group_of, ids

latencies = st.none() | st.floats(min_value=0.01, max_value=5.0)


@PROPERTY
@given(deployment_lists(), st.lists(latencies, min_size=8, max_size=8), st.randoms())
def test_order_is_a_permutation_with_unmeasured_first(
    ds: list[Deployment], observed: list[float | None], rng: random.Random
) -> None:
    stats = DeploymentStats()
    for d, latency in zip(ds, observed, strict=False):
        if latency is not None:
            stats.observe(d.id, latency, ok=True)
    ordered = LatencyBased(stats, rng).order(group_of(ds), ds, CallContext())
    assert sorted(ids(ordered)) == sorted(ids(ds))
    measured = [stats.latency(d.id) is not None for d in ordered]
    assert measured == sorted(measured)  # every unmeasured one before every measured one


def _stats(latencies: dict[str, float]) -> DeploymentStats:
    stats = DeploymentStats()
    for deployment_id, latency in latencies.items():
        stats.observe(deployment_id, latency, ok=True)
    return stats


def test_the_faster_of_two_is_always_first() -> None:
    ds = [dep(0), dep(1)]
    strategy = LatencyBased(_stats({"d0": 0.9, "d1": 0.2}), random.Random(0))
    assert all(ids(strategy.order(group_of(ds), ds, CallContext())) == ["d1", "d0"] for _ in range(50))


def test_two_choices_favour_the_fastest_and_never_lead_with_the_slowest() -> None:
    ds = [dep(0), dep(1), dep(2)]
    strategy = LatencyBased(_stats({"d0": 0.1, "d1": 0.5, "d2": 2.0}), random.Random(3))
    firsts = Counter(strategy.order(group_of(ds), ds, CallContext())[0].id for _ in range(3000))
    assert firsts["d2"] == 0
    assert 0.62 < firsts["d0"] / 3000 < 0.71  # the fastest wins whenever sampled: 2/3


def test_unmeasured_deployments_are_explored_first() -> None:
    ds = [dep(0), dep(1), dep(2)]
    strategy = LatencyBased(_stats({"d0": 0.1, "d1": 0.2}), random.Random(0))
    assert all(strategy.order(group_of(ds), ds, CallContext())[0].id == "d2" for _ in range(20))


def test_a_deployment_that_only_failed_counts_as_slowest() -> None:
    ds = [dep(0), dep(1)]
    stats = _stats({"d1": 3.0})
    stats.observe("d0", 0.01, ok=False)
    strategy = LatencyBased(stats, random.Random(0))
    assert all(strategy.order(group_of(ds), ds, CallContext())[0].id == "d1" for _ in range(20))
