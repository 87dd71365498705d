"""Provider object records in PostgreSQL: one table every node shares."""

from __future__ import annotations

from routeiq_adapters._postgres import PostgresDatabase, PostgresRecordStore, row_count
from routeiq_adapters.provider_objects._schema import COLUMNS, COMPONENT, TABLE, from_row, list_query, to_row
from routeiq_core.errors import RouteIQError
from routeiq_core.provider_objects import ObjectKind, ObjectStoreError, OwnedObject


class PostgresObjectOwnershipStore(PostgresRecordStore[OwnedObject]):
    """The PostgreSQL adapter of the ``ObjectOwnershipStore`` port (a table in the key store's schema).

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
            error=lambda msg: ObjectStoreError(f"provider object store: {msg}"),
            passthrough=(RouteIQError,),
        )
        super().__init__(db, TABLE, from_row)
        table = self._table
        marks = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
        updates = ", ".join(f"{name} = excluded.{name}" for name in COLUMNS[2:])
        self._upsert = (
            f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({marks}) "
            f"ON CONFLICT (kind, id) DO UPDATE SET {updates}"
        )
        self._get = f"SELECT {', '.join(COLUMNS)} FROM {table} WHERE kind = $1 AND id = $2"
        self._update = f"UPDATE {table} SET status = $1, body = $2 WHERE kind = $3 AND id = $4"
        self._delete = f"DELETE FROM {table} WHERE kind = $1 AND id = $2"

    async def put(self, record: OwnedObject) -> None:
        """Store ``record`` (replacing the one of its kind and id)."""
        async with self._db.connection() as conn:
            await conn.execute(self._upsert, *to_row(record), timeout=self._db.timeout_s)

    async def get(self, kind: ObjectKind, object_id: str) -> OwnedObject | None:
        """The record, if any."""
        return await self._one(self._get, kind, object_id)

    async def update(self, kind: ObjectKind, object_id: str, *, status: str, body: bytes) -> bool:
        """Refresh an existing record's status and snapshot."""
        async with self._db.connection() as conn:
            done = await conn.execute(self._update, status, body, kind, object_id, timeout=self._db.timeout_s)
        return row_count(done) > 0

    async def delete(self, kind: ObjectKind, object_id: str) -> bool:
        """Delete the record; whether there was one."""
        async with self._db.connection() as conn:
            done = await conn.execute(self._delete, kind, object_id, timeout=self._db.timeout_s)
        return row_count(done) > 0

    async def list(
        self,
        kind: ObjectKind,
        *,
        owner: str | None,
        everyone: bool = False,
        before: tuple[float, str] | None = None,
        limit: int = 20,
        purpose: str | None = None,
    ) -> list[OwnedObject]:
        """Matching records, newest first."""
        sql, args = list_query(
            self._table,
            lambda n: f"${n}",
            owner=owner,
            everyone=everyone,
            before=before,
            purpose=purpose,
            limit=limit,
            kind=kind,
        )
        return await self._many(sql, *args)
