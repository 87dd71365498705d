"""Stored responses in a SQLite file: the embedded default, shared by the workers of one machine."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from routeiq_adapters._sqlite import SQLiteDatabase, SQLiteRecordStore
from routeiq_adapters.responses._schema import COLUMNS, COMPONENT, TABLE, from_row, to_row
from routeiq_core.responses import ResponseStoreError, StoredResponse

_UPSERT = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT(id) DO UPDATE SET " + ", ".join(f"{name} = excluded.{name}" for name in COLUMNS[1:])
)
_GET = f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE id = ? AND expires_at > ?"
_DELETE = f"DELETE FROM {TABLE} WHERE id = ?"
_PRUNE = f"DELETE FROM {TABLE} WHERE expires_at <= ?"


class SQLiteResponseStore(SQLiteRecordStore[StoredResponse]):
    """The SQLite adapter of the ``ResponseStore`` port.

    One connection on a worker thread, WAL mode so every worker of the machine reads what another
    stored; the schema is created or migrated on first use (the ``responses`` row of
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
            error=lambda exc: ResponseStoreError(f"SQLite response store failed: {exc}"),
        )
        super().__init__(db, from_row)

    async def put(self, record: StoredResponse) -> None:
        """Store ``record`` (replacing one with its id)."""
        row = to_row(record)
        await self._run(lambda conn: conn.execute(_UPSERT, row))

    async def get(self, response_id: str, now: float) -> StoredResponse | None:
        """The record, unless missing or expired."""
        return await self._one(_GET, (response_id, now))

    async def delete(self, response_id: str) -> bool:
        """Delete the record; whether there was one."""

        def delete(conn: sqlite3.Connection) -> bool:
            return conn.execute(_DELETE, (response_id,)).rowcount > 0

        return await self._run(delete)

    async def prune(self, now: float) -> int:
        """Delete the expired records."""
        return await self._run(lambda conn: conn.execute(_PRUNE, (now,)).rowcount)
