"""Sliding-window arithmetic shared by every quota store (the Redis Lua script mirrors it line by line).

**Algorithm: a bucketed sliding window, counted conservatively.** A window of ``W`` seconds is cut
into ``n = W / b`` buckets of ``b`` seconds. A counter keeps the amount reserved in each bucket and
their running total; at bucket ``cur`` it counts buckets ``cur - n .. cur`` (``n + 1`` buckets), which
cover every instant of the last ``W`` seconds and up to ``b`` seconds more. Hence the guarantee:
**in any interval of ``W`` seconds, the amounts admitted (net of releases at settlement) never exceed
the limit.** The price of never over-admitting is refusing a little early: usage is forgotten between
``W`` and ``W + b`` seconds after it happened (1 s in a minute, 1 min in an hour, 15 min in a day,
6 h in a 30-day month).

Why not the alternatives: a two-window weighted counter is an estimate (it can over-admit when
traffic is uneven); a sliding log is exact but stores every request, unbounded for token and spend
budgets over a month; GCRA keeps one number but meters a *rate*, admitting up to twice the limit in
some windows of length ``W``, and its refill-as-you-go does not match "at most X spend in a month".
Buckets keep memory bounded (``n + 1`` numbers per counter), let a reservation be released exactly
from the bucket it went into, and give an exact ``Retry-After``: the moment enough old buckets expire.

Counters advance monotonically: a caller whose clock lags behind the newest bucket seen is counted in
that bucket, so skewed workers cannot resurrect expired usage or hide new usage.
"""

from __future__ import annotations

import math

from routeiq_core.access.quota_limits import WindowSpec


def bucket_of(now: float, spec: WindowSpec) -> int:
    """The index of the bucket holding unix time ``now`` (ms resolution, as in the Lua script)."""
    return math.floor(now * 1000) // (spec.bucket_s * 1000)


class SlidingCounter:
    """The buckets of one (scope, metric, window) counter.

    Attributes:
        lo: Lowest bucket index that may still count; every bucket below was subtracted.
        total: Sum of the buckets ``lo .. lo + n``.
        buckets: Amount per bucket index.
    """

    __slots__ = ("buckets", "lo", "total")

    def __init__(self, cur: int, spec: WindowSpec) -> None:
        self.lo = cur - spec.buckets
        self.total = 0
        self.buckets: dict[int, int] = {}

    def advance(self, cur: int, spec: WindowSpec) -> int:
        """Forget buckets older than the window ending at ``cur``; return the effective bucket.

        The effective bucket is ``max(cur, newest seen)``, so the counter never moves backwards.
        """
        n = spec.buckets
        cur = max(cur, self.lo + n)
        cutoff = cur - n
        if cutoff > self.lo:
            if cutoff > self.lo + n:
                self.buckets.clear()
                self.total = 0
            else:
                for index in range(self.lo, cutoff):
                    self.total -= self.buckets.pop(index, 0)
            self.lo = cutoff
        return cur

    def fits(self, amount: int, limit: int) -> bool:
        """Whether ``amount`` more stays within ``limit`` (call :meth:`advance` first)."""
        return self.total + amount <= limit

    def add(self, index: int, amount: int) -> None:
        """Count ``amount`` in bucket ``index`` (the bucket returned by :meth:`advance`)."""
        self.buckets[index] = self.buckets.get(index, 0) + amount
        self.total += amount

    def adjust(self, index: int, delta: int) -> None:
        """Settle: move bucket ``index`` by ``delta`` if it still counts; never below zero."""
        if index < self.lo or index not in self.buckets:
            return
        value = self.buckets[index]
        delta = max(delta, -value)
        self.buckets[index] = value + delta
        self.total += delta

    def retry_after_s(self, amount: int, limit: int, cur: int, now: float, spec: WindowSpec) -> float:
        """Seconds until ``amount`` would fit, as old buckets expire (a full window if it never can)."""
        if amount > limit:
            return float(spec.seconds)
        remaining = self.total
        for index in range(self.lo, cur + 1):
            remaining -= self.buckets.get(index, 0)
            if remaining + amount <= limit:
                expires_ms = (index + spec.buckets + 1) * spec.bucket_s * 1000
                return max(expires_ms - math.floor(now * 1000), 0) / 1000
        return float(spec.seconds)

    def in_window(self, cur: int, spec: WindowSpec) -> int:
        """Usage counted at bucket ``cur`` without changing the counter (for reports)."""
        low = max(cur, self.lo + spec.buckets) - spec.buckets
        return sum(v for index, v in self.buckets.items() if index >= low)
