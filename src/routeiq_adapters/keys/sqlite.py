"""Virtual keys in a SQLite file: the embedded default (stdlib ``sqlite3`` on a worker thread)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from routeiq_adapters._sqlite import SQLiteDatabase, migrate_component
from routeiq_adapters.keys._codec import (
    COLUMNS,
    COMPONENT,
    SELECT_LIST,
    TABLE,
    VERSION_DDL,
    VERSION_TABLE,
    from_row,
    migrations,
    patch_values,
    to_row,
)
from routeiq_core.access.errors import KeyStoreError
from routeiq_core.access.keys import KeyPage, KeyPatch, VirtualKey

T = TypeVar("T")
_INSERT = f"INSERT INTO {TABLE} ({SELECT_LIST}) VALUES ({', '.join('?' * len(COLUMNS))})"


class SQLiteKeyStore:
    """The SQLite adapter of the ``KeyStore`` port.

    One connection, used by one worker thread at a time under an ``anyio.Lock``, so the event loop
    never blocks on disk. WAL mode lets other processes read while one writes; ``busy_timeout_s``
    bounds the wait for another process's write lock. The schema is created or migrated on first
    use (a ``routeiq_schema_version`` row records the version) inside ``BEGIN IMMEDIATE``, so
    processes starting together migrate once.

    Args:
        path: The database file (``":memory:"`` for a private in-memory database).
        busy_timeout_s: Longest wait for a lock held by another connection.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 5.0) -> None:
        self._db = SQLiteDatabase(
            path,
            busy_timeout_s=busy_timeout_s,
            migrate=_migrate,
            error=lambda exc: KeyStoreError(f"SQLite key store failed: {exc}"),
        )

    async def ensure_schema(self) -> None:
        """Open the file and create or migrate the schema (also done on first use)."""
        await self._run(lambda conn: None)

    async def create(self, key: VirtualKey) -> None:
        """Insert a new key; ``ValueError`` on a duplicate id or hash."""

        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(_INSERT, to_row(key))
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"key {key.key_id!r} or its hash already exists") from exc

        await self._run(insert)

    async def get(self, key_id: str) -> VirtualKey | None:
        """The key with this id."""
        return await self._one(f"SELECT {SELECT_LIST} FROM {TABLE} WHERE key_id = ?", (key_id,))

    async def get_by_hash(self, key_hash: str) -> VirtualKey | None:
        """The key with this hash."""
        return await self._one(f"SELECT {SELECT_LIST} FROM {TABLE} WHERE key_hash = ?", (key_hash,))

    async def list_keys(
        self, *, team: str | None = None, user: str | None = None, limit: int = 100, after: str | None = None
    ) -> KeyPage:
        """Keys ordered by id, filtered, one page at a time."""
        where, args = ["1 = 1"], []
        for column, value in (("team_id", team), ("user_id", user)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if after is not None:
            where.append("key_id > ?")
            args.append(after)
        sql = f"SELECT {SELECT_LIST} FROM {TABLE} WHERE {' AND '.join(where)} ORDER BY key_id LIMIT ?"
        rows = await self._run(lambda conn: conn.execute(sql, (*args, limit + 1)).fetchall())
        items = tuple(from_row(row) for row in rows[:limit])
        return KeyPage(items=items, next_cursor=items[-1].key_id if len(rows) > limit else None)

    async def update(self, key_id: str, patch: KeyPatch, now: float) -> VirtualKey | None:
        """Change the patched columns in one statement."""
        values = {**patch_values(patch), "updated_at": now}
        assignments = ", ".join(f"{column} = ?" for column in values)
        sql = f"UPDATE {TABLE} SET {assignments} WHERE key_id = ? RETURNING {SELECT_LIST}"
        return await self._one(sql, (*values.values(), key_id))

    async def rotate(self, key_id: str, key_hash: str, hint: str, now: float) -> VirtualKey | None:
        """Swap the hash of an unrevoked key."""
        sql = (
            f"UPDATE {TABLE} SET key_hash = ?, hint = ?, updated_at = ? "
            f"WHERE key_id = ? AND revoked_at IS NULL RETURNING {SELECT_LIST}"
        )
        return await self._one(sql, (key_hash, hint, now, key_id))

    async def revoke(self, key_id: str, now: float) -> VirtualKey | None:
        """Set ``revoked_at`` once."""
        sql = (
            f"UPDATE {TABLE} SET revoked_at = COALESCE(revoked_at, ?), updated_at = ? "
            f"WHERE key_id = ? RETURNING {SELECT_LIST}"
        )
        return await self._one(sql, (now, now, key_id))

    async def close(self) -> None:
        """Close the connection (a later call reopens it)."""
        await self._db.close()

    async def _one(self, sql: str, args: tuple[Any, ...]) -> VirtualKey | None:
        row = await self._run(lambda conn: conn.execute(sql, args).fetchone())
        return None if row is None else from_row(row)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._db.run(work)


def _migrate(conn: sqlite3.Connection) -> None:
    migrate_component(
        conn,
        component=COMPONENT,
        version_table=VERSION_TABLE,
        version_ddl=VERSION_DDL,
        steps=migrations(TABLE, "REAL"),
        newer=lambda current, latest: KeyStoreError(
            f"the key database is at schema version {current}, newer than this RouteIQ ({latest})"
        ),
    )
