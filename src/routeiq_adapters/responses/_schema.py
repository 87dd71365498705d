"""The stored responses table shared by the SQL adapters: schema steps, rows."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from routeiq_adapters._schema import Component, Steps
from routeiq_core.responses import ResponseStoreError, StoredResponse

TABLE = "routeiq_responses"
COLUMNS = (
    "id",
    "owner",
    "created_at",
    "expires_at",
    "conversation_id",
    "items",
    "response",
    "native_deployment",
)
_BLOB = MappingProxyType({"REAL": "BLOB", "DOUBLE PRECISION": "BYTEA"})
"""The binary column type by dialect (named by its double-precision type, as schema steps are)."""


def migrations(table: str, real: str) -> Steps:
    """Schema steps by version (index 0 brings an empty database to version 1)."""
    blob = _BLOB[real]
    return (
        (
            f"CREATE TABLE IF NOT EXISTS {table} (\n"
            "    id TEXT PRIMARY KEY,\n"
            "    owner TEXT,\n"
            f"    created_at {real} NOT NULL,\n"
            f"    expires_at {real} NOT NULL,\n"
            "    conversation_id TEXT NOT NULL,\n"
            f"    items {blob} NOT NULL,\n"
            f"    response {blob} NOT NULL\n"
            ")",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_expires ON {table} (expires_at)",
        ),
        (f"ALTER TABLE {table} ADD COLUMN native_deployment TEXT",),  # version 2: natively served responses
    )


def newer_schema(current: int, latest: int) -> ResponseStoreError:
    """The database was written by a newer RouteIQ."""
    return ResponseStoreError(
        f"the stored responses table is at schema version {current}, newer than this RouteIQ ({latest}); "
        "upgrade RouteIQ"
    )


def to_row(record: StoredResponse) -> tuple[Any, ...]:
    """The column values of ``record``, in :data:`COLUMNS` order."""
    return tuple(getattr(record, name) for name in COLUMNS)


def from_row(row: Sequence[Any]) -> StoredResponse:
    """The record of a row selected in :data:`COLUMNS` order."""
    fields = dict(zip(COLUMNS, row, strict=True))
    fields["items"] = bytes(fields["items"])
    fields["response"] = bytes(fields["response"])
    return StoredResponse(**fields)


COMPONENT = Component(name="responses", table=TABLE, steps=migrations, newer=newer_schema)
"""The stored responses table: its row in ``routeiq_schema_version`` and its schema steps."""
