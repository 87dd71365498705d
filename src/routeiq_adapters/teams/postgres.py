"""Teams in PostgreSQL (asyncpg): the team store for several nodes."""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]

from routeiq_adapters._postgres import PostgresDatabase, PostgresRecordStore
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
from routeiq_core.errors import RouteIQError


class PostgresTeamStore(PostgresRecordStore[Team]):
    """The PostgreSQL adapter of the ``TeamStore`` port.

    The pool opens on first use, and the schema is then created or migrated in one transaction
    holding an advisory lock (the one the key store takes), so nodes starting together migrate once.
    Every statement is bounded by ``timeout_s`` (asyncpg ``command_timeout``), and so are connecting
    and waiting for a pooled connection.

    Args:
        dsn: ``postgresql://user@host:port/database``.
        schema: The schema holding the tables (created if missing).
        timeout_s: Longest wait for a connection or a statement.
        min_size: Connections kept open.
        max_size: Most connections opened.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        timeout_s: float = 5.0,
        min_size: int = 1,
        max_size: int = 10,
    ) -> None:
        db = PostgresDatabase(
            dsn,
            schema=schema,
            timeout_s=timeout_s,
            sizes=(min_size, max_size),
            component=COMPONENT,
            error=lambda msg: TeamStoreError(f"team store: {msg}"),
            passthrough=(RouteIQError,),
        )
        super().__init__(db, TABLE, from_row)

    async def create(self, team: Team) -> None:
        """Insert a new team; ``ConflictError`` if the id is taken."""
        placeholders = ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1))
        sql = f"INSERT INTO {self._table} ({SELECT_LIST}) VALUES ({placeholders})"
        try:
            async with self._db.connection() as conn:
                await conn.execute(sql, *to_row(team), timeout=self._db.timeout_s)
        except asyncpg.UniqueViolationError as exc:
            raise conflict(team.team_id) from exc

    async def get(self, team_id: str) -> Team | None:
        """The team with this id, deleted or not."""
        return await self._one(f"SELECT {SELECT_LIST} FROM {self._table} WHERE team_id = $1", team_id)

    async def list_teams(self, *, limit: int = 100, after: str | None = None) -> TeamPage:
        """Teams not deleted, ordered by id (byte order, as SQLite), one page at a time."""
        where, args = "deleted_at IS NULL", list[Any]()
        if after is not None:
            where, args = f'{where} AND team_id COLLATE "C" > $1', [after]
        args.append(limit + 1)
        sql = (
            f"SELECT {SELECT_LIST} FROM {self._table} WHERE {where} "
            f'ORDER BY team_id COLLATE "C" LIMIT ${len(args)}'
        )
        found = await self._many(sql, *args)
        items = tuple(found[:limit])
        return TeamPage(items=items, next_cursor=items[-1].team_id if len(found) > limit else None)

    async def update(self, team_id: str, patch: TeamPatch, now: float) -> Team | None:
        """Change the patched columns of a team not deleted, in one statement."""
        values = {**patch_values(patch), "updated_at": now}
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(values, start=1))
        sql = (
            f"UPDATE {self._table} SET {assignments} "
            f"WHERE team_id = ${len(values) + 1} AND deleted_at IS NULL RETURNING {SELECT_LIST}"
        )
        return await self._one(sql, *values.values(), team_id)

    async def delete(self, team_id: str, now: float) -> Team | None:
        """Set ``deleted_at`` (and ``updated_at``) once."""
        sql = (
            f"UPDATE {self._table} SET deleted_at = COALESCE(deleted_at, $1), "
            "updated_at = CASE WHEN deleted_at IS NULL THEN $1 ELSE updated_at END "
            f"WHERE team_id = $2 RETURNING {SELECT_LIST}"
        )
        return await self._one(sql, now, team_id)
