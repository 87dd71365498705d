"""Request logs: in memory (one process), SQLite (embedded default) and PostgreSQL (several nodes)."""

from routeiq_adapters.request_log.memory import InMemoryRequestLog
from routeiq_adapters.request_log.postgres import PostgresRequestLog
from routeiq_adapters.request_log.sqlite import SQLiteRequestLog

__all__ = ["InMemoryRequestLog", "PostgresRequestLog", "SQLiteRequestLog"]
