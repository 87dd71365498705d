"""Teams in a SQLite file: the embedded default (stdlib ``sqlite3`` on a worker thread)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from routeiq_adapters._sqlite import enable_wal
from routeiq_adapters.teams._codec import (
    COLUMNS,
    COMPONENT,
    SELECT_LIST,
    TABLE,
    VERSION_DDL,
    VERSION_TABLE,
    conflict,
    from_row,
    migrations,
    newer_schema,
    patch_values,
    to_row,
)
from routeiq_core.access.teams import Team, TeamPage, TeamPatch, TeamStoreError

T = TypeVar("T")
_INSERT = f"INSERT INTO {TABLE} ({SELECT_LIST}) VALUES ({', '.join('?' * len(COLUMNS))})"


class SQLiteTeamStore:
    """The SQLite adapter of the ``TeamStore`` port.

    One connection, used by one worker thread at a time under an ``anyio.Lock``, so the event loop
    never blocks on disk. WAL mode lets other processes read while one writes; ``busy_timeout_s``
    bounds the wait for another process's write lock. The schema is created or migrated on first
    use (the ``teams`` row of ``routeiq_schema_version`` records the version) inside
    ``BEGIN IMMEDIATE``, so processes starting together, and the key store sharing the file, migrate
    one at a time.

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

    async def create(self, team: Team) -> None:
        """Insert a new team; ``ConflictError`` if the id is taken."""

        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(_INSERT, to_row(team))
            except sqlite3.IntegrityError as exc:
                raise conflict(team.team_id) from exc

        await self._run(insert)

    async def get(self, team_id: str) -> Team | None:
        """The team with this id, deleted or not."""
        return await self._one(f"SELECT {SELECT_LIST} FROM {TABLE} WHERE team_id = ?", (team_id,))

    async def list_teams(self, *, limit: int = 100, after: str | None = None) -> TeamPage:
        """Teams not deleted, ordered by id, one page at a time."""
        where, args = "deleted_at IS NULL", tuple[str, ...]()
        if after is not None:
            where, args = f"{where} AND team_id > ?", (after,)
        sql = f"SELECT {SELECT_LIST} FROM {TABLE} WHERE {where} ORDER BY team_id LIMIT ?"
        rows = await self._run(lambda conn: conn.execute(sql, (*args, limit + 1)).fetchall())
        items = tuple(from_row(row) for row in rows[:limit])
        return TeamPage(items=items, next_cursor=items[-1].team_id if len(rows) > limit else None)

    async def update(self, team_id: str, patch: TeamPatch, now: float) -> Team | None:
        """Change the patched columns of a team not deleted, in one statement."""
        values = {**patch_values(patch), "updated_at": now}
        assignments = ", ".join(f"{column} = ?" for column in values)
        sql = (
            f"UPDATE {TABLE} SET {assignments} WHERE team_id = ? AND deleted_at IS NULL "
            f"RETURNING {SELECT_LIST}"
        )
        return await self._one(sql, (*values.values(), team_id))

    async def delete(self, team_id: str, now: float) -> Team | None:
        """Set ``deleted_at`` (and ``updated_at``) once."""
        sql = (
            f"UPDATE {TABLE} SET updated_at = CASE WHEN deleted_at IS NULL THEN ? ELSE updated_at END, "
            f"deleted_at = COALESCE(deleted_at, ?) WHERE team_id = ? RETURNING {SELECT_LIST}"
        )
        return await self._one(sql, (now, now, team_id))

    async def close(self) -> None:
        """Close the connection (a later call reopens it)."""
        async with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                await anyio.to_thread.run_sync(conn.close)

    async def _one(self, sql: str, args: tuple[Any, ...]) -> Team | None:
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
            raise TeamStoreError(f"SQLite team store failed: {exc}") from exc

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
            raise newer_schema(current, len(steps))
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
