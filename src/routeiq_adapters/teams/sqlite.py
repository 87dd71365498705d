"""Teams in a SQLite file: the embedded default (stdlib ``sqlite3`` on a worker thread)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from routeiq_adapters._sqlite import SQLiteDatabase, SQLiteRecordStore
from routeiq_adapters.teams._codec import (
    COLUMNS,
    COMPONENT,
    SELECT_LIST,
    TABLE,
    conflict,
    from_row,
    patch_values,
    to_row,
)
from routeiq_core.access.teams import Team, TeamPage, TeamPatch, TeamStoreError

_INSERT = f"INSERT INTO {TABLE} ({SELECT_LIST}) VALUES ({', '.join('?' * len(COLUMNS))})"


class SQLiteTeamStore(SQLiteRecordStore[Team]):
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
        db = SQLiteDatabase(
            path,
            busy_timeout_s=busy_timeout_s,
            component=COMPONENT,
            error=lambda exc: TeamStoreError(f"SQLite team store failed: {exc}"),
        )
        super().__init__(db, from_row)

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
        found = await self._many(sql, (*args, limit + 1))
        items = tuple(found[:limit])
        return TeamPage(items=items, next_cursor=items[-1].team_id if len(found) > limit else None)

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
