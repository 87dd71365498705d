"""The row shape of teams shared by the SQL team stores: columns, schema steps, encoding.

Teams live next to the keys (same SQLite file or PostgreSQL schema) in a table of their own, and
record their schema version as the ``teams`` row of the version table the key stores also use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from routeiq_adapters._schema import Component, Steps
from routeiq_core.access.quota_limits import Budget, QuotaLimit
from routeiq_core.access.teams import Team, TeamPatch, TeamStoreError
from routeiq_core.errors import ConflictError

TABLE = "routeiq_teams"
COLUMNS = (
    "team_id",
    "alias",
    "allowed_models",
    "limits",
    "budget",
    "metadata",
    "created_at",
    "updated_at",
    "deleted_at",
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
                team_id TEXT PRIMARY KEY,
                alias TEXT,
                allowed_models TEXT NOT NULL,
                limits TEXT NOT NULL,
                budget TEXT,
                metadata TEXT NOT NULL,
                created_at {real} NOT NULL,
                updated_at {real} NOT NULL,
                deleted_at {real}
            )""",
        ),
    )


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


def to_row(team: Team) -> tuple[Any, ...]:
    """The column values of ``team``, in :data:`COLUMNS` order."""
    return (
        team.team_id,
        team.alias,
        _json(team.allowed_models),
        _json(team.limits),
        _json(team.budget),
        _json(dict(team.metadata)),
        team.created_at,
        team.updated_at,
        team.deleted_at,
    )


def from_row(row: Sequence[Any]) -> Team:
    """The team stored in ``row`` (columns in :data:`COLUMNS` order)."""
    values = dict(zip(COLUMNS, row, strict=True))
    budget = values["budget"]
    return Team(
        team_id=values["team_id"],
        alias=values["alias"],
        allowed_models=msgspec.json.decode(values["allowed_models"], type=tuple[str, ...]),
        limits=msgspec.json.decode(values["limits"], type=tuple[QuotaLimit, ...]),
        budget=None if budget is None else msgspec.json.decode(budget, type=Budget),
        metadata=msgspec.json.decode(values["metadata"], type=dict[str, Any]),
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        deleted_at=values["deleted_at"],
    )


def patch_values(patch: TeamPatch) -> dict[str, Any]:
    """The columns a patch changes, with their encoded values."""
    values: dict[str, Any] = {}
    for name, value in patch.changes().items():
        if name == "metadata":
            values[name] = _json(dict(value))
        else:
            values[name] = _json(value) if name in _JSON_FIELDS else value
    return values


def conflict(team_id: str) -> ConflictError:
    """The error for a create whose id is taken."""
    return ConflictError(
        f"A team with id {team_id!r} already exists (ids of deleted teams are not reused); "
        "choose another id or change the existing team.",
        param="team_id",
        code="team_exists",
    )


def newer_schema(current: int, known: int) -> TeamStoreError:
    """The error for a database migrated by a newer RouteIQ than this one."""
    return TeamStoreError(
        f"the team database is at schema version {current}, newer than this RouteIQ ({known}); "
        "upgrade RouteIQ"
    )


COMPONENT = Component(name="teams", table=TABLE, steps=migrations, newer=newer_schema)
"""The teams tables: their row in ``routeiq_schema_version`` and their schema steps."""
