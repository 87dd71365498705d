"""Stored responses in this process's memory: one worker only, gone at restart."""

from __future__ import annotations

from collections import OrderedDict

from routeiq_core.responses import StoredResponse


class InMemoryResponseStore:
    """The in-memory adapter of the ``ResponseStore`` port, bounded to ``max_records`` (oldest go first).

    Args:
        max_records: Most responses kept.
    """

    def __init__(self, *, max_records: int = 10_000) -> None:
        self._max = max_records
        self._records: OrderedDict[str, StoredResponse] = OrderedDict()

    async def ensure_schema(self) -> None:
        """Nothing to create."""

    async def put(self, record: StoredResponse) -> None:
        """Store ``record``, dropping the oldest beyond the bound."""
        self._records.pop(record.id, None)
        self._records[record.id] = record
        while len(self._records) > self._max:
            self._records.popitem(last=False)

    async def get(self, response_id: str, now: float) -> StoredResponse | None:
        """The record, unless missing or expired."""
        record = self._records.get(response_id)
        return record if record is not None and record.expires_at > now else None

    async def delete(self, response_id: str) -> bool:
        """Delete the record; whether there was one."""
        return self._records.pop(response_id, None) is not None

    async def prune(self, now: float) -> int:
        """Delete the expired records."""
        expired = [key for key, record in self._records.items() if record.expires_at <= now]
        for key in expired:
            del self._records[key]
        return len(expired)

    async def close(self) -> None:
        """Nothing to release."""
