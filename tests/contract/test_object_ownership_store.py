"""The ObjectOwnershipStore contract, run against every adapter: memory, SQLite (a temp file), PostgreSQL.

PostgreSQL runs use a schema of their own, dropped afterwards; they skip locally when the server is
down and fail under CI (``postgres_dsn``). Two store instances on one database stand for two workers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from routeiq_adapters.provider_objects import (
    InMemoryObjectOwnershipStore,
    PostgresObjectOwnershipStore,
    SQLiteObjectOwnershipStore,
)
from routeiq_core.provider_objects import ObjectKind, ObjectOwnershipStore, OwnedObject
from tests.support.store_openers import store_openers

pytestmark = pytest.mark.anyio
NOW = 1_800_000_000.0

Opener = Callable[[], ObjectOwnershipStore]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens store instances on one database (the memory adapter: always the same instance)."""
    async with store_openers(
        request,
        tmp_path,
        memory=lambda: InMemoryObjectOwnershipStore(max_records=50),
        sqlite=lambda path: SQLiteObjectOwnershipStore(path),
        postgres=lambda dsn, schema: PostgresObjectOwnershipStore(dsn, schema=schema, timeout_s=5.0),
        prefix="riq_objects",
    ) as opener:
        yield opener


def record(
    object_id: str = "file-1",
    *,
    kind: ObjectKind = "file",
    owner: str | None = "key-a",
    created_at: float = NOW,
    purpose: str = "batch",
) -> OwnedObject:
    return OwnedObject(
        kind=kind,
        id=object_id,
        owner=owner,
        team="t1" if owner else None,
        deployment_id="files-0",
        model="files",
        created_at=created_at,
        purpose=purpose,
        status="processed",
        body=b'{"id":"' + object_id.encode() + b'","note":"\\u0000 \xc3\xa9"}',
    )


async def test_put_then_get_from_another_instance(open_store: Opener) -> None:
    writer, reader = open_store(), open_store()
    await writer.ensure_schema()
    stored = record()
    await writer.put(stored)
    assert await reader.get("file", "file-1") == stored
    assert await reader.get("batch", "file-1") is None  # the kind is part of the key
    assert await reader.get("file", "file-missing") is None


async def test_put_replaces_and_update_refreshes_only_existing_records(open_store: Opener) -> None:
    store = open_store()
    await store.ensure_schema()
    await store.put(record(owner="key-a"))
    await store.put(record(owner="key-b"))
    assert (await store.get("file", "file-1")) == record(owner="key-b")
    assert await store.update("file", "file-1", status="deleted", body=b'{"x":1}')
    updated = await store.get("file", "file-1")
    assert updated is not None
    assert (updated.status, updated.body, updated.owner) == ("deleted", b'{"x":1}', "key-b")
    assert not await store.update("file", "file-none", status="x", body=b"{}")
    assert await store.get("file", "file-none") is None


async def test_delete_says_whether_there_was_a_record(open_store: Opener) -> None:
    store = open_store()
    await store.ensure_schema()
    await store.put(record())
    await store.put(record(kind="batch", object_id="file-1"))
    assert await store.delete("file", "file-1")
    assert not await store.delete("file", "file-1")
    assert await store.get("file", "file-1") is None
    assert await store.get("batch", "file-1") is not None


async def test_list_is_newest_first_per_owner_with_pages(open_store: Opener) -> None:
    store = open_store()
    await store.ensure_schema()
    for n in range(5):
        await store.put(record(f"file-{n}", created_at=NOW + n))
    await store.put(record("file-tie", created_at=NOW + 4))  # same time as file-4: ids order them
    await store.put(record("file-b", owner="key-b", created_at=NOW + 10))
    await store.put(record("file-master", owner=None, created_at=NOW + 11))
    await store.put(record("batch-a", kind="batch", created_at=NOW + 12))
    mine = await store.list("file", owner="key-a", limit=10)
    assert [r.id for r in mine] == ["file-tie", "file-4", "file-3", "file-2", "file-1", "file-0"]
    first = await store.list("file", owner="key-a", limit=3)
    assert [r.id for r in first] == ["file-tie", "file-4", "file-3"]
    last = first[-1]
    rest = await store.list("file", owner="key-a", before=(last.created_at, last.id), limit=10)
    assert [r.id for r in rest] == ["file-2", "file-1", "file-0"]
    tie = await store.list("file", owner="key-a", before=(NOW + 4, "file-tie"), limit=1)
    assert [r.id for r in tie] == ["file-4"]
    assert [r.id for r in await store.list("file", owner=None)] == ["file-master"]
    everyone = await store.list("file", owner="ignored", everyone=True, limit=3)
    assert [r.id for r in everyone] == ["file-master", "file-b", "file-tie"]
    assert [r.id for r in await store.list("batch", owner="key-a")] == ["batch-a"]
    assert await store.list("file", owner="key-c") == []


async def test_list_filters_by_purpose(open_store: Opener) -> None:
    store = open_store()
    await store.ensure_schema()
    await store.put(record("file-1", purpose="batch"))
    await store.put(record("file-2", purpose="fine-tune", created_at=NOW + 1))
    found = await store.list("file", owner="key-a", purpose="fine-tune")
    assert [r.id for r in found] == ["file-2"]
    assert await store.list("file", owner="key-a", purpose="vision") == []


async def test_values_that_look_like_sql_are_only_values(open_store: Opener) -> None:
    store = open_store()
    await store.ensure_schema()
    hostile = "file-'; DROP TABLE routeiq_provider_objects; --"
    await store.put(record(hostile, owner="key-'a"))
    assert (await store.get("file", hostile)) == record(hostile, owner="key-'a")
    assert [r.id for r in await store.list("file", owner="key-'a")] == [hostile]


async def test_the_memory_store_keeps_its_bound() -> None:
    store = InMemoryObjectOwnershipStore(max_records=2)
    for n in range(3):
        await store.put(record(f"file-{n}"))
    assert await store.get("file", "file-0") is None
    assert [r.id for r in await store.list("file", owner="key-a")] == ["file-2", "file-1"]
