"""The audit log in a SQLite file: the embedded default, shared by the worker processes of one node."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from routeiq_adapters._sqlite import SQLiteDatabase, immediate
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

_INSERT = f"INSERT INTO {TABLE} ({ENTRY_LIST}) VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})"
_HEAD = f"SELECT size, last_hash, frontier FROM {HEAD} WHERE id = 1"
_SET_HEAD = f"UPDATE {HEAD} SET size = ?, last_hash = ?, frontier = ? WHERE id = 1"


class SQLiteAuditStore:
    """The SQLite adapter of the ``AuditStore`` port.

    Several processes append to one file: each append runs in ``BEGIN IMMEDIATE`` (SQLite's single
    writer lock, waited for up to ``busy_timeout_s``), reads the head of the chain inside it, inserts
    the entries after it and moves the head, so appends are ordered one at a time and the chain never
    forks. WAL lets readers run meanwhile.

    Args:
        path: The database file (``":memory:"`` for a private in-memory database).
        busy_timeout_s: Longest wait for another process's write lock.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 5.0) -> None:
        self._db = SQLiteDatabase(
            path,
            busy_timeout_s=busy_timeout_s,
            component=COMPONENT,
            error=lambda exc: AuditStoreError(f"SQLite audit store failed: {exc}"),
        )

    def __repr__(self) -> str:
        return "SQLiteAuditStore()"

    async def ensure_schema(self) -> None:
        """Open the file and create or migrate the tables (also done on first use)."""
        await self._db.ensure_schema()

    async def close(self) -> None:
        """Close the connection (a later call reopens it)."""
        await self._db.close()

    async def append(self, events: Sequence[AuditEvent]) -> ChainHead:
        """Chain ``events`` after the last entry, holding the write lock."""

        def work(conn: sqlite3.Connection) -> ChainHead:
            entries, head = extend(head_of(conn.execute(_HEAD).fetchone()), events)
            conn.executemany(_INSERT, [entry_row(e) for e in entries])
            conn.execute(_SET_HEAD, head_values(head))
            return head

        return await self._db.run(lambda conn: immediate(conn, work))

    async def head(self) -> ChainHead:
        """The head of the log now."""
        return head_of(await self._db.run(lambda conn: conn.execute(_HEAD).fetchone()))

    async def entries(self, start: int, limit: int) -> list[AuditEntry]:
        """Entries with ``seq >= start``, in order."""
        sql = f"SELECT {ENTRY_LIST} FROM {TABLE} WHERE seq >= ? ORDER BY seq LIMIT ?"
        rows = await self._db.run(lambda conn: conn.execute(sql, (start, limit)).fetchall())
        return [entry_of(row) for row in rows]

    async def search(self, query: AuditQuery) -> list[AuditEntry]:
        """The entries ``query`` selects."""
        sql, args = search_query(TABLE, query, lambda _: "?")
        rows = await self._db.run(lambda conn: conn.execute(sql, args).fetchall())
        return [entry_of(row) for row in rows]

    async def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a signed checkpoint."""
        sql = f"INSERT INTO {CHECKPOINTS} (size, note, at) VALUES (?, ?, ?)"
        values = (checkpoint.size, checkpoint.note, checkpoint.at)
        await self._db.run(lambda conn: conn.execute(sql, values))

    async def checkpoints(self, *, after_id: int = 0, limit: int = MAX_PAGE) -> list[StoredCheckpoint]:
        """Stored checkpoints after ``after_id``, in the order stored."""
        sql = f"SELECT {CHECKPOINT_LIST} FROM {CHECKPOINTS} WHERE id > ? ORDER BY id LIMIT ?"
        rows = await self._db.run(lambda conn: conn.execute(sql, (after_id, limit)).fetchall())
        return [checkpoint_of(row) for row in rows]

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest size (the latest stored among equals)."""
        sql = f"SELECT {CHECKPOINT_LIST} FROM {CHECKPOINTS} ORDER BY size DESC, id DESC LIMIT 1"
        row = await self._db.run(lambda conn: conn.execute(sql).fetchone())
        return None if row is None else checkpoint_of(row)
