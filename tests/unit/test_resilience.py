"""Retry timing, circuit breakers and admission control."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeiq_core.resilience import (
    BreakerConfig,
    BreakerRegistry,
    BreakerState,
    ConcurrencyLimiter,
    RetryPolicy,
)
from tests.support.clocks import ManualClock


@given(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=2**32))
def test_backoff_stays_within_the_exponential_ceiling(retry_number: int, seed: int) -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=5.0)
    delay = policy.delay(retry_number, random.Random(seed))
    assert 0 <= delay <= min(5.0, 0.1 * 2 ** (retry_number - 1))


def test_retry_after_is_honoured_but_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=5.0)
    assert policy.delay(1, random.Random(1), retry_after_s=2.0) == 2.0
    assert policy.delay(1, random.Random(1), retry_after_s=60.0) == 5.0


def test_breaker_lifecycle() -> None:
    clock = ManualClock(0.0)
    moves: list[tuple[str, str]] = []
    registry = BreakerRegistry(
        BreakerConfig(failure_threshold=2, cooldown_s=10), clock, lambda k, o, n: moves.append((o, n))
    )
    b = registry.get("d")
    assert b.allow()
    b.record_failure()
    assert b.state is BreakerState.CLOSED
    b.record_success()  # resets the consecutive count
    b.record_failure()
    b.record_failure()
    assert b.state is BreakerState.OPEN
    assert not b.allow()
    assert not b.available()
    assert b.retry_after_s() == 10
    clock.now = 10
    assert b.available()
    assert b.allow()  # the probe
    assert b.state is BreakerState.HALF_OPEN
    assert not b.allow()  # one probe at a time
    b.record_failure()  # failed probe re-opens
    assert b.state is BreakerState.OPEN
    clock.now = 20
    assert b.allow()
    b.record_success()
    assert b.state is BreakerState.CLOSED
    assert moves == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


def test_released_probe_lets_another_through() -> None:
    clock = ManualClock(0.0)
    b = BreakerRegistry(BreakerConfig(failure_threshold=1, cooldown_s=1), clock).get("d")
    b.record_failure()
    clock.now = 1
    assert b.allow()
    b.release_probe()
    assert b.allow()


def test_limiter_counts_and_refuses() -> None:
    limiter = ConcurrencyLimiter(2)
    assert limiter.try_acquire()
    assert limiter.try_acquire()
    assert not limiter.try_acquire()
    limiter.release()
    assert limiter.try_acquire()
    assert (limiter.admitted, limiter.shed, limiter.in_flight) == (3, 1, 2)
    with pytest.raises(ValueError, match="positive"):
        ConcurrencyLimiter(0)
