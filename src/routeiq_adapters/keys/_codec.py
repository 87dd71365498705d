"""The row shape of virtual keys shared by the SQL key stores: columns, schema steps, encoding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from routeiq_adapters._schema import Component, Steps
from routeiq_core.access.errors import KeyStoreError
from routeiq_core.access.keys import KeyPatch, VirtualKey
from routeiq_core.access.principal import Role
from routeiq_core.access.quota_limits import Budget, QuotaLimit

TABLE = "routeiq_keys"
COLUMNS = (
    "key_id",
    "key_hash",
    "hint",
    "role",
    "alias",
    "user_id",
    "team_id",
    "allowed_models",
    "limits",
    "budget",
    "expires_at",
    "metadata",
    "created_at",
    "updated_at",
    "revoked_at",
)
SELECT_LIST = ", ".join(COLUMNS)
_JSON_FIELDS = frozenset({"allowed_models", "limits", "budget", "metadata"})


def migrations(table: str, real: str) -> Steps:
    """Schema steps by version (index 0 brings an empty database to version 1).

    Args:
        table: The (possibly schema-qualified) table name.
        real: The dialect's double-precision type.
    """
    return (
        (
            f"""CREATE TABLE IF NOT EXISTS {table} (
                key_id TEXT PRIMARY KEY,
                key_hash TEXT NOT NULL UNIQUE,
                hint TEXT NOT NULL,
                role TEXT NOT NULL,
                alias TEXT,
                user_id TEXT,
                team_id TEXT,
                allowed_models TEXT NOT NULL,
                limits TEXT NOT NULL,
                budget TEXT,
                expires_at {real},
                metadata TEXT NOT NULL,
                created_at {real} NOT NULL,
                updated_at {real} NOT NULL,
                revoked_at {real}
            )""",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_team ON {table} (team_id, key_id)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_user ON {table} (user_id, key_id)",
        ),
    )


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


def to_row(key: VirtualKey) -> tuple[Any, ...]:
    """The column values of ``key``, in :data:`COLUMNS` order."""
    return (
        key.key_id,
        key.key_hash,
        key.hint,
        key.role,
        key.alias,
        key.user,
        key.team,
        _json(key.allowed_models),
        _json(key.limits),
        _json(key.budget),
        key.expires_at,
        _json(dict(key.metadata)),
        key.created_at,
        key.updated_at,
        key.revoked_at,
    )


def from_row(row: Sequence[Any]) -> VirtualKey:
    """The key stored in ``row`` (columns in :data:`COLUMNS` order)."""
    values = dict(zip(COLUMNS, row, strict=True))
    budget = values["budget"]
    return VirtualKey(
        key_id=values["key_id"],
        key_hash=values["key_hash"],
        hint=values["hint"],
        role=msgspec.convert(values["role"], Role),
        alias=values["alias"],
        user=values["user_id"],
        team=values["team_id"],
        allowed_models=msgspec.json.decode(values["allowed_models"], type=tuple[str, ...]),
        limits=msgspec.json.decode(values["limits"], type=tuple[QuotaLimit, ...]),
        budget=None if budget is None else msgspec.json.decode(budget, type=Budget),
        expires_at=values["expires_at"],
        metadata=msgspec.json.decode(values["metadata"], type=dict[str, Any]),
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        revoked_at=values["revoked_at"],
    )


def patch_values(patch: KeyPatch) -> dict[str, Any]:
    """The columns a patch changes, with their encoded values."""
    values: dict[str, Any] = {}
    for name, value in patch.changes().items():
        if name == "metadata":
            values[name] = _json(dict(value))
        else:
            values[name] = _json(value) if name in _JSON_FIELDS else value
    return values


def newer_schema(current: int, latest: int) -> KeyStoreError:
    """The error for a database migrated by a newer RouteIQ than this one."""
    return KeyStoreError(
        f"the key database is at schema version {current}, newer than this RouteIQ ({latest})"
    )


COMPONENT = Component(name="keys", table=TABLE, steps=migrations, newer=newer_schema)
"""The keys tables: their row in ``routeiq_schema_version`` and their schema steps."""
