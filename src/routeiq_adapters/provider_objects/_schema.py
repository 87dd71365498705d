"""The provider objects table shared by the SQL adapters: schema steps, rows, list queries."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from routeiq_adapters._schema import Component, Steps
from routeiq_core.provider_objects import ObjectStoreError, OwnedObject

TABLE = "routeiq_provider_objects"
COLUMNS = (
    "kind",
    "id",
    "owner",
    "team",
    "deployment_id",
    "model",
    "created_at",
    "purpose",
    "status",
    "body",
)
_BLOB = MappingProxyType({"REAL": "BLOB", "DOUBLE PRECISION": "BYTEA"})
"""The binary column type by dialect (named by its double-precision type, as schema steps are)."""


def migrations(table: str, real: str) -> Steps:
    """Schema steps by version (index 0 brings an empty database to version 1)."""
    return (
        (
            f"CREATE TABLE IF NOT EXISTS {table} (\n"
            "    kind TEXT NOT NULL,\n"
            "    id TEXT NOT NULL,\n"
            "    owner TEXT,\n"
            "    team TEXT,\n"
            "    deployment_id TEXT NOT NULL,\n"
            "    model TEXT NOT NULL,\n"
            f"    created_at {real} NOT NULL,\n"
            "    purpose TEXT NOT NULL,\n"
            "    status TEXT NOT NULL,\n"
            f"    body {_BLOB[real]} NOT NULL,\n"
            "    PRIMARY KEY (kind, id)\n"
            ")",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_owner ON {table} (kind, owner, created_at)",
        ),
    )


def newer_schema(current: int, latest: int) -> ObjectStoreError:
    """The database was written by a newer RouteIQ."""
    return ObjectStoreError(
        f"the provider objects table is at schema version {current}, newer than this RouteIQ ({latest}); "
        "upgrade RouteIQ"
    )


def to_row(record: OwnedObject) -> tuple[Any, ...]:
    """The column values of ``record``, in :data:`COLUMNS` order."""
    return tuple(getattr(record, name) for name in COLUMNS)


def from_row(row: Sequence[Any]) -> OwnedObject:
    """The record of a row selected in :data:`COLUMNS` order."""
    fields = dict(zip(COLUMNS, row, strict=True))
    fields["body"] = bytes(fields["body"])
    return OwnedObject(**fields)


def list_query(
    table: str,
    mark: Any,
    *,
    owner: str | None,
    everyone: bool,
    before: tuple[float, str] | None,
    purpose: str | None,
    limit: int,
    kind: str,
) -> tuple[str, list[Any]]:
    """A list query and its arguments; ``mark(n)`` writes the dialect's n-th placeholder (1-based)."""
    args: list[Any] = [kind]
    where = [f"kind = {mark(1)}"]
    if not everyone:
        if owner is None:
            where.append("owner IS NULL")
        else:
            args.append(owner)
            where.append(f"owner = {mark(len(args))}")
    if purpose is not None:
        args.append(purpose)
        where.append(f"purpose = {mark(len(args))}")
    if before is not None:
        args.extend((before[0], before[0], before[1]))
        n = len(args)
        where.append(f"(created_at < {mark(n - 2)} OR (created_at = {mark(n - 1)} AND id < {mark(n)}))")
    args.append(limit)
    sql = (
        f"SELECT {', '.join(COLUMNS)} FROM {table} WHERE {' AND '.join(where)} "
        f"ORDER BY created_at DESC, id DESC LIMIT {mark(len(args))}"
    )
    return sql, args


COMPONENT = Component(name="provider_objects", table=TABLE, steps=migrations, newer=newer_schema)
"""The provider objects table: its row in ``routeiq_schema_version`` and its schema steps."""
