"""The request log in PostgreSQL (asyncpg): for several nodes, beside the key store."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from routeiq_adapters._postgres import PostgresDatabase
from routeiq_adapters.request_log._buffered import SQLRequestLog
from routeiq_adapters.request_log._paging import Position
from routeiq_adapters.request_log._schema import COLUMNS, COMPONENT, TABLE, DbRow, from_row, select_query
from routeiq_core.errors import RouteIQError
from routeiq_core.metrics import Metrics
from routeiq_core.request_log import RequestLogError, RequestQuery, RequestRecord


class PostgresRequestLog(SQLRequestLog):
    """The PostgreSQL adapter of the ``RequestLog`` port (buffered; see :class:`SQLRequestLog`).

    A flush is one transaction: the batch goes in with ``COPY`` (one round trip whatever its size),
    then records past the retention are deleted. The pool opens on first use and the schema is then
    created or migrated under the advisory lock the other stores take. Every statement, connecting
    and waiting for a pooled connection are bounded by ``timeout_s``.

    Args:
        dsn: ``postgresql://user@host:port/database``.
        schema: The schema holding the table (created if missing).
        timeout_s: Longest wait for a connection or a statement.
        flush_interval_s: How often :meth:`flushing` writes the buffer.
        retention_days: Days of records kept.
        max_pending: Most records buffered while the database fails (the oldest are dropped).
        metrics: Where flush failures and dropped records are counted.
        clock: The current unix time (for retention).
        min_size: Connections kept open.
        max_size: Most connections opened (flushes and queries take one at a time).
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        timeout_s: float = 5.0,
        flush_interval_s: float = 1.0,
        retention_days: float = 30,
        max_pending: int = 10_000,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
        min_size: int = 1,
        max_size: int = 2,
    ) -> None:
        super().__init__(
            flush_interval_s=flush_interval_s,
            retention_days=retention_days,
            max_pending=max_pending,
            metrics=metrics,
            clock=clock,
        )
        self._db = PostgresDatabase(
            dsn,
            schema=schema,
            timeout_s=timeout_s,
            sizes=(min_size, max_size),
            component=COMPONENT,
            error=lambda msg: RequestLogError(f"request log: {msg}"),
            passthrough=(RouteIQError,),
        )
        self._table = f"{schema}.{TABLE}"
        self._prune = f"DELETE FROM {self._table} WHERE at < $1"

    def __repr__(self) -> str:
        return f"PostgresRequestLog(schema={self._db.schema!r})"

    async def ensure_schema(self) -> None:
        """Open the pool and create or migrate the schema (also done on first use)."""
        await self._db.ready()

    async def _write(self, rows: Sequence[DbRow], prune_before: float | None) -> None:
        timeout = self._db.timeout_s
        async with self._db.connection() as conn, conn.transaction():
            if rows:
                await conn.copy_records_to_table(
                    TABLE, records=rows, columns=COLUMNS, schema_name=self._db.schema, timeout=timeout
                )
            if prune_before is not None:
                await conn.execute(self._prune, prune_before, timeout=timeout)

    async def _select(
        self, query: RequestQuery, after: Position | None, limit: int
    ) -> list[tuple[int, RequestRecord]]:
        sql, args = select_query(self._table, query, after, limit, lambda n: f"${n}")
        async with self._db.connection() as conn:
            rows = await conn.fetch(sql, *args, timeout=self._db.timeout_s)
        return [from_row(tuple(row)) for row in rows]

    async def _close_database(self) -> None:
        await self._db.close()
