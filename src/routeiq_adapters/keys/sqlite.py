"""Virtual keys in a SQLite file: the embedded default (stdlib ``sqlite3`` on a worker thread)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from routeiq_adapters._sqlite import enable_wal
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
        self._path = str(path)
        self._busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        self._lock = anyio.Lock()

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
        async with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                await anyio.to_thread.run_sync(conn.close)

    async def _one(self, sql: str, args: tuple[Any, ...]) -> VirtualKey | None:
        row = await self._run(lambda conn: conn.execute(sql, args).fetchone())
        return None if row is None else from_row(row)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        async with self._lock:
            return await anyio.to_thread.run_sync(self._in_thread, work)

    def _in_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            if self._conn is None:
                self._conn = self._open()
            return work(self._conn)
        except sqlite3.Error as exc:
            raise KeyStoreError(f"SQLite key store failed: {exc}") from exc

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            if self._path != ":memory:":
                enable_wal(conn, self._busy_timeout_s)
            conn.execute("PRAGMA synchronous=NORMAL")
            _migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(VERSION_DDL.format(table=VERSION_TABLE))
        row = conn.execute(
            f"SELECT version FROM {VERSION_TABLE} WHERE component = ?", (COMPONENT,)
        ).fetchone()
        current = 0 if row is None else int(row[0])
        steps = migrations(TABLE, "REAL")
        if current > len(steps):
            raise KeyStoreError(
                f"the key database is at schema version {current}, newer than this RouteIQ ({len(steps)})"
            )
        for statements in steps[current:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(
            f"INSERT INTO {VERSION_TABLE} (component, version) VALUES (?, ?) "
            "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
            (COMPONENT, len(steps)),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
