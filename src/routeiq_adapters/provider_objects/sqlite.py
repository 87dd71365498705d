"""Provider object records in a SQLite file: the embedded default, shared by the workers of one machine."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from routeiq_adapters._sqlite import SQLiteDatabase, SQLiteRecordStore
from routeiq_adapters.provider_objects._schema import COLUMNS, COMPONENT, TABLE, from_row, list_query, to_row
from routeiq_core.provider_objects import ObjectKind, ObjectStoreError, OwnedObject

_UPSERT = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT(kind, id) DO UPDATE SET " + ", ".join(f"{name} = excluded.{name}" for name in COLUMNS[2:])
)
_GET = f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE kind = ? AND id = ?"
_UPDATE = f"UPDATE {TABLE} SET status = ?, body = ? WHERE kind = ? AND id = ?"
_DELETE = f"DELETE FROM {TABLE} WHERE kind = ? AND id = ?"


class SQLiteObjectOwnershipStore(SQLiteRecordStore[OwnedObject]):
    """The SQLite adapter of the ``ObjectOwnershipStore`` port.

    One connection on a worker thread, WAL mode so every worker of the machine reads what another
    recorded; the schema is created or migrated on first use (the ``provider_objects`` row of
    ``routeiq_schema_version``).

    Args:
        path: The database file (``":memory:"`` for a private in-memory database).
        busy_timeout_s: Longest wait for a lock held by another connection.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 5.0) -> None:
        db = SQLiteDatabase(
            path,
            busy_timeout_s=busy_timeout_s,
            component=COMPONENT,
            error=lambda exc: ObjectStoreError(f"SQLite provider object store failed: {exc}"),
        )
        super().__init__(db, from_row)

    async def put(self, record: OwnedObject) -> None:
        """Store ``record`` (replacing the one of its kind and id)."""
        row = to_row(record)
        await self._run(lambda conn: conn.execute(_UPSERT, row))

    async def get(self, kind: ObjectKind, object_id: str) -> OwnedObject | None:
        """The record, if any."""
        return await self._one(_GET, (kind, object_id))

    async def update(self, kind: ObjectKind, object_id: str, *, status: str, body: bytes) -> bool:
        """Refresh an existing record's status and snapshot."""

        def update(conn: sqlite3.Connection) -> bool:
            return conn.execute(_UPDATE, (status, body, kind, object_id)).rowcount > 0

        return await self._run(update)

    async def delete(self, kind: ObjectKind, object_id: str) -> bool:
        """Delete the record; whether there was one."""

        def delete(conn: sqlite3.Connection) -> bool:
            return conn.execute(_DELETE, (kind, object_id)).rowcount > 0

        return await self._run(delete)

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
            TABLE,
            lambda _: "?",
            owner=owner,
            everyone=everyone,
            before=before,
            purpose=purpose,
            limit=limit,
            kind=kind,
        )
        return await self._many(sql, tuple(args))
