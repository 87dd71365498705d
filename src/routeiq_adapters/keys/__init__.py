"""Key store adapters: SQLite (embedded default) and PostgreSQL (several nodes)."""

from routeiq_adapters.keys.postgres import PostgresKeyStore
from routeiq_adapters.keys.sqlite import SQLiteKeyStore

__all__ = ["PostgresKeyStore", "SQLiteKeyStore"]
