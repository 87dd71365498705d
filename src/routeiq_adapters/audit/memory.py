"""The audit log in memory: one process, nothing persists (tests, ``audit.backend: memory``)."""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from routeiq_core.audit import (
    MAX_PAGE,
    AuditEntry,
    AuditEvent,
    AuditQuery,
    ChainHead,
    StoredCheckpoint,
    extend,
)


class InMemoryAuditStore:
    """The in-memory adapter of the ``AuditStore`` port: appends serialised by an ``anyio.Lock``."""

    def __init__(self) -> None:
        self._entries: list[AuditEntry] = []
        self._head = ChainHead()
        self._checkpoints: list[StoredCheckpoint] = []
        self._lock = anyio.Lock()

    async def ensure_schema(self) -> None:
        """Nothing to create."""

    async def append(self, events: Sequence[AuditEvent]) -> ChainHead:
        """Chain ``events`` after the last entry."""
        async with self._lock:
            entries, self._head = extend(self._head, events)
            self._entries.extend(entries)
            return self._head

    async def head(self) -> ChainHead:
        """The head of the log now."""
        return self._head

    async def entries(self, start: int, limit: int) -> list[AuditEntry]:
        """Entries with ``seq >= start``, in order."""
        return [e for e in self._entries if e.seq >= start][:limit]

    async def search(self, query: AuditQuery) -> list[AuditEntry]:
        """The entries ``query`` selects."""
        found = []
        for entry in self._entries:
            if _selected(entry, query):
                found.append(entry)
                if len(found) == query.limit:
                    break
        return found

    async def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a signed checkpoint (numbered in the order stored)."""
        async with self._lock:
            self._checkpoints.append(
                StoredCheckpoint(
                    id=len(self._checkpoints) + 1,
                    size=checkpoint.size,
                    note=checkpoint.note,
                    at=checkpoint.at,
                )
            )

    async def checkpoints(self, *, after_id: int = 0, limit: int = MAX_PAGE) -> list[StoredCheckpoint]:
        """Stored checkpoints after ``after_id``."""
        return [c for c in self._checkpoints if c.id > after_id][:limit]

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest size (the latest stored among equals)."""
        return max(self._checkpoints, key=lambda c: (c.size, c.id), default=None)

    async def close(self) -> None:
        """Nothing to release."""


def _selected(entry: AuditEntry, query: AuditQuery) -> bool:
    action = query.action
    return (
        entry.seq >= query.start
        and (
            action is None
            or entry.action == action
            or (action.endswith("*") and entry.action.startswith(action[:-1]))
        )
        and (query.actor is None or entry.actor == query.actor)
        and (query.since is None or entry.at >= query.since)
        and (query.until is None or entry.at <= query.until)
    )
