"""The KeyStore contract, run against every adapter: SQLite (a temp file) and PostgreSQL (real server).

PostgreSQL runs use a schema of their own, dropped afterwards; they skip locally when the server is
down and fail under CI (``postgres_dsn``, mirroring ``redis_url``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import asyncpg  # type: ignore[import-untyped]
import msgspec
import pytest

from routeiq_adapters.keys import PostgresKeyStore, SQLiteKeyStore
from routeiq_core.access import Budget, KeyPatch, KeyStore, KeyStoreError, QuotaLimit, VirtualKey

pytestmark = pytest.mark.anyio


@pytest.fixture
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], KeyStore]]:
    """Opens stores on one database (several instances mimic several workers or nodes)."""
    opened: list[KeyStore] = []
    if request.param == "sqlite":
        path = tmp_path / "keys.db"

        def open_sqlite() -> KeyStore:
            opened.append(SQLiteKeyStore(path))
            return opened[-1]

        factory: Callable[[], KeyStore] = open_sqlite
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        schema = f"riq_test_{uuid.uuid4().hex[:12]}"

        def open_postgres() -> KeyStore:
            opened.append(PostgresKeyStore(dsn, schema=schema, timeout_s=5.0, max_size=4))
            return opened[-1]

        factory = open_postgres
    try:
        yield factory
    finally:
        for store in opened:
            await store.close()
        if request.param == "postgres":
            conn = await asyncpg.connect(dsn, timeout=5)
            try:
                await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            finally:
                await conn.close()


@pytest.fixture
def store(make_store: Callable[[], KeyStore]) -> KeyStore:
    return make_store()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "make_store" in metafunc.fixturenames:
        metafunc.parametrize("make_store", ["sqlite", "postgres"], indirect=True)


def record(n: int = 1, **overrides: object) -> VirtualKey:
    fields: dict[str, object] = {
        "key_id": f"key_{n:04d}",
        "key_hash": f"{n:064x}",
        "hint": f"sk-riq-...{n:04d}",
        "role": "member",
        "alias": f"alias {n}",
        "user": "u1",
        "team": "t1",
        "allowed_models": ("demo", "gpt-4o"),
        "limits": (QuotaLimit(metric="requests", window="minute", limit=50.0),),
        "budget": Budget(max_spend=12.5, window="day"),
        "expires_at": 2_000_000_000.25,
        "metadata": {"owner": "ops", "n": n, "nested": {"a": [1, 2]}},
        "created_at": 1_700_000_000.5,
        "updated_at": 1_700_000_000.5,
        "revoked_at": None,
    }
    fields.update(overrides)
    return VirtualKey(**fields)  # type: ignore[arg-type]


async def test_round_trip_keeps_every_field(store: KeyStore) -> None:
    original = record()
    await store.create(original)
    assert await store.get(original.key_id) == original
    assert await store.get_by_hash(original.key_hash) == original
    assert await store.get("key_missing") is None
    assert await store.get_by_hash("0" * 64) is None
    minimal = VirtualKey(key_id="key_min", key_hash="h-min", hint="sk-riq-...mini")
    await store.create(minimal)
    assert await store.get("key_min") == minimal


async def test_duplicates_are_refused(store: KeyStore) -> None:
    await store.create(record(1))
    with pytest.raises(ValueError, match="already exists"):
        await store.create(record(1, key_hash="other"))
    with pytest.raises(ValueError, match="already exists"):
        await store.create(record(2, key_hash=record(1).key_hash))


async def test_list_filters_and_paginates(store: KeyStore) -> None:
    for n in range(1, 8):
        await store.create(record(n, team="t1" if n % 2 else "t2", user="u1" if n < 5 else "u2"))
    seen: list[str] = []
    after = None
    while True:
        page = await store.list_keys(limit=3, after=after)
        seen += [k.key_id for k in page.items]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == [f"key_{n:04d}" for n in range(1, 8)]
    assert [k.key_id for k in (await store.list_keys(team="t2")).items] == [
        "key_0002",
        "key_0004",
        "key_0006",
    ]
    both = await store.list_keys(team="t1", user="u2")
    assert [k.key_id for k in both.items] == ["key_0005", "key_0007"]
    exact = await store.list_keys(team="t2", limit=3)
    assert len(exact.items) == 3
    assert exact.next_cursor is None


async def test_update_changes_only_the_patched_fields(store: KeyStore) -> None:
    await store.create(record())
    patch = KeyPatch(limits=(QuotaLimit(metric="spend", window="month", limit=3.0),), budget=None)
    updated = await store.update("key_0001", patch, 1_800_000_000.0)
    expected = msgspec.structs.replace(record(), limits=patch.limits, budget=None, updated_at=1_800_000_000.0)
    assert updated == expected
    assert await store.get("key_0001") == expected
    again = await store.update("key_0001", KeyPatch(metadata={"x": 1}, expires_at=None, alias=None), 1.0)
    assert again is not None
    assert (again.metadata, again.expires_at, again.alias) == ({"x": 1}, None, None)
    assert again.allowed_models == ("demo", "gpt-4o")
    assert await store.update("key_missing", patch, 1.0) is None


async def test_rotate_replaces_the_hash(store: KeyStore) -> None:
    await store.create(record())
    rotated = await store.rotate("key_0001", "new-hash", "sk-riq-...NEW1", 1_800_000_000.0)
    assert rotated is not None
    assert (rotated.key_hash, rotated.hint) == ("new-hash", "sk-riq-...NEW1")
    assert await store.get_by_hash(record().key_hash) is None
    assert await store.get_by_hash("new-hash") == rotated
    assert await store.rotate("key_missing", "h", "x", 1.0) is None


async def test_revoke_is_idempotent_and_blocks_rotation(store: KeyStore) -> None:
    await store.create(record())
    first = await store.revoke("key_0001", 1_800_000_000.0)
    assert first is not None
    assert first.revoked_at == 1_800_000_000.0
    second = await store.revoke("key_0001", 1_900_000_000.0)
    assert second is not None
    assert second.revoked_at == 1_800_000_000.0
    assert (await store.get_by_hash(record().key_hash)) == second  # still found, to report "revoked"
    assert await store.rotate("key_0001", "h2", "x", 2.0) is None
    assert await store.revoke("key_missing", 1.0) is None


async def test_schema_is_created_once_by_concurrent_starters(make_store: Callable[[], KeyStore]) -> None:
    stores = [make_store() for _ in range(4)]
    async with anyio.create_task_group() as tg:
        for store in stores:
            tg.start_soon(store.ensure_schema)
    await stores[0].ensure_schema()  # idempotent
    await stores[1].create(record())
    assert await stores[2].get("key_0001") == record()


async def test_data_survives_reopening(make_store: Callable[[], KeyStore]) -> None:
    first = make_store()
    await first.create(record())
    await first.close()
    assert await first.get("key_0001") == record()  # a closed store reopens on use
    assert await make_store().get_by_hash(record().key_hash) == record()


async def test_concurrent_writes_from_several_stores(make_store: Callable[[], KeyStore]) -> None:
    stores = [make_store() for _ in range(3)]
    await stores[0].ensure_schema()
    async with anyio.create_task_group() as tg:
        for n in range(1, 31):
            tg.start_soon(stores[n % 3].create, record(n))
    assert len((await stores[0].list_keys(limit=100)).items) == 30


# --- adapter-specific behaviour -------------------------------------------------------------------


async def test_sqlite_uses_wal_and_records_the_schema_version(tmp_path: Path) -> None:
    store = SQLiteKeyStore(tmp_path / "k.db")
    await store.ensure_schema()
    await store.close()
    import sqlite3

    conn = sqlite3.connect(tmp_path / "k.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT component, version FROM routeiq_schema_version").fetchall() == [
            ("keys", 1)
        ]
        conn.execute("UPDATE routeiq_schema_version SET version = 99")
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(KeyStoreError, match="newer"):
        await SQLiteKeyStore(tmp_path / "k.db").ensure_schema()


async def test_sqlite_errors_are_key_store_errors(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError):
        await SQLiteKeyStore(tmp_path / "missing-dir" / "k.db").ensure_schema()


async def test_postgres_records_the_schema_version(postgres_dsn: str) -> None:
    schema = f"riq_test_{uuid.uuid4().hex[:12]}"
    store = PostgresKeyStore(postgres_dsn, schema=schema)
    conn = await asyncpg.connect(postgres_dsn, timeout=5)
    try:
        await store.ensure_schema()
        assert await conn.fetch(f"SELECT component, version FROM {schema}.routeiq_schema_version") == [
            ("keys", 1)
        ]
        await conn.execute(f"UPDATE {schema}.routeiq_schema_version SET version = 99")
        with pytest.raises(KeyStoreError, match="newer"):
            await PostgresKeyStore(postgres_dsn, schema=schema).ensure_schema()
    finally:
        await store.close()
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def test_postgres_unreachable_is_a_key_store_error() -> None:
    store = PostgresKeyStore("postgresql://postgres@127.0.0.1:1/test", timeout_s=1.0)
    with anyio.fail_after(10), pytest.raises(KeyStoreError):
        await store.get("key_1")


def test_postgres_schema_name_is_validated() -> None:
    with pytest.raises(ValueError, match="identifier"):
        PostgresKeyStore("postgresql://nobody@127.0.0.1/none", schema="x; DROP TABLE y")
