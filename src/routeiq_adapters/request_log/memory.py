"""The request log in process memory: a bounded ring of the latest records (one worker, lost on restart)."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

from routeiq_adapters.request_log._buffered import DAY_S
from routeiq_adapters.request_log._paging import decode_cursor, page_of, page_size
from routeiq_core.request_log import RequestPage, RequestQuery, RequestRecord


class InMemoryRequestLog:
    """The in-process adapter of the ``RequestLog`` port.

    Keeps the last ``max_records`` calls of this worker (older ones fall off the ring) and forgets
    those older than ``retention_days``. Each worker of a multi-worker server answers only for its own
    calls: use SQLite or PostgreSQL to see them all.

    Args:
        max_records: How many records the ring holds.
        retention_days: Days of records kept.
        clock: The current unix time (for retention).
    """

    def __init__(
        self,
        *,
        max_records: int = 10_000,
        retention_days: float = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._records: deque[tuple[int, RequestRecord]] = deque(maxlen=max_records)
        self._ids = itertools.count(1)
        self._retention_s = retention_days * DAY_S
        self._clock = clock

    async def record(self, entry: RequestRecord) -> None:
        """Add one finished call (the oldest falls off a full ring)."""
        self._records.append((next(self._ids), entry))

    async def query(self, query: RequestQuery) -> RequestPage:
        """The records ``query`` selects, newest first by (arrival, id).

        Raises:
            InvalidRequestError: The cursor is not one this log returned.
        """
        after = decode_cursor(query.cursor) if query.cursor is not None else None
        limit = page_size(query.limit)
        cutoff = self._clock() - self._retention_s
        while self._records and self._records[0][1].at < cutoff:
            self._records.popleft()
        rows = [
            (row_id, record)
            for row_id, record in self._records
            if record.at >= cutoff
            and query.accepts(record)
            and (after is None or (record.at, row_id) < after)
        ]
        rows.sort(key=lambda row: (row[1].at, row[0]), reverse=True)
        return page_of(rows[: limit + 1], limit)

    @contextlib.asynccontextmanager
    async def flushing(self) -> AsyncIterator[None]:
        """Nothing to flush: records are in memory as soon as they are recorded."""
        yield

    async def close(self) -> None:
        """Nothing to close."""
