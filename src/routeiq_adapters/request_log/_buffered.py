"""What the SQL request logs share: the bounded per-process buffer of records, and queries."""

from __future__ import annotations

import abc
import logging
from collections import deque
from collections.abc import Callable, Sequence

from routeiq_adapters._buffered import BufferedWriter
from routeiq_adapters.request_log._paging import Position, decode_cursor, page_of, page_size
from routeiq_adapters.request_log._schema import DbRow, to_row
from routeiq_core import metric_names as names
from routeiq_core.metrics import Metrics
from routeiq_core.request_log import RequestPage, RequestQuery, RequestRecord

logger = logging.getLogger("routeiq.request_log")
DAY_S = 86_400


class SQLRequestLog(BufferedWriter[list[RequestRecord]]):
    """A request log in a database shared by the workers, written in batches from an in-process buffer.

    ``record`` costs no database round trip: it appends to this process's buffer, which a flush writes
    as one batch of inserts (:class:`~routeiq_adapters._buffered.BufferedWriter` runs the flushes, in
    the background and at shutdown). ``query`` flushes this worker's buffer first, then reads the
    database: exact for this worker, and every other worker's calls up to its last flush.

    The buffer holds at most ``max_pending`` records: while the database is down, the oldest are
    dropped to make room, logged once per outage and counted (``routeiq_request_log_records_dropped``);
    failed flushes count in ``routeiq_request_log_flush_failures``. The first flush of each hour
    deletes records older than ``retention_days``.
    """

    def __init__(
        self,
        *,
        flush_interval_s: float,
        retention_days: float,
        max_pending: int,
        metrics: Metrics | None,
        clock: Callable[[], float],
    ) -> None:
        super().__init__(
            what="request log",
            logger=logger,
            flush_interval_s=flush_interval_s,
            retention_s=retention_days * DAY_S,
            metrics=metrics,
            failure_metric=names.REQUEST_LOG_FLUSH_FAILURES,
            drop_metric=names.REQUEST_LOG_RECORDS_DROPPED,
            clock=clock,
        )
        self._pending: deque[RequestRecord] = deque()
        self._max_pending = max_pending

    @abc.abstractmethod
    async def _write(self, rows: Sequence[DbRow], prune_before: float | None) -> None:
        """Insert ``rows`` and delete records that arrived before ``prune_before``, in one transaction."""

    @abc.abstractmethod
    async def _select(
        self, query: RequestQuery, after: Position | None, limit: int
    ) -> list[tuple[int, RequestRecord]]:
        """Up to ``limit`` stored (id, record) pairs ``query`` selects after ``after``, newest first."""

    @property
    def pending_records(self) -> int:
        """How many records wait for the next flush."""
        return len(self._pending)

    async def record(self, entry: RequestRecord) -> None:
        """Add one finished call to this process's buffer (no database round trip)."""
        self._pending.append(entry)
        if len(self._pending) > self._max_pending:
            self._pending.popleft()
            self._full(1)

    async def query(self, query: RequestQuery) -> RequestPage:
        """Flush this worker's buffer, then read a page of the database (every worker's flushed calls).

        Raises:
            InvalidRequestError: The cursor is not one this log returned.
            RequestLogError: The database could not be read.
        """
        after = decode_cursor(query.cursor) if query.cursor is not None else None
        limit = page_size(query.limit)
        async with self._flush_lock:
            await self._flush_locked()
            rows = await self._select(query, after, limit + 1)
        return page_of(rows, limit)

    def _full(self, count: int) -> None:
        self._dropped(
            count,
            f"{self._max_pending} records are waiting for the database, the limit; the oldest are dropped "
            "until a flush succeeds",
            logging.WARNING,
        )

    def _pending_size(self) -> int:
        return len(self._pending)

    def _pending_calls(self) -> int:
        return len(self._pending)

    def _take(self) -> list[RequestRecord]:
        batch = list(self._pending)
        self._pending.clear()
        return batch

    def _restore(self, batch: list[RequestRecord]) -> None:
        self._pending.extendleft(reversed(batch))
        excess = len(self._pending) - self._max_pending
        if excess > 0:
            for _ in range(excess):
                self._pending.popleft()
            self._full(excess)

    async def _store(self, batch: list[RequestRecord], prune_before: float | None) -> None:
        await self._write([to_row(entry) for entry in batch], prune_before)
