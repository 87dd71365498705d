"""The audit log in PostgreSQL (asyncpg): one chain for every worker of every node."""

from __future__ import annotations

from collections.abc import Sequence

from routeiq_adapters._postgres import PostgresDatabase
from routeiq_adapters.audit._codec import (
    CHECKPOINT_LIST,
    CHECKPOINTS,
    COMPONENT,
    ENTRY_COLUMNS,
    ENTRY_LIST,
    HEAD,
    TABLE,
    checkpoint_of,
    entry_of,
    entry_row,
    head_of,
    head_values,
    search_query,
)
from routeiq_core.audit import (
    MAX_PAGE,
    AuditEntry,
    AuditEvent,
    AuditQuery,
    AuditStoreError,
    ChainHead,
    StoredCheckpoint,
    extend,
)


class PostgresAuditStore:
    """The PostgreSQL adapter of the ``AuditStore`` port.

    Each append is one transaction that locks the single head row (``SELECT ... FOR UPDATE``), so
    writers on every node take turns: each reads the head its predecessor committed, inserts the
    entries after it (``seq`` is the primary key, a second line of defence against a fork) and moves
    the head. The schema is created or migrated on first use under the shared advisory lock.

    Args:
        dsn: ``postgresql://user@host:port/database``.
        schema: The schema holding the tables (created if missing).
        timeout_s: Longest wait for a connection or a statement (the head lock included).
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
        max_size: int = 4,
    ) -> None:
        self._db = PostgresDatabase(
            dsn,
            schema=schema,
            timeout_s=timeout_s,
            sizes=(min_size, max_size),
            component=COMPONENT,
            error=lambda msg: AuditStoreError(f"audit store: {msg}"),
            passthrough=(AuditStoreError,),
        )
        self._log = f"{schema}.{TABLE}"
        self._head = f"{schema}.{HEAD}"
        self._checkpoints = f"{schema}.{CHECKPOINTS}"

    def __repr__(self) -> str:
        return f"PostgresAuditStore(schema={self._db.schema!r})"

    async def ensure_schema(self) -> None:
        """Open the pool and create or migrate the tables (also done on first use)."""
        await self._db.ready()

    async def close(self) -> None:
        """Close the pool (a later call reopens it)."""
        await self._db.close()

    async def append(self, events: Sequence[AuditEvent]) -> ChainHead:
        """Chain ``events`` after the last entry, holding the head row's lock."""
        placeholders = ", ".join(f"${i}" for i in range(1, len(ENTRY_COLUMNS) + 1))
        insert = f"INSERT INTO {self._log} ({ENTRY_LIST}) VALUES ({placeholders})"
        timeout = self._db.timeout_s
        async with self._db.connection() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"SELECT size, last_hash, frontier FROM {self._head} WHERE id = 1 FOR UPDATE", timeout=timeout
            )
            entries, head = extend(head_of(None if row is None else tuple(row)), events)
            await conn.executemany(insert, [entry_row(e) for e in entries], timeout=timeout)
            await conn.execute(
                f"UPDATE {self._head} SET size = $1, last_hash = $2, frontier = $3 WHERE id = 1",
                *head_values(head),
                timeout=timeout,
            )
        return head

    async def head(self) -> ChainHead:
        """The head of the log now."""
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT size, last_hash, frontier FROM {self._head} WHERE id = 1", timeout=self._db.timeout_s
            )
        return head_of(None if row is None else tuple(row))

    async def entries(self, start: int, limit: int) -> list[AuditEntry]:
        """Entries with ``seq >= start``, in order."""
        sql = f"SELECT {ENTRY_LIST} FROM {self._log} WHERE seq >= $1 ORDER BY seq LIMIT $2"
        async with self._db.connection() as conn:
            rows = await conn.fetch(sql, start, limit, timeout=self._db.timeout_s)
        return [entry_of(tuple(row)) for row in rows]

    async def search(self, query: AuditQuery) -> list[AuditEntry]:
        """The entries ``query`` selects."""
        sql, args = search_query(self._log, query, lambda n: f"${n}")
        async with self._db.connection() as conn:
            rows = await conn.fetch(sql, *args, timeout=self._db.timeout_s)
        return [entry_of(tuple(row)) for row in rows]

    async def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a signed checkpoint."""
        sql = f"INSERT INTO {self._checkpoints} (size, note, at) VALUES ($1, $2, $3)"
        async with self._db.connection() as conn:
            await conn.execute(
                sql, checkpoint.size, checkpoint.note, checkpoint.at, timeout=self._db.timeout_s
            )

    async def checkpoints(self, *, after_id: int = 0, limit: int = MAX_PAGE) -> list[StoredCheckpoint]:
        """Stored checkpoints after ``after_id``, in the order stored."""
        sql = f"SELECT {CHECKPOINT_LIST} FROM {self._checkpoints} WHERE id > $1 ORDER BY id LIMIT $2"
        async with self._db.connection() as conn:
            rows = await conn.fetch(sql, after_id, limit, timeout=self._db.timeout_s)
        return [checkpoint_of(tuple(row)) for row in rows]

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest size (the latest stored among equals)."""
        sql = f"SELECT {CHECKPOINT_LIST} FROM {self._checkpoints} ORDER BY size DESC, id DESC LIMIT 1"
        async with self._db.connection() as conn:
            row = await conn.fetchrow(sql, timeout=self._db.timeout_s)
        return None if row is None else checkpoint_of(tuple(row))
