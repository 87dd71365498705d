"""Spend accumulated in process memory, in hourly buckets (bounded, not per request)."""

from __future__ import annotations

from routeiq_adapters.spend._buckets import Bucket, covered, fold, hour_of, tally
from routeiq_core.access.spend import SpendFilter, SpendRecord, SpendReport, SpendTotals


class InMemorySpendLedger:
    """The in-process adapter of the ``SpendLedger`` port (one per worker, lost on restart).

    Records fold into totals per (hour, key, team, model group), so memory grows with the number of
    distinct combinations, not with traffic; hours older than ``retention_hours`` are dropped.
    Reports filter by whole hours: ``since`` and ``until`` select the hours they fall in.

    Args:
        retention_hours: How many hours of history to keep (default 90 days).
    """

    def __init__(self, *, retention_hours: int = 90 * 24) -> None:
        self._totals: dict[Bucket, SpendTotals] = {}
        self._retention_hours = retention_hours
        self._newest_hour = 0

    async def record(self, entry: SpendRecord) -> None:
        """Add one finished call."""
        fold(self._totals, entry)
        hour = hour_of(entry.at)
        if hour > self._newest_hour:
            self._newest_hour = hour
            self._expire()

    async def report(self, spend_filter: SpendFilter) -> SpendReport:
        """Totals overall and per key, team and model group of the records the filter covers."""
        return tally(spend_filter, covered(self._totals, spend_filter))

    def _expire(self) -> None:
        oldest = self._newest_hour - self._retention_hours
        for bucket in [b for b in self._totals if b[0] < oldest]:
            del self._totals[bucket]
