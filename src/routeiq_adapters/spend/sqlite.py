"""Spend in a SQLite file: the embedded default, shared by the workers of one machine."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from routeiq_adapters._sqlite import SQLiteDatabase, immediate
from routeiq_adapters.spend._buckets import Row
from routeiq_adapters.spend._buffered import SQLSpendLedger
from routeiq_adapters.spend._schema import (
    COLUMNS,
    COMPONENT,
    TABLE,
    DbRow,
    from_result,
    report_query,
    upsert_sql,
)
from routeiq_core.access.spend import SpendFilter, SpendLedgerError
from routeiq_core.metrics import Metrics

_UPSERT = upsert_sql(TABLE, f"VALUES ({', '.join('?' * len(COLUMNS))})")
_PRUNE = f"DELETE FROM {TABLE} WHERE hour < ?"


class SQLiteSpendLedger(SQLSpendLedger):
    """The SQLite adapter of the ``SpendLedger`` port (buffered; see :class:`SQLSpendLedger`).

    One connection on a worker thread, WAL mode so workers read while one writes. A flush is one
    ``BEGIN IMMEDIATE`` transaction of upserts; ``busy_timeout_s`` bounds the wait for another
    worker's write lock (a flush that times out is retried at the next interval). The schema is
    created or migrated on first use (the ``spend`` row of ``routeiq_schema_version``).

    Args:
        path: The database file (``":memory:"`` for a private in-memory database).
        busy_timeout_s: Longest wait for a lock held by another connection.
        flush_interval_s: How often :meth:`flushing` writes the buffer.
        retention_hours: Hours of history kept (default 90 days).
        max_pending_buckets: Most buckets buffered while the database fails.
        metrics: Where flush failures and dropped calls are counted.
        clock: The current unix time (for retention).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_s: float = 5.0,
        flush_interval_s: float = 1.0,
        retention_hours: int = 90 * 24,
        max_pending_buckets: int = 100_000,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            flush_interval_s=flush_interval_s,
            retention_hours=retention_hours,
            max_pending_buckets=max_pending_buckets,
            metrics=metrics,
            clock=clock,
        )
        self._db = SQLiteDatabase(
            path,
            busy_timeout_s=busy_timeout_s,
            component=COMPONENT,
            error=lambda exc: SpendLedgerError(f"SQLite spend ledger failed: {exc}"),
        )

    async def ensure_schema(self) -> None:
        """Open the file and create or migrate the schema (also done on first use)."""
        await self._db.ensure_schema()

    async def _write(self, rows: Sequence[DbRow], prune_before: int | None) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(_UPSERT, rows)
            if prune_before is not None:
                conn.execute(_PRUNE, (prune_before,))

        await self._db.run(lambda conn: immediate(conn, write))

    async def _select(self, spend_filter: SpendFilter) -> list[Row]:
        sql, args = report_query(TABLE, spend_filter, lambda n: "?")
        rows = await self._db.run(lambda conn: conn.execute(sql, args).fetchall())
        return [from_result(row) for row in rows]

    async def _close_database(self) -> None:
        await self._db.close()
