"""What the SQL spend ledgers share: the per-process buffer, its batched flush, and reports."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence

import anyio

from routeiq_adapters.spend._buckets import Bucket, Row, covered, fold, hour_of, merge, tally
from routeiq_adapters.spend._schema import DbRow, to_rows
from routeiq_core import metric_names as names
from routeiq_core.access.spend import SpendFilter, SpendRecord, SpendReport, SpendTotals
from routeiq_core.metrics import Metrics

logger = logging.getLogger("routeiq.spend")


class SQLSpendLedger(abc.ABC):
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
    at most once an hour.
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
        self._pending: dict[Bucket, SpendTotals] = {}
        self._flush_lock = anyio.Lock()
        self._flush_interval_s = flush_interval_s
        self._retention_hours = retention_hours
        self._max_pending = max_pending_buckets
        self._metrics = metrics
        self._clock = clock
        self._pruned_hour: int | None = None
        self._failing = False
        self._dropping = False
        self._writes: set[asyncio.Future[bool]] = set()
        self.flush_failures = 0
        """Flushes that failed since the ledger was built."""
        self.dropped_records = 0
        """Calls not recorded because the buffer was full."""

    @abc.abstractmethod
    async def ensure_schema(self) -> None:
        """Open the database and create or migrate the schema (also done on first use)."""

    @abc.abstractmethod
    async def _write(self, rows: Sequence[DbRow], prune_before: int | None) -> None:
        """Upsert ``rows`` and delete hours before ``prune_before`` in one transaction."""

    @abc.abstractmethod
    async def _select(self, spend_filter: SpendFilter) -> list[Row]:
        """The stored totals per (key, team, model group) the filter covers."""

    @abc.abstractmethod
    async def _close_database(self) -> None:
        """Close the connection or pool."""

    @property
    def pending_buckets(self) -> int:
        """How many buckets wait for the next flush."""
        return len(self._pending)

    async def record(self, entry: SpendRecord) -> None:
        """Add one finished call to this process's buffer (no database round trip)."""
        if fold(self._pending, entry, max_buckets=self._max_pending):
            return
        self.dropped_records += 1
        if self._metrics is not None:
            self._metrics.increment(names.SPEND_RECORDS_DROPPED)
        if not self._dropping:
            self._dropping = True
            logger.error(
                "spend ledger: %d buckets are waiting for the database, the limit; calls needing a new "
                "bucket are not recorded until a flush succeeds",
                len(self._pending),
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

    async def flush(self) -> bool:
        """Write the buffer in one batch; False (buffer kept, nothing raised) when the database failed."""
        async with self._flush_lock:
            return await self._flush_locked()

    @contextlib.asynccontextmanager
    async def flushing(self) -> AsyncIterator[None]:
        """Flush every ``flush_interval_s`` in the background for as long as the context is open."""
        stop = asyncio.Event()
        task = asyncio.create_task(self._flush_until(stop))
        try:
            yield
        finally:
            stop.set()
            await task

    async def close(self) -> None:
        """Flush what is buffered, then close the database (a later call reopens it)."""
        if self._pending and not await self.flush():
            requests = sum(totals.requests for totals in self._pending.values())
            logger.error("spend ledger: %d calls could not be written at shutdown and are lost", requests)
        await self._close_database()

    async def _flush_until(self, stop: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._flush_interval_s)
            await self.flush()
            if stop.is_set():
                return

    async def _flush_locked(self) -> bool:
        now_hour = hour_of(self._clock())
        prune_before = now_hour - self._retention_hours if now_hour != self._pruned_hour else None
        if not self._pending and prune_before is None:
            return True
        pending, self._pending = self._pending, {}
        # A caller cancelled mid-write (a client gone during a report) must neither lose the batch nor
        # write it twice: the write finishes, or puts the batch back, in a task of its own.
        write = asyncio.ensure_future(self._write_batch(pending, prune_before, now_hour))
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)
        return await asyncio.shield(write)

    async def _write_batch(
        self, pending: dict[Bucket, SpendTotals], prune_before: int | None, hour: int
    ) -> bool:
        try:
            await self._write(to_rows(pending), prune_before)
        except Exception as exc:  # a flush never raises: the batch waits in the buffer for the next one
            merge(self._pending, pending)
            self._flush_failed(exc)
            return False
        if prune_before is not None:
            self._pruned_hour = hour
        if self._failing:
            logger.warning("spend ledger: the database is back; spend buffered meanwhile is written")
        self._failing = self._dropping = False
        return True

    def _flush_failed(self, exc: Exception) -> None:
        self.flush_failures += 1
        if self._metrics is not None:
            self._metrics.increment(names.SPEND_FLUSH_FAILURES)
        if not self._failing:
            self._failing = True
            logger.error(
                "spend ledger: writing to the database failed (%s); %d buckets stay in memory, retrying "
                "every %gs",
                exc,
                len(self._pending),
                self._flush_interval_s,
            )
