"""The TeamStore contract, run against every adapter: SQLite (a temp file) and PostgreSQL (real server).

PostgreSQL runs use a schema of their own, dropped afterwards; they skip locally when the server is
down and fail under CI (``postgres_dsn``, mirroring ``redis_url``).

Soft delete, as documented on the port: a deleted team is not listed and cannot be updated, ``get``
still returns it with ``deleted_at`` set, and its id is never reused.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import asyncpg  # type: ignore[import-untyped]
import msgspec
import pytest

from routeiq_adapters.keys import PostgresKeyStore, SQLiteKeyStore
from routeiq_adapters.teams import PostgresTeamStore, SQLiteTeamStore
from routeiq_core.access import Budget, KeyStore, QuotaLimit, Team, TeamPatch, TeamStore, TeamStoreError
from routeiq_core.errors import ConflictError

pytestmark = pytest.mark.anyio


class Database:
    """One database (a SQLite file or a PostgreSQL schema) on which the test opens stores."""

    def __init__(self, kind: str, *, path: Path | None = None, dsn: str = "", schema: str = "") -> None:
        self.kind, self.path, self.dsn, self.schema = kind, path, dsn, schema
        self.opened: list[TeamStore | KeyStore] = []

    def teams(self) -> TeamStore:
        """A new team store instance (several mimic several workers or nodes)."""
        store: TeamStore
        if self.kind == "sqlite":
            store = SQLiteTeamStore(self.path or ":memory:")
        else:
            store = PostgresTeamStore(self.dsn, schema=self.schema, timeout_s=5.0, max_size=4)
        self.opened.append(store)
        return store

    def keys(self) -> KeyStore:
        """A key store on the same database."""
        store: KeyStore
        if self.kind == "sqlite":
            store = SQLiteKeyStore(self.path or ":memory:")
        else:
            store = PostgresKeyStore(self.dsn, schema=self.schema, timeout_s=5.0, max_size=4)
        self.opened.append(store)
        return store


@pytest.fixture
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        db = Database("sqlite", path=tmp_path / "routeiq.db")
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        db = Database("postgres", dsn=dsn, schema=f"riq_test_{uuid.uuid4().hex[:12]}")
    try:
        yield db
    finally:
        for store in db.opened:
            await store.close()
        if db.kind == "postgres":
            conn = await asyncpg.connect(db.dsn, timeout=5)
            try:
                await conn.execute(f"DROP SCHEMA IF EXISTS {db.schema} CASCADE")
            finally:
                await conn.close()


@pytest.fixture
def store(database: Database) -> TeamStore:
    return database.teams()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        metafunc.parametrize("database", ["sqlite", "postgres"], indirect=True)


def team(n: int = 1, **overrides: object) -> Team:
    fields: dict[str, object] = {
        "team_id": f"team-{n:04d}",
        "alias": f"Team {n}",
        "allowed_models": ("demo", "gpt-4o"),
        "limits": (QuotaLimit(metric="requests", window="minute", limit=50.0),),
        "budget": Budget(max_spend=12.5, window="day"),
        "metadata": {"owner": "ops", "n": n, "nested": {"a": [1, 2]}},
        "created_at": 1_700_000_000.5,
        "updated_at": 1_700_000_000.5,
        "deleted_at": None,
    }
    fields.update(overrides)
    return Team(**fields)  # type: ignore[arg-type]


async def test_round_trip_keeps_every_field(store: TeamStore) -> None:
    original = team()
    await store.create(original)
    assert await store.get(original.team_id) == original
    assert await store.get("team-missing") is None
    minimal = Team(team_id="t")
    await store.create(minimal)
    assert await store.get("t") == minimal


async def test_duplicate_id_is_a_conflict(store: TeamStore) -> None:
    await store.create(team(1))
    with pytest.raises(ConflictError, match="already exists") as caught:
        await store.create(team(1, alias="other"))
    assert (caught.value.status_code, caught.value.param, caught.value.code) == (
        409,
        "team_id",
        "team_exists",
    )
    assert await store.get("team-0001") == team(1)


async def test_list_paginates_in_id_order(store: TeamStore) -> None:
    ids = ["a", "a-b", "a_b", "b0", "ops", "z9", "zz"]
    for team_id in reversed(ids):
        await store.create(team(team_id=team_id))
    seen: list[str] = []
    after = None
    while True:
        page = await store.list_teams(limit=3, after=after)
        assert len(page.items) <= 3
        seen += [t.team_id for t in page.items]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == sorted(ids)  # byte order: '-' < '_' on every backend
    exact = await store.list_teams(limit=7)
    assert (len(exact.items), exact.next_cursor) == (7, None)
    assert (await store.list_teams(after="zz")).items == ()


async def test_update_changes_only_the_patched_fields(store: TeamStore) -> None:
    await store.create(team())
    limits = (
        QuotaLimit(metric="spend", window="month", limit=3.0),
        QuotaLimit(metric="total_tokens", window="hour", limit=1e6),
    )
    patch = TeamPatch(limits=limits, allowed_models=("claude",), budget=Budget(max_spend=99.0))
    updated = await store.update("team-0001", patch, 1_800_000_000.0)
    expected = msgspec.structs.replace(
        team(), limits=limits, allowed_models=("claude",), budget=Budget(max_spend=99.0), updated_at=1.8e9
    )
    assert updated == expected
    assert await store.get("team-0001") == expected
    cleared = await store.update("team-0001", TeamPatch(budget=None, alias=None, metadata={"x": 1}), 1.9e9)
    assert cleared is not None
    assert (cleared.budget, cleared.alias, cleared.metadata) == (None, None, {"x": 1})
    assert (cleared.limits, cleared.allowed_models, cleared.updated_at) == (limits, ("claude",), 1.9e9)
    touched = await store.update("team-0001", TeamPatch(), 2e9)
    assert touched == msgspec.structs.replace(cleared, updated_at=2e9)
    assert await store.update("team-missing", patch, 1.0) is None


async def test_soft_delete_hides_from_listing_but_keeps_the_record(store: TeamStore) -> None:
    for n in (1, 2, 3):
        await store.create(team(n))
    deleted = await store.delete("team-0002", 1_800_000_000.0)
    assert deleted == msgspec.structs.replace(team(2), deleted_at=1.8e9, updated_at=1.8e9)
    assert [t.team_id for t in (await store.list_teams()).items] == ["team-0001", "team-0003"]
    assert [t.team_id for t in (await store.list_teams(limit=1)).items] == ["team-0001"]
    assert (await store.list_teams(limit=1, after="team-0001")).items == (team(3),)
    assert await store.get("team-0002") == deleted
    again = await store.delete("team-0002", 1_900_000_000.0)
    assert again == deleted  # idempotent: the first deletion time stays
    assert await store.update("team-0002", TeamPatch(alias="back"), 2e9) is None
    assert await store.get("team-0002") == deleted
    with pytest.raises(ConflictError):
        await store.create(team(2))  # ids of deleted teams are not reused
    assert await store.delete("team-missing", 1.0) is None


async def test_schema_is_created_once_by_concurrent_starters(database: Database) -> None:
    stores = [database.teams() for _ in range(4)]
    async with anyio.create_task_group() as tg:
        for store in stores:
            tg.start_soon(store.ensure_schema)
    await stores[0].ensure_schema()  # idempotent
    await stores[1].create(team())
    assert await stores[2].get("team-0001") == team()


async def test_teams_and_keys_migrate_side_by_side(database: Database) -> None:
    """Both stores share the database and the version table, starting together on an empty one."""
    stores: list[TeamStore | KeyStore] = [
        database.teams(),
        database.keys(),
        database.teams(),
        database.keys(),
    ]
    async with anyio.create_task_group() as tg:
        for store in stores:
            tg.start_soon(store.ensure_schema)
    await database.teams().create(team())
    assert await database.teams().get("team-0001") == team()
    assert (await database.keys().list_keys()).items == ()


async def test_instances_see_each_others_writes(database: Database) -> None:
    first, second = database.teams(), database.teams()
    await first.create(team(1))
    assert await second.get("team-0001") == team(1)
    await second.update("team-0001", TeamPatch(alias="renamed"), 1.8e9)
    assert (await first.get("team-0001")) == msgspec.structs.replace(
        team(1), alias="renamed", updated_at=1.8e9
    )
    await first.delete("team-0001", 1.9e9)
    assert (await second.list_teams()).items == ()
    await first.close()
    assert await first.get("team-0001") is not None  # a closed store reopens on use


async def test_concurrent_writes_from_several_stores(database: Database) -> None:
    stores = [database.teams() for _ in range(3)]
    await stores[0].ensure_schema()
    async with anyio.create_task_group() as tg:
        for n in range(1, 31):
            tg.start_soon(stores[n % 3].create, team(n))
    assert len((await stores[1].list_teams(limit=100)).items) == 30


# --- adapter-specific behaviour -------------------------------------------------------------------


async def test_sqlite_records_its_own_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    await _open_and_close(SQLiteKeyStore(path), SQLiteTeamStore(path))
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = conn.execute("SELECT component, version FROM routeiq_schema_version ORDER BY component")
        assert rows.fetchall() == [("keys", 1), ("teams", 1)]
        conn.execute("UPDATE routeiq_schema_version SET version = 99 WHERE component = 'teams'")
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(TeamStoreError, match="newer"):
        await SQLiteTeamStore(path).ensure_schema()
    await _open_and_close(SQLiteKeyStore(path))  # the key store is unaffected


async def test_sqlite_errors_are_team_store_errors(tmp_path: Path) -> None:
    with pytest.raises(TeamStoreError) as caught:
        await SQLiteTeamStore(tmp_path / "missing-dir" / "t.db").ensure_schema()
    assert caught.value.status_code == 503


async def test_postgres_records_its_own_schema_version(postgres_dsn: str) -> None:
    schema = f"riq_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(postgres_dsn, timeout=5)
    try:
        await _open_and_close(PostgresKeyStore(postgres_dsn, schema=schema))
        await _open_and_close(PostgresTeamStore(postgres_dsn, schema=schema))
        table = f"{schema}.routeiq_schema_version"
        assert await conn.fetch(f"SELECT component, version FROM {table} ORDER BY component") == [
            ("keys", 1),
            ("teams", 1),
        ]
        await conn.execute(f"UPDATE {table} SET version = 99 WHERE component = 'teams'")
        with pytest.raises(TeamStoreError, match="newer"):
            await PostgresTeamStore(postgres_dsn, schema=schema).ensure_schema()
        await _open_and_close(PostgresKeyStore(postgres_dsn, schema=schema))
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def test_postgres_unreachable_is_a_team_store_error() -> None:
    store = PostgresTeamStore("postgresql://postgres@127.0.0.1:1/test", timeout_s=1.0)
    with anyio.fail_after(10), pytest.raises(TeamStoreError):
        await store.get("team-1")


def test_postgres_schema_name_is_validated() -> None:
    with pytest.raises(ValueError, match="identifier"):
        PostgresTeamStore("postgresql://nobody@127.0.0.1/none", schema="x; DROP TABLE y")


async def _open_and_close(*stores: TeamStore | KeyStore) -> None:
    for store in stores:
        try:
            await store.ensure_schema()
        finally:
            await store.close()
