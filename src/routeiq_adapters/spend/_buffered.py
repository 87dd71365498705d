"""What the SQL spend ledgers share: the per-process buffer of hourly buckets, and reports."""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Sequence

from routeiq_adapters._buffered import BufferedWriter
from routeiq_adapters.spend._buckets import HOUR_S, Bucket, Row, covered, fold, hour_of, merge, tally
from routeiq_adapters.spend._schema import DbRow, to_rows
from routeiq_core import metric_names as names
from routeiq_core.access.spend import SpendFilter, SpendRecord, SpendReport, SpendTotals
from routeiq_core.metrics import Metrics

logger = logging.getLogger("routeiq.spend")


class SQLSpendLedger(BufferedWriter[dict[Bucket, SpendTotals]]):
    """A spend ledger in a database shared by the workers, written in batches from an in-process buffer.

    ``record`` costs no database round trip: it folds the call into this process's buffer of hourly
    totals per (hour, key, team, model group). ``flush`` writes the whole buffer as one batch of
    upserts that add to the stored totals; :meth:`flushing` runs it every ``flush_interval_s`` in the
    background, and :meth:`close` runs it once more at shutdown, so a graceful stop loses nothing.
    ``report`` flushes this worker's buffer first, then totals the database: it is exact for this
    worker and includes whatever the other workers have flushed (at most ``flush_interval_s`` old).

    A failed flush (database down or locked) never raises: the batch goes back into the buffer, the
    failure is logged once per outage and counted (``routeiq_spend_flush_failures``), and the next
    flush retries. While it fails the buffer keeps folding calls into its buckets; once it holds
    ``max_pending_buckets`` distinct buckets, calls that would need a new one are dropped and counted
    (``routeiq_spend_records_dropped``). Hours older than ``retention_hours`` are deleted by a flush,
    at most once an hour. (The buffering is :class:`~routeiq_adapters._buffered.BufferedWriter`'s.)
    """

    def __init__(
        self,
        *,
        flush_interval_s: float,
        retention_hours: int,
        max_pending_buckets: int,
        metrics: Metrics | None,
        clock: Callable[[], float],
    ) -> None:
        super().__init__(
            what="spend ledger",
            logger=logger,
            flush_interval_s=flush_interval_s,
            retention_s=retention_hours * HOUR_S,
            metrics=metrics,
            failure_metric=names.SPEND_FLUSH_FAILURES,
            drop_metric=names.SPEND_RECORDS_DROPPED,
            clock=clock,
        )
        self._pending: dict[Bucket, SpendTotals] = {}
        self._max_pending = max_pending_buckets

    @abc.abstractmethod
    async def _write(self, rows: Sequence[DbRow], prune_before: int | None) -> None:
        """Upsert ``rows`` and delete hours before ``prune_before`` in one transaction."""

    @abc.abstractmethod
    async def _select(self, spend_filter: SpendFilter) -> list[Row]:
        """The stored totals per (key, team, model group) the filter covers."""

    @property
    def pending_buckets(self) -> int:
        """How many buckets wait for the next flush."""
        return len(self._pending)

    async def record(self, entry: SpendRecord) -> None:
        """Add one finished call to this process's buffer (no database round trip)."""
        if fold(self._pending, entry, max_buckets=self._max_pending):
            return
        self._dropped(
            1,
            f"{len(self._pending)} buckets are waiting for the database, the limit; calls needing a new "
            "bucket are not recorded until a flush succeeds",
        )

    async def report(self, spend_filter: SpendFilter) -> SpendReport:
        """Flush this worker's buffer, then total the database (every worker's flushed spend).

        Raises:
            SpendLedgerError: The database could not be read.
        """
        async with self._flush_lock:
            await self._flush_locked()
            rows = await self._select(spend_filter)
            # Still buffered (the flush failed, or calls came in meanwhile): not in the database yet.
            rows.extend(covered(self._pending, spend_filter))
        return tally(spend_filter, rows)

    def _pending_size(self) -> int:
        return len(self._pending)

    def _pending_calls(self) -> int:
        return sum(totals.requests for totals in self._pending.values())

    def _take(self) -> dict[Bucket, SpendTotals]:
        pending, self._pending = self._pending, {}
        return pending

    def _restore(self, batch: dict[Bucket, SpendTotals]) -> None:
        merge(self._pending, batch)

    async def _store(self, batch: dict[Bucket, SpendTotals], prune_before: float | None) -> None:
        # Whole hours: the hour of (now - retention) is the current hour minus the retention's hours.
        await self._write(to_rows(batch), None if prune_before is None else hour_of(prune_before))
