"""Files and batches: the ownership store from the settings, and which deployments serve them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from routeiq_adapters.provider_objects import (
    InMemoryObjectOwnershipStore,
    PostgresObjectOwnershipStore,
    SQLiteObjectOwnershipStore,
)
from routeiq_app.access_setup import IN_MEMORY, sqlite_path
from routeiq_app.settings import Settings
from routeiq_app.settings.deployments import ModelInfo
from routeiq_core.operations import PROVIDER_OBJECTS, Operation
from routeiq_core.provider_objects import ObjectOwnershipStore

Backend = Literal["sqlite", "postgres", "memory"]
PASSING_ADAPTERS = frozenset({"openai", "mock"})
"""The adapters that pass files and batches on (LiteLLM's does not)."""


def object_store_backend(settings: Settings) -> Backend:
    """Where ownership records live: their own setting, else the key store's backend."""
    config = settings.files
    backend: Backend = settings.keys.backend if config.backend == "auto" else config.backend
    if backend == "sqlite" and settings.keys.sqlite_path == IN_MEMORY:
        return "memory"
    return backend


def object_store(settings: Settings) -> ObjectOwnershipStore:
    """The configured ownership store (not yet opened): a SQLite file beside the key store's by default."""
    keys = settings.keys
    backend = object_store_backend(settings)
    if backend == "memory":
        return InMemoryObjectOwnershipStore(max_records=settings.files.max_memory_records)
    if backend == "postgres":
        if not keys.postgres_dsn:
            raise ValueError(
                "the provider object store's backend is postgres but keys.postgres_dsn is not set"
            )
        return PostgresObjectOwnershipStore(
            keys.postgres_dsn, schema=keys.postgres_schema, timeout_s=keys.timeout_s
        )
    return SQLiteObjectOwnershipStore(
        sqlite_path(settings, "provider_objects"), busy_timeout_s=keys.timeout_s
    )


async def run_object_store(store: ObjectOwnershipStore) -> AsyncIterator[ObjectOwnershipStore]:
    """Container Resource: create/migrate the schema at startup, close at shutdown."""
    await store.ensure_schema()
    try:
        yield store
    finally:
        await store.close()


def deployment_operations(
    info: ModelInfo, mode_operations: frozenset[Operation] | None, adapter: str, at: str, problems: list[str]
) -> frozenset[Operation] | None:
    """What a deployment serves: its mode's operations, with files and batches as ``supports_files`` says.

    Unset, files and batches come with an unset mode (any operation); ``true`` adds them to a mode's;
    ``false`` takes them away. Only the ``openai`` and ``mock`` adapters pass them on.
    """
    flag = info.supports_files
    if flag and adapter not in PASSING_ADAPTERS:
        problems.append(
            f"{at}.supports_files: the {adapter!r} adapter cannot pass files and batches; "
            "use an openai/ or mock/ deployment"
        )
        return mode_operations
    if flag is None:
        return mode_operations
    if flag:
        return None if mode_operations is None else mode_operations | PROVIDER_OBJECTS
    every = frozenset(Operation) if mode_operations is None else mode_operations
    return every - PROVIDER_OBJECTS
