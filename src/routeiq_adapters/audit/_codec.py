"""The audit tables shared by the SQL audit stores: schema steps, rows, the search query.

``routeiq_audit_log`` holds the entries (``seq`` unique: the primary key), ``routeiq_audit_head`` one
row with the head of the chain (size, last hash, Merkle frontier) that writers lock to append one at
a time, ``routeiq_audit_checkpoints`` the signed checkpoints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from routeiq_adapters._schema import Component, Steps
from routeiq_core.audit import GENESIS, AuditEntry, AuditQuery, AuditStoreError, ChainHead, StoredCheckpoint

TABLE = "routeiq_audit_log"
HEAD = "routeiq_audit_head"
CHECKPOINTS = "routeiq_audit_checkpoints"
ENTRY_COLUMNS = ("seq", "prev_hash", "entry_hash", "body", "at", "action", "actor")
ENTRY_LIST = ", ".join(ENTRY_COLUMNS)
CHECKPOINT_LIST = "id, size, note, at"


def sibling(table: str, name: str) -> str:
    """The table ``name`` in the schema of the (possibly schema-qualified) ``table``."""
    schema, dot, _ = table.rpartition(".")
    return f"{schema}{dot}{name}"


def migrations(table: str, real: str) -> Steps:
    """Schema steps by version (index 0 brings an empty database to version 1).

    Args:
        table: The (possibly schema-qualified) log table.
        real: The dialect's double-precision type (``REAL`` is SQLite's: it also picks the blob and
            auto-increment types).
    """
    sqlite = real == "REAL"
    blob, serial = (
        ("BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT") if sqlite else ("BYTEA", "BIGSERIAL PRIMARY KEY")
    )
    head, checkpoints = sibling(table, HEAD), sibling(table, CHECKPOINTS)
    return (
        (
            f"""CREATE TABLE IF NOT EXISTS {table} (
                seq BIGINT PRIMARY KEY,
                prev_hash TEXT NOT NULL,
                entry_hash TEXT NOT NULL,
                body {blob} NOT NULL,
                at {real} NOT NULL,
                action TEXT NOT NULL,
                actor TEXT NOT NULL
            )""",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_action ON {table} (action, seq)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_actor ON {table} (actor, seq)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_at ON {table} (at)",
            f"""CREATE TABLE IF NOT EXISTS {head} (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                size BIGINT NOT NULL,
                last_hash TEXT NOT NULL,
                frontier TEXT NOT NULL
            )""",
            f"INSERT INTO {head} (id, size, last_hash, frontier) VALUES (1, 0, '{GENESIS}', '[]') "
            "ON CONFLICT (id) DO NOTHING",
            f"""CREATE TABLE IF NOT EXISTS {checkpoints} (
                id {serial},
                size BIGINT NOT NULL,
                note TEXT NOT NULL,
                at {real} NOT NULL
            )""",
            f"CREATE INDEX IF NOT EXISTS {CHECKPOINTS}_size ON {checkpoints} (size, id)",
        ),
    )


def newer_schema(current: int, latest: int) -> AuditStoreError:
    """The database was written by a newer RouteIQ."""
    return AuditStoreError(
        f"the audit tables are at schema version {current}, newer than this RouteIQ ({latest}): "
        "upgrade RouteIQ"
    )


COMPONENT = Component(name="audit", table=TABLE, steps=migrations, newer=newer_schema)
"""The audit tables: their row in ``routeiq_schema_version`` and their schema steps."""


def head_of(row: Sequence[Any] | None) -> ChainHead:
    """The chain head from its row (size, last_hash, frontier)."""
    if row is None:
        raise AuditStoreError("the audit head row is missing: the audit tables were tampered with")
    size, last_hash, frontier = row
    return ChainHead(size=int(size), last_hash=str(last_hash), frontier=tuple(json.loads(frontier)))


def head_values(head: ChainHead) -> tuple[int, str, str]:
    """The head row's values (size, last_hash, frontier)."""
    return head.size, head.last_hash, json.dumps(list(head.frontier))


def entry_row(entry: AuditEntry) -> tuple[Any, ...]:
    """The column values of ``entry``, in :data:`ENTRY_COLUMNS` order."""
    return (entry.seq, entry.prev_hash, entry.entry_hash, entry.body, entry.at, entry.action, entry.actor)


def entry_of(row: Sequence[Any]) -> AuditEntry:
    """An entry from a row in :data:`ENTRY_COLUMNS` order."""
    seq, prev_hash, entry_hash, body, at, action, actor = row
    return AuditEntry(
        seq=int(seq),
        prev_hash=str(prev_hash),
        entry_hash=str(entry_hash),
        body=body.encode() if isinstance(body, str) else bytes(body),  # SQL string functions make text
        at=float(at),
        action=str(action),
        actor=str(actor),
    )


def checkpoint_of(row: Sequence[Any]) -> StoredCheckpoint:
    """A checkpoint from a row (id, size, note, at)."""
    id_, size, note, at = row
    return StoredCheckpoint(id=int(id_), size=int(size), note=str(note), at=float(at))


def search_query(table: str, query: AuditQuery, placeholder: Callable[[int], str]) -> tuple[str, list[Any]]:
    """The entries ``query`` selects, in ``seq`` order.

    Args:
        table: The (possibly schema-qualified) log table.
        query: What to select.
        placeholder: The dialect's n-th parameter marker (``?`` or ``$n``).
    """
    conditions: list[str] = []
    args: list[Any] = []

    def where(condition: str, value: Any) -> None:
        args.append(value)
        conditions.append(condition.format(placeholder(len(args))))

    where("seq >= {}", query.start)
    if query.action is not None and query.action.endswith("*"):
        prefix = query.action[:-1]
        where("substr(action, 1, " + str(len(prefix)) + ") = {}", prefix)
    elif query.action is not None:
        where("action = {}", query.action)
    if query.actor is not None:
        where("actor = {}", query.actor)
    if query.since is not None:
        where("at >= {}", query.since)
    if query.until is not None:
        where("at <= {}", query.until)
    args.append(query.limit)
    sql = f"SELECT {ENTRY_LIST} FROM {table} WHERE {' AND '.join(conditions)} ORDER BY seq LIMIT "
    return sql + placeholder(len(args)), args
