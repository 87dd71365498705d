"""Resilience logic: admission control, retry timing, circuit breakers."""

from routeiq_core.resilience.backpressure import ConcurrencyLimiter
from routeiq_core.resilience.circuit_breaker import (
    BreakerConfig,
    BreakerRegistry,
    BreakerState,
    CircuitBreaker,
    Transition,
    fan_out,
    reporting_transitions,
)
from routeiq_core.resilience.retry import RetryPolicy

__all__ = [
    "BreakerConfig",
    "BreakerRegistry",
    "BreakerState",
    "CircuitBreaker",
    "ConcurrencyLimiter",
    "RetryPolicy",
    "Transition",
    "fan_out",
    "reporting_transitions",
]
