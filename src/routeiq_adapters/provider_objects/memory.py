"""Provider object records in this process's memory: one worker only, gone at restart."""

from __future__ import annotations

from collections import OrderedDict

import msgspec

from routeiq_core.provider_objects import ObjectKind, OwnedObject


class InMemoryObjectOwnershipStore:
    """The in-memory adapter of the ``ObjectOwnershipStore`` port, bounded to ``max_records``.

    Beyond the bound the oldest records go first (their objects stay with the provider, unreachable
    through the gateway).

    Args:
        max_records: Most records kept.
    """

    def __init__(self, *, max_records: int = 10_000) -> None:
        self._max = max_records
        self._records: OrderedDict[tuple[str, str], OwnedObject] = OrderedDict()

    async def ensure_schema(self) -> None:
        """Nothing to create."""

    async def put(self, record: OwnedObject) -> None:
        """Store ``record``, dropping the oldest beyond the bound."""
        key = (record.kind, record.id)
        self._records.pop(key, None)
        self._records[key] = record
        while len(self._records) > self._max:
            self._records.popitem(last=False)

    async def get(self, kind: ObjectKind, object_id: str) -> OwnedObject | None:
        """The record, if any."""
        return self._records.get((kind, object_id))

    async def update(self, kind: ObjectKind, object_id: str, *, status: str, body: bytes) -> bool:
        """Refresh an existing record's status and snapshot."""
        record = self._records.get((kind, object_id))
        if record is None:
            return False
        self._records[(kind, object_id)] = msgspec.structs.replace(record, status=status, body=body)
        return True

    async def delete(self, kind: ObjectKind, object_id: str) -> bool:
        """Delete the record; whether there was one."""
        return self._records.pop((kind, object_id), None) is not None

    async def list(
        self,
        kind: ObjectKind,
        *,
        owner: str | None,
        everyone: bool = False,
        before: tuple[float, str] | None = None,
        limit: int = 20,
        purpose: str | None = None,
    ) -> list[OwnedObject]:
        """Matching records, newest first."""
        found = [
            r
            for r in self._records.values()
            if r.kind == kind
            and (everyone or r.owner == owner)
            and (purpose is None or r.purpose == purpose)
            and (before is None or (r.created_at, r.id) < before)
        ]
        found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return found[:limit]

    async def close(self) -> None:
        """Nothing to release."""
