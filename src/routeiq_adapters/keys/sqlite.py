"""Virtual keys in a SQLite file: the embedded default (stdlib ``sqlite3`` on a worker thread)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from routeiq_adapters._sqlite import SQLiteDatabase, SQLiteRecordStore
from routeiq_adapters.keys._codec import (
    COLUMNS,
    COMPONENT,
    SELECT_LIST,
    TABLE,
    from_row,
    patch_values,
    to_row,
)
from routeiq_core.access.errors import KeyStoreError
from routeiq_core.access.keys import KeyPage, KeyPatch, VirtualKey

_INSERT = f"INSERT INTO {TABLE} ({SELECT_LIST}) VALUES ({', '.join('?' * len(COLUMNS))})"


class SQLiteKeyStore(SQLiteRecordStore[VirtualKey]):
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
        db = SQLiteDatabase(
            path,
            busy_timeout_s=busy_timeout_s,
            component=COMPONENT,
            error=lambda exc: KeyStoreError(f"SQLite key store failed: {exc}"),
        )
        super().__init__(db, from_row)

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
        found = await self._many(sql, (*args, limit + 1))
        items = tuple(found[:limit])
        return KeyPage(items=items, next_cursor=items[-1].key_id if len(found) > limit else None)

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
