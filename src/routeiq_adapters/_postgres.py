"""What the PostgreSQL adapters share: a lazily opened asyncpg pool and versioned migrations."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

import anyio
import asyncpg  # type: ignore[import-untyped]

from routeiq_adapters._schema import VERSION_DDL, VERSION_TABLE, Component

R = TypeVar("R")

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# One lock for every RouteIQ store migrating a schema: stores creating the same schema and version
# table at once with separate locks collided on PostgreSQL's catalog (duplicate key).
MIGRATION_LOCK = "routeiq.keys.schema"
_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class PostgresDatabase:
    """A pool opened on first use and migrated before anyone uses it.

    Args:
        dsn: ``postgresql://user@host/db``.
        schema: Where the tables live (a lower-case SQL identifier).
        timeout_s: Bound on connecting, acquiring and every command.
        sizes: Min and max pool size.
        component: The tables to create or upgrade, inside a transaction holding the migration lock.
        error: Wraps a driver failure into the store's own error type.
        passthrough: Exceptions the store raises on purpose (not wrapped).
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str,
        timeout_s: float,
        sizes: tuple[int, int],
        component: Component,
        error: Callable[[str], Exception],
        passthrough: tuple[type[BaseException], ...],
    ) -> None:
        if not IDENTIFIER.match(schema):
            raise ValueError(f"schema must be a lower-case SQL identifier, got {schema!r}")
        self.schema = schema
        self.timeout_s = timeout_s
        self._dsn = dsn
        self._sizes = sizes
        self._component = component
        self._error = error
        self._passthrough = (asyncpg.UniqueViolationError, *passthrough)
        self._pool: Any = None
        self._lock = anyio.Lock()

    async def ready(self) -> Any:
        """The pool, opened and migrated on first call."""
        if self._pool is not None:
            return self._pool
        async with self._lock:
            if self._pool is None:
                try:
                    pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=self._sizes[0],
                        max_size=self._sizes[1],
                        command_timeout=self.timeout_s,
                        timeout=self.timeout_s,
                    )
                except (asyncpg.PostgresError, OSError, TimeoutError) as exc:
                    raise self._error(f"cannot connect to PostgreSQL: {exc}") from exc
                try:
                    async with pool.acquire(timeout=self.timeout_s) as conn, conn.transaction():
                        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", MIGRATION_LOCK)
                        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
                        await migrate_component(conn, self._component, self.schema)
                except BaseException as exc:
                    await pool.close()
                    if isinstance(exc, _FAILURES) and not isinstance(exc, self._passthrough):
                        raise self._error(f"migrating the schema failed: {exc}") from exc
                    raise
                self._pool = pool
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A pooled connection; driver failures become the store's error."""
        pool = await self.ready()
        try:
            async with pool.acquire(timeout=self.timeout_s) as conn:
                yield conn
        except self._passthrough:
            raise
        except _FAILURES as exc:
            raise self._error(f"PostgreSQL failed: {exc}") from exc

    async def close(self) -> None:
        """Close the pool (a later call reopens it)."""
        async with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            with anyio.fail_after(self.timeout_s):
                await pool.close()


async def migrate_component(conn: Any, component: Component, schema: str) -> None:
    """Bring ``component``'s tables in ``schema`` to its latest step (inside the locked transaction)."""
    steps: Sequence[Sequence[str]] = component.steps(f"{schema}.{component.table}", "DOUBLE PRECISION")
    versions = f"{schema}.{VERSION_TABLE}"
    await conn.execute(VERSION_DDL.format(table=versions))
    current = await conn.fetchval(f"SELECT version FROM {versions} WHERE component = $1", component.name)
    current = int(current or 0)
    if current > len(steps):
        raise component.newer(current, len(steps))
    for statements in steps[current:]:
        for statement in statements:
            await conn.execute(statement)
    await conn.execute(
        f"INSERT INTO {versions} (component, version) VALUES ($1, $2) "
        "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
        component.name,
        len(steps),
    )


class PostgresRecordStore(Generic[R]):
    """What the PostgreSQL key and team stores share: the pool, schema, closing, one-row queries.

    Args:
        db: The store's database (its component names the table).
        table: The unqualified table name.
        decode: A record from one row (columns in the store's select order).
    """

    def __init__(self, db: PostgresDatabase, table: str, decode: Callable[[Sequence[Any]], R]) -> None:
        self._db = db
        self._table = f"{db.schema}.{table}"
        self._decode = decode

    def __repr__(self) -> str:
        return f"{type(self).__name__}(schema={self._db.schema!r})"

    async def ensure_schema(self) -> None:
        """Open the pool and create or migrate the schema (also done on first use)."""
        await self._db.ready()

    async def close(self) -> None:
        """Close the pool (a later call reopens it)."""
        await self._db.close()

    async def _one(self, sql: str, *args: Any) -> R | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(sql, *args, timeout=self._db.timeout_s)
        return None if row is None else self._decode(tuple(row))

    async def _many(self, sql: str, *args: Any) -> list[R]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(sql, *args, timeout=self._db.timeout_s)
        return [self._decode(tuple(row)) for row in rows]


def row_count(status: str) -> int:
    """The row count of a command status such as ``DELETE 3`` (what ``execute`` answers)."""
    return int(status.rsplit(" ", 1)[-1])
