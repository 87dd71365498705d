"""The spend table shared by the SQL ledgers: schema steps, the batched upsert, the report query.

One row per (hour, key, team, model group) with its totals. A call without a key or a team is stored
under ``''`` (``NULL`` cannot take part in the primary key an upsert conflicts on) and read back as
None, which reports show as ``"-"``, like the in-memory ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from routeiq_adapters._schema import Component, Steps
from routeiq_adapters.spend._buckets import Bucket, Row, hour_of
from routeiq_core.access.spend import SpendFilter, SpendLedgerError, SpendTotals

TABLE = "routeiq_spend"
COLUMNS = ("hour", "key_id", "team", "model_group", "requests", "cost", "prompt_tokens", "completion_tokens")
_KEY = "hour, key_id, team, model_group"
_SUMMED = ("requests", "cost", "prompt_tokens", "completion_tokens")
NONE = ""
"""Stored for a missing key or team."""

DbRow = tuple[int, str, str, str, int, float, int, int]
"""One row of the table, in :data:`COLUMNS` order."""


def migrations(table: str, real: str) -> Steps:
    """Schema steps by version (index 0 brings an empty database to version 1).

    Args:
        table: The (possibly schema-qualified) table name.
        real: The dialect's double-precision type.
    """
    return (
        (
            f"""CREATE TABLE IF NOT EXISTS {table} (
                hour BIGINT NOT NULL,
                key_id TEXT NOT NULL,
                team TEXT NOT NULL,
                model_group TEXT NOT NULL,
                requests BIGINT NOT NULL,
                cost {real} NOT NULL,
                prompt_tokens BIGINT NOT NULL,
                completion_tokens BIGINT NOT NULL,
                PRIMARY KEY ({_KEY})
            )""",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_key ON {table} (key_id, hour)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_team ON {table} (team, hour)",
        ),
    )


def newer_schema(current: int, latest: int) -> SpendLedgerError:
    """The database was written by a newer RouteIQ."""
    return SpendLedgerError(
        f"the spend table is at schema version {current}, newer than this RouteIQ ({latest}); upgrade RouteIQ"
    )


def upsert_sql(table: str, source: str) -> str:
    """Insert rows from ``source`` (``VALUES (...)`` or a ``SELECT``), adding to rows already there."""
    assignments = ", ".join(f"{column} = s.{column} + excluded.{column}" for column in _SUMMED)
    return (
        f"INSERT INTO {table} AS s ({', '.join(COLUMNS)}) {source} "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET {assignments}"
    )


def to_rows(buckets: dict[Bucket, SpendTotals]) -> list[DbRow]:
    """The table rows of buffered buckets, sorted so concurrent writers lock rows in the same order."""
    return sorted(
        (
            hour,
            NONE if key_id is None else key_id,
            NONE if team is None else team,
            group,
            totals.requests,
            totals.cost,
            totals.prompt_tokens,
            totals.completion_tokens,
        )
        for (hour, key_id, team, group), totals in buckets.items()
    )


def report_query(
    table: str, spend_filter: SpendFilter, placeholder: Callable[[int], str]
) -> tuple[str, list[Any]]:
    """The totals per (key, team, model group) of the hours and names a filter covers.

    Args:
        table: The (possibly schema-qualified) table name.
        spend_filter: What the report covers.
        placeholder: The dialect's n-th parameter marker (``?`` or ``$n``).
    """
    conditions: list[str] = []
    args: list[Any] = []
    for condition, value in (
        ("hour >= {}", None if spend_filter.since is None else hour_of(spend_filter.since)),
        ("hour <= {}", None if spend_filter.until is None else hour_of(spend_filter.until)),
        ("key_id = {}", spend_filter.key_id),
        ("team = {}", spend_filter.team),
        ("model_group = {}", spend_filter.model_group),
    ):
        if value is not None:
            args.append(value)
            conditions.append(condition.format(placeholder(len(args))))
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    sums = ", ".join(
        f"SUM({column})" if column == "cost" else f"CAST(SUM({column}) AS BIGINT)" for column in _SUMMED
    )
    return (
        f"SELECT key_id, team, model_group, {sums} FROM {table} {where}GROUP BY key_id, team, model_group",
        args,
    )


def from_result(row: Sequence[Any]) -> Row:
    """A report row from a row of :func:`report_query`."""
    key_id, team, group, requests, cost, prompt_tokens, completion_tokens = row
    return (
        None if key_id == NONE else key_id,
        None if team == NONE else team,
        group,
        int(requests),
        float(cost),
        int(prompt_tokens),
        int(completion_tokens),
    )


COMPONENT = Component(name="spend", table=TABLE, steps=migrations, newer=newer_schema)
"""The spend tables: their row in ``routeiq_schema_version`` and their schema steps."""
