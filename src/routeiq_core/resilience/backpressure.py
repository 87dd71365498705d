"""Per-worker admission control: a bounded number of requests in flight, the rest shed at once."""

from __future__ import annotations


class ConcurrencyLimiter:
    """Counts requests in flight and refuses new ones beyond ``limit``.

    Single-threaded by design (one per event loop): acquire and release never await, so no lock is
    needed. Counters are exposed for logs, metrics and the admin API.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit}")
        self.limit = limit
        self.in_flight = 0
        self.admitted = 0
        self.shed = 0

    def try_acquire(self) -> bool:
        """Take a slot if one is free; count the request as admitted or shed."""
        if self.in_flight >= self.limit:
            self.shed += 1
            return False
        self.in_flight += 1
        self.admitted += 1
        return True

    def release(self) -> None:
        """Give back a slot taken by :meth:`try_acquire`."""
        if self.in_flight <= 0:
            raise RuntimeError("release() called more often than try_acquire() succeeded")
        self.in_flight -= 1
