"""Quota counters in process memory: exact for one process, the embedded default."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from routeiq_core.access.quota import QuotaItem, Refusal, Reservation, ReservedItem
from routeiq_core.access.quota_limits import METRICS, WINDOW_SPECS, Amounts, Metric, Window, WindowSpec
from routeiq_core.access.quota_window import SlidingCounter, bucket_of


class InMemoryQuotaStore:
    """The in-process adapter of the ``QuotaStore`` port.

    Reserve and settle never await while they read and change counters, so on one event loop each
    runs as one atomic step: all-or-nothing across items without a lock. Counters are shared only
    within the process; use the Redis store for several workers.

    Args:
        reservation_ttl_s: How long a reservation may wait for its settlement; after that, settling
            it does nothing and its estimate stays counted.
        prune_every: Reservations between sweeps of idle counters and expired reservations.
    """

    def __init__(self, *, reservation_ttl_s: float = 3_600.0, prune_every: int = 1_024) -> None:
        self._counters: dict[str, tuple[SlidingCounter, WindowSpec]] = {}
        self._pending: dict[str, float] = {}
        self._reservation_ttl_s = reservation_ttl_s
        self._prune_every = prune_every
        self._since_prune = 0

    async def reserve(self, items: Sequence[QuotaItem], now: float) -> Reservation | Refusal:
        """Reserve every item or none (see the port)."""
        if len({item.counter_key for item in items}) != len(items):
            raise ValueError("quota items must name distinct counters (merge limits on the same counter)")
        staged: list[tuple[QuotaItem, SlidingCounter, int]] = []
        refusal: Refusal | None = None
        for item in items:
            spec = WINDOW_SPECS[item.window]
            counter = self._counter(item.counter_key, now, item.window)
            cur = counter.advance(bucket_of(now, spec), spec)
            staged.append((item, counter, cur))
            if not counter.fits(item.amount, item.limit):
                retry = counter.retry_after_s(item.amount, item.limit, cur, now, spec)
                if refusal is None or retry > refusal.retry_after_s:
                    refusal = Refusal(item=item, current=counter.total, retry_after_s=retry)
        if refusal is not None:
            return refusal
        for item, counter, cur in staged:
            counter.add(cur, item.amount)
        reservation = Reservation(
            id=uuid.uuid4().hex,
            items=tuple(ReservedItem(item=item, bucket=cur) for item, _, cur in staged),
        )
        if staged:
            self._pending[reservation.id] = now + self._reservation_ttl_s
        self._maybe_prune(now)
        return reservation

    async def settle(self, reservation: Reservation, actual: Amounts, now: float) -> None:
        """Apply ``actual - reserved`` to each bucket still in its window; once per reservation."""
        expires = self._pending.pop(reservation.id, None)
        if expires is None or expires < now:
            return
        for reserved in reservation.items:
            item = reserved.item
            found = self._counters.get(item.counter_key)
            if found is None:
                continue
            counter, spec = found
            counter.advance(bucket_of(now, spec), spec)
            counter.adjust(reserved.bucket, actual.of(item.metric) - item.amount)

    async def usage(self, scope_key: str, window: Window, now: float) -> Mapping[Metric, int]:
        """Counted amounts of ``scope_key`` in ``window``, by metric."""
        spec = WINDOW_SPECS[window]
        found: dict[Metric, int] = {}
        for metric in METRICS:
            entry = self._counters.get(f"{scope_key}:{metric}:{window}")
            if entry is not None:
                found[metric] = entry[0].in_window(bucket_of(now, spec), spec)
        return found

    async def ping(self) -> None:
        """Always reachable."""

    def _counter(self, key: str, now: float, window: Window) -> SlidingCounter:
        entry = self._counters.get(key)
        if entry is None:
            spec = WINDOW_SPECS[window]
            entry = self._counters[key] = (SlidingCounter(bucket_of(now, spec), spec), spec)
        return entry[0]

    def _maybe_prune(self, now: float) -> None:
        self._since_prune += 1
        if self._since_prune < self._prune_every:
            return
        self._since_prune = 0
        self._pending = {rid: expires for rid, expires in self._pending.items() if expires >= now}
        idle = []
        for key, (counter, spec) in self._counters.items():
            counter.advance(bucket_of(now, spec), spec)
            if counter.total == 0:  # every bucket is zero: a fresh counter is equivalent
                idle.append(key)
        for key in idle:
            del self._counters[key]
