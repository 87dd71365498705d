"""Spend in PostgreSQL (asyncpg): the spend ledger for several nodes, beside the key store."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from routeiq_adapters._postgres import PostgresDatabase
from routeiq_adapters.spend._buckets import Row
from routeiq_adapters.spend._buffered import SQLSpendLedger
from routeiq_adapters.spend._schema import (
    COMPONENT,
    TABLE,
    DbRow,
    from_result,
    report_query,
    upsert_sql,
)
from routeiq_core.access.spend import SpendFilter, SpendLedgerError
from routeiq_core.errors import RouteIQError
from routeiq_core.metrics import Metrics

_TYPES = ("bigint", "text", "text", "text", "bigint", "float8", "bigint", "bigint")
_ARRAYS = f"unnest({', '.join(f'${n}::{kind}[]' for n, kind in enumerate(_TYPES, start=1))})"
"""The buffer as one array per column (in ``COLUMNS`` order), so a flush is a single statement."""


class PostgresSpendLedger(SQLSpendLedger):
    """The PostgreSQL adapter of the ``SpendLedger`` port (buffered; see :class:`SQLSpendLedger`).

    A flush is one transaction holding one upsert statement (the buffer passed as column arrays),
    rows in key order so concurrent workers never deadlock. The pool opens on first use and the
    schema is then created or migrated under the advisory lock the key and team stores take. Every
    statement, connecting and waiting for a pooled connection are bounded by ``timeout_s``.

    Args:
        dsn: ``postgresql://user@host:port/database``.
        schema: The schema holding the table (created if missing).
        timeout_s: Longest wait for a connection or a statement.
        flush_interval_s: How often :meth:`flushing` writes the buffer.
        retention_hours: Hours of history kept (default 90 days).
        max_pending_buckets: Most buckets buffered while the database fails.
        metrics: Where flush failures and dropped calls are counted.
        clock: The current unix time (for retention).
        min_size: Connections kept open.
        max_size: Most connections opened (flushes and reports take one at a time).
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        timeout_s: float = 5.0,
        flush_interval_s: float = 1.0,
        retention_hours: int = 90 * 24,
        max_pending_buckets: int = 100_000,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
        min_size: int = 1,
        max_size: int = 2,
    ) -> None:
        super().__init__(
            flush_interval_s=flush_interval_s,
            retention_hours=retention_hours,
            max_pending_buckets=max_pending_buckets,
            metrics=metrics,
            clock=clock,
        )
        self._db = PostgresDatabase(
            dsn,
            schema=schema,
            timeout_s=timeout_s,
            sizes=(min_size, max_size),
            component=COMPONENT,
            error=lambda msg: SpendLedgerError(f"spend ledger: {msg}"),
            passthrough=(RouteIQError,),
        )
        self._table = f"{schema}.{TABLE}"
        self._upsert = upsert_sql(self._table, f"SELECT * FROM {_ARRAYS}")
        self._prune = f"DELETE FROM {self._table} WHERE hour < $1"

    def __repr__(self) -> str:
        return f"PostgresSpendLedger(schema={self._db.schema!r})"

    async def ensure_schema(self) -> None:
        """Open the pool and create or migrate the schema (also done on first use)."""
        await self._db.ready()

    async def _write(self, rows: Sequence[DbRow], prune_before: int | None) -> None:
        timeout = self._db.timeout_s
        columns = [list(column) for column in zip(*rows, strict=True)]
        async with self._db.connection() as conn, conn.transaction():
            if rows:
                await conn.execute(self._upsert, *columns, timeout=timeout)
            if prune_before is not None:
                await conn.execute(self._prune, prune_before, timeout=timeout)

    async def _select(self, spend_filter: SpendFilter) -> list[Row]:
        sql, args = report_query(self._table, spend_filter, lambda n: f"${n}")
        async with self._db.connection() as conn:
            rows = await conn.fetch(sql, *args, timeout=self._db.timeout_s)
        return [from_result(tuple(row)) for row in rows]

    async def _close_database(self) -> None:
        await self._db.close()
