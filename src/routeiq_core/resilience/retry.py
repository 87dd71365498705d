"""Retry timing: exponential backoff with full jitter, honouring an upstream's Retry-After."""

from __future__ import annotations

import random

import msgspec


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How many times and how patiently to retry within one request.

    Attributes:
        num_retries: Extra attempts after the first, per model group.
        base_delay_s: Backoff scale: attempt ``n`` waits up to ``base * 2**(n-1)``.
        max_delay_s: Cap on one wait, also on an upstream's Retry-After.
    """

    num_retries: int = 2
    base_delay_s: float = 0.1
    max_delay_s: float = 5.0

    def delay(self, retry_number: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based).

        Full jitter (uniform in ``[0, base * 2**(n-1)]``) spreads retries of many clients apart; a
        Retry-After from the upstream is a floor, capped at ``max_delay_s``.
        """
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** max(0, retry_number - 1)))
        wait = rng.uniform(0.0, ceiling)
        if retry_after_s is not None:
            wait = max(wait, min(retry_after_s, self.max_delay_s))
        return wait
