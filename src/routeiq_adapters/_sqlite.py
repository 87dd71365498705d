"""What the SQLite adapters share: one serialized connection on a worker thread, WAL, migrations."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import anyio
import anyio.to_thread

from routeiq_adapters._schema import VERSION_DDL, VERSION_TABLE, Component

T = TypeVar("T")
R = TypeVar("R")


def enable_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Put the file in WAL mode, retrying while another connection holds it.

    Switching the journal mode does not go through SQLite's busy handler: a second process (or store)
    opening the same new file at the same moment gets "database is locked" at once. The switch is
    idempotent, so it is retried until ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


class SQLiteDatabase:
    """One connection, used by one worker thread at a time under an ``anyio.Lock``.

    The event loop never blocks on disk. The file is opened (WAL, ``synchronous=NORMAL``) and migrated
    on first use; ``busy_timeout_s`` bounds the wait for another process's write lock.

    Args:
        path: The database file (``":memory:"`` for a private in-memory database).
        busy_timeout_s: Longest wait for a lock held by another connection.
        component: The tables to create or upgrade on a fresh connection.
        error: Wraps a ``sqlite3.Error`` into the store's own error type.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_s: float,
        component: Component,
        error: Callable[[sqlite3.Error], Exception],
    ) -> None:
        self._path = str(path)
        self._busy_timeout_s = busy_timeout_s
        self._component = component
        self._error = error
        self._conn: sqlite3.Connection | None = None
        self._lock = anyio.Lock()

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` with the connection on a worker thread (opening it first if needed)."""
        async with self._lock:
            return await anyio.to_thread.run_sync(self._in_thread, work)

    async def ensure_schema(self) -> None:
        """Open the file and create or migrate the schema (also done on first use)."""
        await self.run(lambda conn: None)

    async def close(self) -> None:
        """Close the connection (a later call reopens it)."""
        async with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                await anyio.to_thread.run_sync(conn.close)

    def _in_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            if self._conn is None:
                self._conn = self._open()
            return work(self._conn)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            if self._path != ":memory:":
                enable_wal(conn, self._busy_timeout_s)
            conn.execute("PRAGMA synchronous=NORMAL")
            migrate_component(conn, self._component)
        except BaseException:
            conn.close()
            raise
        return conn


def immediate(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction (the writer lock); rolled back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def migrate_component(conn: sqlite3.Connection, component: Component) -> None:
    """Bring ``component``'s tables to the latest of its steps inside ``BEGIN IMMEDIATE``.

    The version lives in the component's row of the version table, so stores sharing a file migrate
    independently; processes starting together migrate once. ``component.newer`` is raised when the
    file was written by a newer RouteIQ.
    """
    steps: Sequence[Sequence[str]] = component.steps(component.table, "REAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(VERSION_DDL.format(table=VERSION_TABLE))
        row = conn.execute(
            f"SELECT version FROM {VERSION_TABLE} WHERE component = ?", (component.name,)
        ).fetchone()
        current = 0 if row is None else int(row[0])
        if current > len(steps):
            raise component.newer(current, len(steps))
        for statements in steps[current:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(
            f"INSERT INTO {VERSION_TABLE} (component, version) VALUES (?, ?) "
            "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
            (component.name, len(steps)),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class SQLiteRecordStore(Generic[R]):
    """What the SQLite key and team stores share: their database, schema, closing, one-row queries.

    Args:
        db: The store's database.
        decode: A record from one row (columns in the store's select order).
    """

    def __init__(self, db: SQLiteDatabase, decode: Callable[[Sequence[Any]], R]) -> None:
        self._db = db
        self._decode = decode

    async def ensure_schema(self) -> None:
        """Open the file and create or migrate the schema (also done on first use)."""
        await self._db.ensure_schema()

    async def close(self) -> None:
        """Close the connection (a later call reopens it)."""
        await self._db.close()

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._db.run(work)

    async def _one(self, sql: str, args: tuple[Any, ...]) -> R | None:
        row = await self._run(lambda conn: conn.execute(sql, args).fetchone())
        return None if row is None else self._decode(row)

    async def _many(self, sql: str, args: tuple[Any, ...]) -> list[R]:
        rows = await self._run(lambda conn: conn.execute(sql, args).fetchall())
        return [self._decode(row) for row in rows]
