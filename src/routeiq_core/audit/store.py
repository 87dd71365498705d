"""The audit log's ports: the store (one-writer appends, reads, checkpoints) and the external sink."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from routeiq_core.audit.chain import AuditEntry, ChainHead
from routeiq_core.audit.event import AuditEvent
from routeiq_core.errors import ServiceUnavailableError

MAX_PAGE = 1000


class AuditStoreError(ServiceUnavailableError):
    """The audit store could not answer (database down, locked too long, driver error): 503."""

    default_code = "audit_store_unavailable"


class StoredCheckpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A signed checkpoint as stored: the tree size it covers, the signed note, when it was made."""

    size: int
    note: str
    at: float
    id: int = 0


class AuditQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which entries to read, in ``seq`` order.

    Attributes:
        start: The first ``seq`` to consider.
        limit: Most entries returned (1 to 1000).
        action: Only this action, or actions starting with the prefix before a trailing ``*``.
        actor: Only this actor.
        since: Only events at or after this unix time.
        until: Only events at or before this unix time.
    """

    start: int = 0
    limit: int = 100
    action: str | None = None
    actor: str | None = None
    since: float | None = None
    until: float | None = None


class AuditStore(Protocol):
    """Where the audit log lives: an append-only chain of entries and its signed checkpoints.

    Appends are ordered by one writer at a time across every process sharing the store (SQLite
    ``BEGIN IMMEDIATE``, a PostgreSQL row lock), so the chain never forks. Failures raise
    :class:`AuditStoreError`.
    """

    async def ensure_schema(self) -> None:
        """Create or migrate the tables (idempotent, safe from many processes at once)."""
        ...

    async def append(self, events: Sequence[AuditEvent]) -> ChainHead:
        """Chain ``events`` after the last entry, in order, atomically; the head after them."""
        ...

    async def head(self) -> ChainHead:
        """The head of the log now (size, last hash, Merkle frontier)."""
        ...

    async def entries(self, start: int, limit: int) -> list[AuditEntry]:
        """Up to ``limit`` entries with ``seq >= start``, in ``seq`` order, as stored."""
        ...

    async def search(self, query: AuditQuery) -> list[AuditEntry]:
        """The entries ``query`` selects, in ``seq`` order."""
        ...

    async def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a signed checkpoint."""
        ...

    async def checkpoints(self, *, after_id: int = 0, limit: int = MAX_PAGE) -> list[StoredCheckpoint]:
        """Stored checkpoints in the order they were stored, from the one after ``after_id``."""
        ...

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest size (the latest stored among equals); None before any."""
        ...

    async def close(self) -> None:
        """Release connections (a later call reopens them)."""
        ...


class CheckpointSink(Protocol):
    """Somewhere outside the store that keeps a copy of every checkpoint (a file, a witness).

    A copy the store's writer cannot rewrite is what catches a truncated or rewritten log.
    """

    async def publish(self, note: str) -> None:
        """Keep the signed checkpoint ``note``."""
        ...
