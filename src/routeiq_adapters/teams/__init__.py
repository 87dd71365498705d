"""Team store adapters: SQLite (embedded default) and PostgreSQL (several nodes)."""

from routeiq_adapters.teams.postgres import PostgresTeamStore
from routeiq_adapters.teams.sqlite import SQLiteTeamStore

__all__ = ["PostgresTeamStore", "SQLiteTeamStore"]
