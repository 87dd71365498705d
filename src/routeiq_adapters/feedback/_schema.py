"""The feedback table shared by the SQL adapters: schema steps, rows and the page query."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from routeiq_adapters._schema import Component, Steps
from routeiq_core.feedback import FeedbackQuery, FeedbackRecord, FeedbackStoreError

TABLE = "routeiq_feedback"
_COLUMNS_V1 = (
    ("at", "{real} NOT NULL"),
    ("source", "TEXT NOT NULL"),
    ("request_id", "TEXT"),
    ("response_id", "TEXT"),
    ("score", "{real}"),
    ("label", "TEXT"),
    ("comment", "TEXT"),
    ("key_id", "TEXT"),
    ("team", "TEXT"),
    ("model_group", "TEXT"),
    ("deployment_id", "TEXT"),
    ("submitted_by", "TEXT"),
    ("router", "TEXT"),
    ("router_version", "INTEGER"),
    ("cost", "{real}"),
)
COLUMNS = tuple(name for name, _ in _COLUMNS_V1)
"""Every field of :class:`FeedbackRecord`, in insert order."""
_FILTERS = ("key_id", "team", "request_id", "model_group", "source", "router")


def migrations(table: str, real: str) -> Steps:
    """Schema steps by version (index 0 brings an empty database to version 1)."""
    columns = ",\n".join(f"    {name} {kind.format(real=real)}" for name, kind in _COLUMNS_V1)
    return (
        (
            f"CREATE TABLE IF NOT EXISTS {table} (\n{columns}\n)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_at ON {table} (at)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_request ON {table} (request_id)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_key ON {table} (key_id, at)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_group ON {table} (model_group, at)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_router ON {table} (router, at)",
        ),
    )


def newer_schema(current: int, latest: int) -> FeedbackStoreError:
    """The database was written by a newer RouteIQ."""
    return FeedbackStoreError(
        f"the feedback table is at schema version {current}, newer than this RouteIQ ({latest}); "
        "upgrade RouteIQ"
    )


def to_row(record: FeedbackRecord) -> tuple[Any, ...]:
    """The column values of ``record`` (NUL characters, which PostgreSQL text refuses, replaced)."""
    return tuple(
        value.replace("\x00", "\ufffd") if isinstance(value, str) else value
        for value in (getattr(record, name) for name in COLUMNS)
    )


def from_row(row: Sequence[Any]) -> FeedbackRecord:
    """The record of a row selected in :data:`COLUMNS` order."""
    return FeedbackRecord(**dict(zip(COLUMNS, row, strict=True)))


def select_query(
    table: str, query: FeedbackQuery, placeholder: Callable[[int], str]
) -> tuple[str, list[Any]]:
    """The rows ``query`` selects, newest first (``placeholder``: the dialect's n-th marker)."""
    conditions: list[str] = []
    args: list[Any] = []

    def where(condition: str, value: Any) -> None:
        args.append(value)
        conditions.append(condition.format(placeholder(len(args))))

    for column in _FILTERS:
        value = getattr(query, column)
        if value is not None:
            where(f"{column} = {{}}", value)
    if query.since is not None:
        where("at >= {}", query.since)
    if query.before is not None:
        where("at < {}", query.before)
    args.append(query.limit)
    filters = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    return (
        f"SELECT {', '.join(COLUMNS)} FROM {table} {filters}ORDER BY at DESC LIMIT {placeholder(len(args))}",
        args,
    )


COMPONENT = Component(name="feedback", table=TABLE, steps=migrations, newer=newer_schema)
"""The feedback table: its row in ``routeiq_schema_version`` and its schema steps."""
