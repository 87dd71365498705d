"""Spend ledgers: in memory (one process), SQLite (embedded default) and PostgreSQL (several nodes)."""

from routeiq_adapters.spend.memory import InMemorySpendLedger
from routeiq_adapters.spend.postgres import PostgresSpendLedger
from routeiq_adapters.spend.sqlite import SQLiteSpendLedger

__all__ = ["InMemorySpendLedger", "PostgresSpendLedger", "SQLiteSpendLedger"]
