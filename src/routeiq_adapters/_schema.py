"""What every SQL store shares about its schema: the version table, and a component's migrations.

Keys, teams and spend keep their tables side by side (one SQLite file, one PostgreSQL schema) and
record their schema versions as rows of one table, ``routeiq_schema_version``, one row per component,
so each migrates on its own.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

VERSION_TABLE = "routeiq_schema_version"
VERSION_DDL = "CREATE TABLE IF NOT EXISTS {table} (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"

Steps = tuple[tuple[str, ...], ...]
"""Schema steps by version: index 0 brings an empty database to version 1."""


class Component(msgspec.Struct, frozen=True, kw_only=True):
    """One store's tables: its row in the version table, its schema steps, its too-new error.

    Attributes:
        name: The component's row in the version table (``keys``, ``teams``, ``spend``).
        table: Its main table's unqualified name.
        steps: ``steps(qualified_table, real_type)``: the schema steps in the dialect's types.
        newer: ``newer(current, latest)``: the error when a newer RouteIQ wrote the database.
    """

    name: str
    table: str
    steps: Callable[[str, str], Steps]
    newer: Callable[[int, int], Exception]
