"""Building the response store from the settings, for the container."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Literal

import anyio

from routeiq_adapters.responses import InMemoryResponseStore, PostgresResponseStore, SQLiteResponseStore
from routeiq_app.access_setup import IN_MEMORY, sqlite_path
from routeiq_app.settings import Settings
from routeiq_core.responses import ResponseStore

logger = logging.getLogger("routeiq.responses")
PRUNE_INTERVAL_S = 3600.0
Backend = Literal["sqlite", "postgres", "memory"]


def response_store_backend(settings: Settings) -> Backend:
    """Where stored responses live: their own setting, else the key store's backend."""
    config = settings.responses
    backend: Backend = settings.keys.backend if config.backend == "auto" else config.backend
    if backend == "sqlite" and settings.keys.sqlite_path == IN_MEMORY:
        return "memory"
    return backend


def response_store(settings: Settings) -> ResponseStore:
    """The configured response store (not yet opened): a SQLite file beside the key store's by default."""
    keys = settings.keys
    backend = response_store_backend(settings)
    if backend == "memory":
        return InMemoryResponseStore(max_records=settings.responses.max_memory_records)
    if backend == "postgres":
        if not keys.postgres_dsn:
            raise ValueError("the response store's backend is postgres but keys.postgres_dsn is not set")
        return PostgresResponseStore(keys.postgres_dsn, schema=keys.postgres_schema, timeout_s=keys.timeout_s)
    return SQLiteResponseStore(sqlite_path(settings, "responses"), busy_timeout_s=keys.timeout_s)


async def run_response_store(store: ResponseStore) -> AsyncIterator[ResponseStore]:
    """Container Resource: create/migrate the schema at startup, prune expired responses hourly."""
    await store.ensure_schema()
    stop = asyncio.Event()
    task = asyncio.create_task(_prune_hourly(store, stop))
    try:
        yield store
    finally:
        stop.set()
        await task
        await store.close()


async def _prune_hourly(store: ResponseStore, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            pruned = await store.prune(time.time())
            if pruned:
                logger.info("deleted %d expired stored responses", pruned)
        except Exception:
            logger.warning("pruning expired stored responses failed", exc_info=True)
        with anyio.move_on_after(PRUNE_INTERVAL_S):
            await stop.wait()
