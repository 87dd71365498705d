"""Usage based (RPM/TPM headroom over the sliding minute)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from routeiq_core.catalog import Deployment
from routeiq_core.context import CallContext
from routeiq_core.routing import DeploymentStats, RouteContext
from routeiq_core.routing.strategies import UsageBased
from tests.support.clocks import ManualClock
from tests.unit.routing.strategies.support import PROPERTY, contexts, dep, deployment_lists, group_of, ids


@PROPERTY
@given(
    deployment_lists(),
    st.lists(st.tuples(st.integers(0, 25), st.integers(0, 6000)), min_size=8, max_size=8),
    contexts,
)
def test_order_is_a_permutation_with_limited_last_and_headroom_descending(
    ds: list[Deployment], usage: list[tuple[int, int]], context: RouteContext
) -> None:
    stats = DeploymentStats(clock=ManualClock())
    for d, (requests, tokens) in zip(ds, usage, strict=False):
        for _ in range(requests):
            stats.started(d.id)
        stats.add_tokens(d.id, tokens)
    strategy = UsageBased(stats, random.Random(0))
    ordered = strategy.order(group_of(ds), ds, context)
    assert sorted(ids(ordered)) == sorted(ids(ds))
    assessed = [strategy.headroom(d, context.estimated_prompt_tokens) for d in ordered]
    limited = [flag for flag, _ in assessed]
    assert limited == sorted(limited)
    for flag in (False, True):
        headroom = [h for f, h in assessed if f is flag]
        assert headroom == sorted(headroom, reverse=True)


def test_a_deployment_at_its_rpm_goes_last_until_the_minute_passes() -> None:
    clock = ManualClock()
    stats = DeploymentStats(clock=clock)
    ds = [dep(0, rpm=2), dep(1, rpm=100), dep(2, rpm=100)]
    for _ in range(2):
        stats.started("d0")
    for _ in range(90):
        stats.started("d1")
    strategy = UsageBased(stats, random.Random(0))
    assert ids(strategy.order(group_of(ds), ds, CallContext())) == ["d2", "d1", "d0"]
    assert strategy.headroom(ds[0]) == (True, 0.0)
    clock.now += 61
    assert strategy.headroom(ds[0]) == (False, 1.0)
    assert any(strategy.order(group_of(ds), ds, CallContext())[0].id == "d0" for _ in range(50))


def test_a_prompt_that_would_overflow_the_tpm_goes_last() -> None:
    stats = DeploymentStats(clock=ManualClock())
    ds = [dep(0, tpm=10_000), dep(1, tpm=100_000)]
    stats.add_tokens("d0", 1_000)
    stats.add_tokens("d1", 80_000)
    strategy = UsageBased(stats, random.Random(0))
    assert ids(strategy.order(group_of(ds), ds, CallContext(estimated_prompt_tokens=100))) == ["d0", "d1"]
    assert ids(strategy.order(group_of(ds), ds, CallContext(estimated_prompt_tokens=9_500))) == ["d1", "d0"]


def test_most_headroom_is_a_share_of_the_limit() -> None:
    stats = DeploymentStats(clock=ManualClock())
    small, big = dep(0, rpm=10), dep(1, rpm=1000)
    for _ in range(2):
        stats.started("d0")  # 80 % free
    for _ in range(500):
        stats.started("d1")  # 50 % free, though far more requests left
    strategy = UsageBased(stats, random.Random(0))
    assert ids(strategy.order(group_of([small, big]), [big, small], CallContext())) == ["d0", "d1"]
