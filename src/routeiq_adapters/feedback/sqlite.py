"""Feedback in a SQLite file: the embedded default, shared by the workers of one machine."""

from __future__ import annotations

from pathlib import Path

from routeiq_adapters._sqlite import SQLiteDatabase, SQLiteRecordStore
from routeiq_adapters.feedback._schema import COLUMNS, COMPONENT, TABLE, from_row, select_query, to_row
from routeiq_core.feedback import FeedbackQuery, FeedbackRecord, FeedbackStoreError

_INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


class SQLiteFeedbackStore(SQLiteRecordStore[FeedbackRecord]):
    """The SQLite adapter of the ``FeedbackStore`` port (WAL; schema created on first use).

    Args:
        path: The database file (``":memory:"`` for a private in-memory database).
        busy_timeout_s: Longest wait for a lock held by another connection.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 5.0) -> None:
        db = SQLiteDatabase(
            path,
            busy_timeout_s=busy_timeout_s,
            component=COMPONENT,
            error=lambda exc: FeedbackStoreError(f"SQLite feedback store failed: {exc}"),
        )
        super().__init__(db, from_row)

    async def add(self, record: FeedbackRecord) -> None:
        """Keep one record."""
        row = to_row(record)
        await self._run(lambda conn: conn.execute(_INSERT, row))

    async def query(self, query: FeedbackQuery) -> list[FeedbackRecord]:
        """The records ``query`` selects, newest first."""
        sql, args = select_query(TABLE, query, lambda n: "?")
        return await self._many(sql, tuple(args))
