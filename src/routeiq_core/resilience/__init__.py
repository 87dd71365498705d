"""Resilience logic: admission control (and, later, retries, breakers and deadlines)."""

from routeiq_core.resilience.backpressure import ConcurrencyLimiter

__all__ = ["ConcurrencyLimiter"]
