"""Virtual keys in PostgreSQL (asyncpg): the key store for several nodes."""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]

from routeiq_adapters._postgres import PostgresDatabase, PostgresRecordStore
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


class PostgresKeyStore(PostgresRecordStore[VirtualKey]):
    """The PostgreSQL adapter of the ``KeyStore`` port.

    The pool opens on first use, and the schema is then created or migrated in one transaction
    holding an advisory lock, so nodes starting together migrate once. Every statement is bounded
    by ``timeout_s`` (asyncpg ``command_timeout``), and so are connecting and waiting for a pooled
    connection.

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
            error=lambda msg: KeyStoreError(f"key store: {msg}"),
            passthrough=(ValueError, KeyStoreError),
        )
        super().__init__(db, TABLE, from_row)

    async def create(self, key: VirtualKey) -> None:
        """Insert a new key; ``ValueError`` on a duplicate id or hash."""
        placeholders = ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1))
        sql = f"INSERT INTO {self._table} ({SELECT_LIST}) VALUES ({placeholders})"
        try:
            async with self._db.connection() as conn:
                await conn.execute(sql, *to_row(key), timeout=self._db.timeout_s)
        except asyncpg.UniqueViolationError as exc:
            raise ValueError(f"key {key.key_id!r} or its hash already exists") from exc

    async def get(self, key_id: str) -> VirtualKey | None:
        """The key with this id."""
        return await self._one(f"SELECT {SELECT_LIST} FROM {self._table} WHERE key_id = $1", key_id)

    async def get_by_hash(self, key_hash: str) -> VirtualKey | None:
        """The key with this hash."""
        return await self._one(f"SELECT {SELECT_LIST} FROM {self._table} WHERE key_hash = $1", key_hash)

    async def list_keys(
        self, *, team: str | None = None, user: str | None = None, limit: int = 100, after: str | None = None
    ) -> KeyPage:
        """Keys ordered by id, filtered, one page at a time."""
        where: list[str] = ["TRUE"]
        args: list[Any] = []
        for condition, value in (("team_id =", team), ("user_id =", user), ('key_id COLLATE "C" >', after)):
            if value is not None:
                args.append(value)
                where.append(f"{condition} ${len(args)}")
        args.append(limit + 1)
        sql = (
            f"SELECT {SELECT_LIST} FROM {self._table} WHERE {' AND '.join(where)} "
            f'ORDER BY key_id COLLATE "C" LIMIT ${len(args)}'
        )
        found = await self._many(sql, *args)
        items = tuple(found[:limit])
        return KeyPage(items=items, next_cursor=items[-1].key_id if len(found) > limit else None)

    async def update(self, key_id: str, patch: KeyPatch, now: float) -> VirtualKey | None:
        """Change the patched columns in one statement."""
        values = {**patch_values(patch), "updated_at": now}
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(values, start=1))
        sql = (
            f"UPDATE {self._table} SET {assignments} WHERE key_id = ${len(values) + 1} "
            f"RETURNING {SELECT_LIST}"
        )
        return await self._one(sql, *values.values(), key_id)

    async def rotate(self, key_id: str, key_hash: str, hint: str, now: float) -> VirtualKey | None:
        """Swap the hash of an unrevoked key."""
        sql = (
            f"UPDATE {self._table} SET key_hash = $1, hint = $2, updated_at = $3 "
            f"WHERE key_id = $4 AND revoked_at IS NULL RETURNING {SELECT_LIST}"
        )
        return await self._one(sql, key_hash, hint, now, key_id)

    async def revoke(self, key_id: str, now: float) -> VirtualKey | None:
        """Set ``revoked_at`` once."""
        sql = (
            f"UPDATE {self._table} SET revoked_at = COALESCE(revoked_at, $1), updated_at = $1 "
            f"WHERE key_id = $2 RETURNING {SELECT_LIST}"
        )
        return await self._one(sql, now, key_id)
