"""Adapters of the ``ObjectOwnershipStore`` port: memory, SQLite (the default) and PostgreSQL."""

from routeiq_adapters.provider_objects.memory import InMemoryObjectOwnershipStore
from routeiq_adapters.provider_objects.postgres import PostgresObjectOwnershipStore
from routeiq_adapters.provider_objects.sqlite import SQLiteObjectOwnershipStore

__all__ = ["InMemoryObjectOwnershipStore", "PostgresObjectOwnershipStore", "SQLiteObjectOwnershipStore"]
