"""What the buffered SQL stores share: a per-process buffer written to the database in batches.

The spend ledger and the request log take a record on the hot path without a database round trip:
it goes into this process's buffer, and a background task writes the buffer as one batch every
``flush_interval_s`` (also pruning what is older than the retention, at most once an hour).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

import anyio

from routeiq_core.metrics import Metrics

B = TypeVar("B")
"""A batch: what the buffer holds, taken out whole by a flush."""

PRUNE_EVERY_S = 3_600
"""A flush prunes past the retention at most once per hour (of the clock)."""


class BufferedWriter(abc.ABC, Generic[B]):
    """A store whose records wait in this process's buffer and reach a shared database in batches.

    Subclasses add records to the buffer (no database round trip), and say how a batch is taken out,
    put back and written. :meth:`flush` writes the whole buffer as one batch; :meth:`flushing` runs it
    every ``flush_interval_s`` in the background, and :meth:`close` once more at shutdown, so a
    graceful stop loses nothing.

    A failed flush (database down or locked) never raises: the batch goes back into the buffer, the
    failure is logged once per outage and counted (``failure_metric``), and the next flush retries.
    The buffer is bounded by the subclass, which reports what it cannot keep with :meth:`_dropped`
    (counted in ``drop_metric``). The first flush of each hour also deletes what is older than
    ``retention_s``.

    Args:
        what: The store's name in log messages (``spend ledger``).
        logger: Where outages and drops are logged.
        flush_interval_s: How often :meth:`flushing` writes the buffer.
        retention_s: How long records are kept in the database.
        metrics: Where failed flushes and dropped records are counted.
        failure_metric: The counter of failed flushes.
        drop_metric: The counter of dropped records.
        clock: The current unix time (for retention).
    """

    def __init__(
        self,
        *,
        what: str,
        logger: logging.Logger,
        flush_interval_s: float,
        retention_s: float,
        metrics: Metrics | None,
        failure_metric: str,
        drop_metric: str,
        clock: Callable[[], float],
    ) -> None:
        self._what = what
        self._logger = logger
        self._flush_lock = anyio.Lock()
        self._flush_interval_s = flush_interval_s
        self._retention_s = retention_s
        self._metrics = metrics
        self._failure_metric = failure_metric
        self._drop_metric = drop_metric
        self._clock = clock
        self._pruned_hour: int | None = None
        self._failing = False
        self._dropping = False
        self._writes: set[asyncio.Future[bool]] = set()
        self.flush_failures = 0
        """Flushes that failed since the store was built."""
        self.dropped_records = 0
        """Records not kept because the buffer was full."""

    @abc.abstractmethod
    async def ensure_schema(self) -> None:
        """Open the database and create or migrate the schema (also done on first use)."""

    @abc.abstractmethod
    def _pending_size(self) -> int:
        """How many entries (records, buckets) the buffer holds."""

    @abc.abstractmethod
    def _pending_calls(self) -> int:
        """How many calls the buffer holds (what a failed last flush loses)."""

    @abc.abstractmethod
    def _take(self) -> B:
        """Empty the buffer, returning what it held."""

    @abc.abstractmethod
    def _restore(self, batch: B) -> None:
        """Put a batch that could not be written back into the buffer (ahead of newer records)."""

    @abc.abstractmethod
    async def _store(self, batch: B, prune_before: float | None) -> None:
        """Write ``batch`` and delete records before the unix time ``prune_before``, in one transaction."""

    @abc.abstractmethod
    async def _close_database(self) -> None:
        """Close the connection or pool."""

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
        if self._pending_size() and not await self.flush():
            self._logger.error(
                "%s: %d calls could not be written at shutdown and are lost",
                self._what,
                self._pending_calls(),
            )
        await self._close_database()

    def _dropped(self, count: int, why: str, level: int = logging.ERROR) -> None:
        """Count ``count`` records the buffer could not keep; log ``why`` once per outage."""
        self.dropped_records += count
        if self._metrics is not None:
            self._metrics.increment(self._drop_metric, count)
        if not self._dropping:
            self._dropping = True
            self._logger.log(level, "%s: %s", self._what, why)

    async def _flush_until(self, stop: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._flush_interval_s)
            await self.flush()
            if stop.is_set():
                return

    async def _flush_locked(self) -> bool:
        now = self._clock()
        hour = int(now // PRUNE_EVERY_S)
        prune_before = now - self._retention_s if hour != self._pruned_hour else None
        if not self._pending_size() and prune_before is None:
            return True
        batch = self._take()
        # A caller cancelled mid-write (a client gone during a read) must neither lose the batch nor
        # write it twice: the write finishes, or puts the batch back, in a task of its own.
        write = asyncio.ensure_future(self._write_batch(batch, prune_before, hour))
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)
        return await asyncio.shield(write)

    async def _write_batch(self, batch: B, prune_before: float | None, hour: int) -> bool:
        try:
            await self._store(batch, prune_before)
        except Exception as exc:  # a flush never raises: the batch waits in the buffer for the next one
            self._restore(batch)
            self._flush_failed(exc)
            return False
        if prune_before is not None:
            self._pruned_hour = hour
        if self._failing:
            self._logger.warning(
                "%s: the database is back; what was buffered meanwhile is written", self._what
            )
        self._failing = self._dropping = False
        return True

    def _flush_failed(self, exc: Exception) -> None:
        self.flush_failures += 1
        if self._metrics is not None:
            self._metrics.increment(self._failure_metric)
        if not self._failing:
            self._failing = True
            self._logger.error(
                "%s: writing to the database failed (%s); %d entries stay in memory, retrying every %gs",
                self._what,
                exc,
                self._pending_size(),
                self._flush_interval_s,
            )
