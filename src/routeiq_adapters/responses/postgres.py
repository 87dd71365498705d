"""Stored responses in PostgreSQL: one table every node shares, so a conversation moves freely."""

from __future__ import annotations

from routeiq_adapters._postgres import PostgresDatabase, PostgresRecordStore, row_count
from routeiq_adapters.responses._schema import COLUMNS, COMPONENT, TABLE, from_row, to_row
from routeiq_core.errors import RouteIQError
from routeiq_core.responses import ResponseStoreError, StoredResponse


class PostgresResponseStore(PostgresRecordStore[StoredResponse]):
    """The PostgreSQL adapter of the ``ResponseStore`` port (the table lives in the key store's schema).

    Args:
        dsn: ``postgresql://user@host/db``.
        schema: The schema holding the table (a lower-case SQL identifier).
        timeout_s: Bound on connecting, acquiring and every command.
        min_size: Fewest pooled connections.
        max_size: Most pooled connections.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        timeout_s: float = 5.0,
        min_size: int = 1,
        max_size: int = 4,
    ) -> None:
        db = PostgresDatabase(
            dsn,
            schema=schema,
            timeout_s=timeout_s,
            sizes=(min_size, max_size),
            component=COMPONENT,
            error=lambda msg: ResponseStoreError(f"response store: {msg}"),
            passthrough=(RouteIQError,),
        )
        super().__init__(db, TABLE, from_row)
        table = self._table
        marks = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
        updates = ", ".join(f"{name} = excluded.{name}" for name in COLUMNS[1:])
        self._upsert = (
            f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({marks}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates}"
        )
        self._get = f"SELECT {', '.join(COLUMNS)} FROM {table} WHERE id = $1 AND expires_at > $2"
        self._delete = f"DELETE FROM {table} WHERE id = $1"
        self._prune = f"DELETE FROM {table} WHERE expires_at <= $1"

    async def put(self, record: StoredResponse) -> None:
        """Store ``record`` (replacing one with its id)."""
        async with self._db.connection() as conn:
            await conn.execute(self._upsert, *to_row(record), timeout=self._db.timeout_s)

    async def get(self, response_id: str, now: float) -> StoredResponse | None:
        """The record, unless missing or expired."""
        return await self._one(self._get, response_id, now)

    async def delete(self, response_id: str) -> bool:
        """Delete the record; whether there was one."""
        async with self._db.connection() as conn:
            status = await conn.execute(self._delete, response_id, timeout=self._db.timeout_s)
        return row_count(status) > 0

    async def prune(self, now: float) -> int:
        """Delete the expired records."""
        async with self._db.connection() as conn:
            status = await conn.execute(self._prune, now, timeout=self._db.timeout_s)
        return row_count(status)
