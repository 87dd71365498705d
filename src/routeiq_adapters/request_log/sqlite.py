"""The request log in a SQLite file: the embedded default, shared by the workers of one machine."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from routeiq_adapters._sqlite import SQLiteDatabase, immediate
from routeiq_adapters.request_log._buffered import SQLRequestLog
from routeiq_adapters.request_log._paging import Position
from routeiq_adapters.request_log._schema import COLUMNS, COMPONENT, TABLE, DbRow, from_row, select_query
from routeiq_core.metrics import Metrics
from routeiq_core.request_log import RequestLogError, RequestQuery, RequestRecord

_INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_PRUNE = f"DELETE FROM {TABLE} WHERE at < ?"


class SQLiteRequestLog(SQLRequestLog):
    """The SQLite adapter of the ``RequestLog`` port (buffered; see :class:`SQLRequestLog`).

    One connection on a worker thread, WAL mode so workers read while one writes. A flush is one
    ``BEGIN IMMEDIATE`` transaction of inserts; ``busy_timeout_s`` bounds the wait for another
    worker's write lock (a flush that times out is retried at the next interval). The schema is
    created or migrated on first use (the ``requests`` row of ``routeiq_schema_version``).

    Args:
        path: The database file (``":memory:"`` for a private in-memory database).
        busy_timeout_s: Longest wait for a lock held by another connection.
        flush_interval_s: How often :meth:`flushing` writes the buffer.
        retention_days: Days of records kept.
        max_pending: Most records buffered while the database fails (the oldest are dropped).
        metrics: Where flush failures and dropped records are counted.
        clock: The current unix time (for retention).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_s: float = 5.0,
        flush_interval_s: float = 1.0,
        retention_days: float = 30,
        max_pending: int = 10_000,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            flush_interval_s=flush_interval_s,
            retention_days=retention_days,
            max_pending=max_pending,
            metrics=metrics,
            clock=clock,
        )
        self._db = SQLiteDatabase(
            path,
            busy_timeout_s=busy_timeout_s,
            component=COMPONENT,
            error=lambda exc: RequestLogError(f"SQLite request log failed: {exc}"),
        )

    async def ensure_schema(self) -> None:
        """Open the file and create or migrate the schema (also done on first use)."""
        await self._db.ensure_schema()

    async def _write(self, rows: Sequence[DbRow], prune_before: float | None) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(_INSERT, rows)
            if prune_before is not None:
                conn.execute(_PRUNE, (prune_before,))

        await self._db.run(lambda conn: immediate(conn, write))

    async def _select(
        self, query: RequestQuery, after: Position | None, limit: int
    ) -> list[tuple[int, RequestRecord]]:
        sql, args = select_query(TABLE, query, after, limit, lambda n: "?")
        rows = await self._db.run(lambda conn: conn.execute(sql, args).fetchall())
        return [from_row(row) for row in rows]

    async def _close_database(self) -> None:
        await self._db.close()
