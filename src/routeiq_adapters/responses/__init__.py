"""Adapters of the ``ResponseStore`` port: memory, SQLite (the default) and PostgreSQL."""

from routeiq_adapters.responses.memory import InMemoryResponseStore
from routeiq_adapters.responses.postgres import PostgresResponseStore
from routeiq_adapters.responses.sqlite import SQLiteResponseStore

__all__ = ["InMemoryResponseStore", "PostgresResponseStore", "SQLiteResponseStore"]
