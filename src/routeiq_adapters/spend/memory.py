"""Spend accumulated in process memory, in hourly buckets (bounded, not per request)."""

from __future__ import annotations

import math

from routeiq_core.access.spend import SpendFilter, SpendRecord, SpendReport, SpendTotals

_HOUR_S = 3_600

_Bucket = tuple[int, str | None, str | None, str]


class InMemorySpendLedger:
    """The in-process adapter of the ``SpendLedger`` port (one per worker).

    Records fold into totals per (hour, key, team, model group), so memory grows with the number of
    distinct combinations, not with traffic; hours older than ``retention_hours`` are dropped.
    Reports filter by whole hours: ``since`` and ``until`` select the hours they fall in.

    Args:
        retention_hours: How many hours of history to keep (default 90 days).
    """

    def __init__(self, *, retention_hours: int = 90 * 24) -> None:
        self._totals: dict[_Bucket, SpendTotals] = {}
        self._retention_hours = retention_hours
        self._newest_hour = 0

    async def record(self, entry: SpendRecord) -> None:
        """Add one finished call."""
        hour = math.floor(entry.at / _HOUR_S)
        bucket = (hour, entry.key_id, entry.team, entry.model_group)
        totals = self._totals.get(bucket)
        if totals is None:
            totals = self._totals[bucket] = SpendTotals()
        totals.add(1, entry.cost, entry.prompt_tokens, entry.completion_tokens)
        if hour > self._newest_hour:
            self._newest_hour = hour
            self._expire()

    async def report(self, spend_filter: SpendFilter) -> SpendReport:
        """Totals overall and per key, team and model group of the records the filter covers."""
        first = -math.inf if spend_filter.since is None else math.floor(spend_filter.since / _HOUR_S)
        last = math.inf if spend_filter.until is None else math.floor(spend_filter.until / _HOUR_S)
        report = SpendReport(
            filter=spend_filter, total=SpendTotals(), by_key={}, by_team={}, by_model_group={}
        )
        for (hour, key_id, team, group), totals in self._totals.items():
            if not first <= hour <= last or not spend_filter.accepts(key_id, team, group):
                continue
            values = (totals.requests, totals.cost, totals.prompt_tokens, totals.completion_tokens)
            report.total.add(*values)
            for table, name in (
                (report.by_key, key_id or "-"),
                (report.by_team, team or "-"),
                (report.by_model_group, group),
            ):
                table.setdefault(name, SpendTotals()).add(*values)
        return report

    def _expire(self) -> None:
        oldest = self._newest_hour - self._retention_hours
        for bucket in [b for b in self._totals if b[0] < oldest]:
            del self._totals[bucket]
