"""The fixture shape of the SQL store contract suites: instances of one adapter on one database.

``store_openers`` yields an opener: each call is another worker's instance on the same database (the
memory adapter: always the same instance). Stores are closed afterwards, and a PostgreSQL run's own
schema is dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg  # type: ignore[import-untyped]
import pytest


class Closable(Protocol):
    async def close(self) -> None: ...


S = TypeVar("S", bound=Closable)


@asynccontextmanager
async def store_openers(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    *,
    memory: Callable[[], S],
    sqlite: Callable[[Path], S],
    postgres: Callable[[str, str], S],
    prefix: str,
) -> AsyncIterator[Callable[[], S]]:
    """Openers of the adapter ``request.param`` names (``memory``, ``sqlite`` or ``postgres``).

    ``sqlite`` gets a file path; ``postgres`` the DSN and a schema of the run's own.
    """
    opened: list[S] = []
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    dsn: Any = request.getfixturevalue("postgres_dsn") if request.param == "postgres" else ""
    shared = memory() if request.param == "memory" else None

    def opener() -> S:
        if shared is not None:
            store = shared
        elif request.param == "sqlite":
            store = sqlite(tmp_path / f"{prefix}.db")
        else:
            store = postgres(dsn, schema)
        opened.append(store)
        return store

    try:
        yield opener
    finally:
        for store in opened:
            await store.close()
        if request.param == "postgres":
            conn = await asyncpg.connect(dsn, timeout=5)
            try:
                await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            finally:
                await conn.close()
