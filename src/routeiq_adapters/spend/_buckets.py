"""Hourly spend buckets shared by the ledgers: folding records in, and totalling them into a report."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from routeiq_core.access.spend import SpendFilter, SpendRecord, SpendReport, SpendTotals

HOUR_S = 3_600

Bucket = tuple[int, str | None, str | None, str]
"""(hour since the epoch, key id, team, model group)."""
Row = tuple[str | None, str | None, str, int, float, int, int]
"""(key id, team, model group, requests, cost, prompt tokens, completion tokens)."""


def hour_of(at: float) -> int:
    """The hour (since the epoch) a unix time falls in."""
    return math.floor(at / HOUR_S)


def hour_bounds(spend_filter: SpendFilter) -> tuple[float, float]:
    """The first and last hour a filter covers (infinite when unbounded)."""
    since, until = spend_filter.since, spend_filter.until
    return (
        -math.inf if since is None else hour_of(since),
        math.inf if until is None else hour_of(until),
    )


def fold(buckets: dict[Bucket, SpendTotals], entry: SpendRecord, *, max_buckets: float = math.inf) -> bool:
    """Add one record to its bucket; False (nothing added) when a new bucket would exceed ``max_buckets``."""
    bucket = (hour_of(entry.at), entry.key_id, entry.team, entry.model_group)
    totals = buckets.get(bucket)
    if totals is None:
        if len(buckets) >= max_buckets:
            return False
        totals = buckets[bucket] = SpendTotals()
    totals.add(1, entry.cost, entry.prompt_tokens, entry.completion_tokens)
    return True


def merge(into: dict[Bucket, SpendTotals], buckets: dict[Bucket, SpendTotals]) -> None:
    """Add every bucket of ``buckets`` to ``into``."""
    for bucket, totals in buckets.items():
        values = (totals.requests, totals.cost, totals.prompt_tokens, totals.completion_tokens)
        into.setdefault(bucket, SpendTotals()).add(*values)


def covered(buckets: dict[Bucket, SpendTotals], spend_filter: SpendFilter) -> Iterator[Row]:
    """The buckets a filter covers, as report rows."""
    first, last = hour_bounds(spend_filter)
    for (hour, key_id, team, group), totals in buckets.items():
        if first <= hour <= last and spend_filter.accepts(key_id, team, group):
            yield (
                key_id,
                team,
                group,
                totals.requests,
                totals.cost,
                totals.prompt_tokens,
                totals.completion_tokens,
            )


def tally(spend_filter: SpendFilter, rows: Iterable[Row]) -> SpendReport:
    """Totals overall and per key, team and model group of ``rows`` (no key or team: ``"-"``)."""
    report = SpendReport(filter=spend_filter, total=SpendTotals(), by_key={}, by_team={}, by_model_group={})
    for key_id, team, group, requests, cost, prompt_tokens, completion_tokens in rows:
        for totals in (
            report.total,
            report.by_key.setdefault(key_id or "-", SpendTotals()),
            report.by_team.setdefault(team or "-", SpendTotals()),
            report.by_model_group.setdefault(group, SpendTotals()),
        ):
            totals.add(requests, cost, prompt_tokens, completion_tokens)
    return report
