"""Feedback in PostgreSQL: one table every node shares (in the key store's schema)."""

from __future__ import annotations

from routeiq_adapters._postgres import PostgresDatabase, PostgresRecordStore
from routeiq_adapters.feedback._schema import COLUMNS, COMPONENT, TABLE, from_row, select_query, to_row
from routeiq_core.errors import RouteIQError
from routeiq_core.feedback import FeedbackQuery, FeedbackRecord, FeedbackStoreError


class PostgresFeedbackStore(PostgresRecordStore[FeedbackRecord]):
    """The PostgreSQL adapter of the ``FeedbackStore`` port.

    Args:
        dsn: ``postgresql://user@host/db``.
        schema: The schema holding the table (a lower-case SQL identifier).
        timeout_s: Bound on connecting, acquiring and every command.
        max_size: Most pooled connections.
    """

    def __init__(
        self, dsn: str, *, schema: str = "public", timeout_s: float = 5.0, max_size: int = 2
    ) -> None:
        db = PostgresDatabase(
            dsn,
            schema=schema,
            timeout_s=timeout_s,
            sizes=(1, max_size),
            component=COMPONENT,
            error=lambda msg: FeedbackStoreError(f"feedback store: {msg}"),
            passthrough=(RouteIQError,),
        )
        super().__init__(db, TABLE, from_row)
        marks = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
        self._insert = f"INSERT INTO {self._table} ({', '.join(COLUMNS)}) VALUES ({marks})"

    async def add(self, record: FeedbackRecord) -> None:
        """Keep one record."""
        async with self._db.connection() as conn:
            await conn.execute(self._insert, *to_row(record), timeout=self._db.timeout_s)

    async def query(self, query: FeedbackQuery) -> list[FeedbackRecord]:
        """The records ``query`` selects, newest first."""
        sql, args = select_query(self._table, query, lambda n: f"${n}")
        return await self._many(sql, *args)
