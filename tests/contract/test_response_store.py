"""The ResponseStore contract, run against every adapter: memory, SQLite (a temp file), PostgreSQL.

PostgreSQL runs use a schema of their own, dropped afterwards; they skip locally when the server is
down and fail under CI (``postgres_dsn``). Two store instances on one database stand for two workers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from routeiq_adapters.responses import InMemoryResponseStore, PostgresResponseStore, SQLiteResponseStore
from routeiq_core.access import Principal
from routeiq_core.responses import ResponseStore, StoredResponse, may_access
from tests.support.store_openers import store_openers

pytestmark = pytest.mark.anyio
NOW = 1_800_000_000.0

Opener = Callable[[], ResponseStore]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens store instances on one database (the memory adapter: always the same instance)."""
    async with store_openers(
        request,
        tmp_path,
        memory=lambda: InMemoryResponseStore(max_records=3),
        sqlite=lambda path: SQLiteResponseStore(path),
        postgres=lambda dsn, schema: PostgresResponseStore(dsn, schema=schema, timeout_s=5.0),
        prefix="riq_responses",
    ) as opener:
        yield opener


def record(
    response_id: str = "resp_1", *, owner: str | None = "key-a", expires_at: float = NOW + 60
) -> StoredResponse:
    return StoredResponse(
        id=response_id,
        owner=owner,
        created_at=NOW,
        expires_at=expires_at,
        conversation_id="resp_0",
        items=b'[{"type":"message","role":"user","content":"hi \\u0000 \xc3\xa9"}]',
        response=b'{"id":"' + response_id.encode() + b'"}',
    )


async def test_put_then_get_from_another_instance(open_store: Opener) -> None:
    writer, reader = open_store(), open_store()
    await writer.ensure_schema()
    stored = record()
    await writer.put(stored)
    assert await reader.get("resp_1", NOW) == stored
    assert await reader.get("resp_missing", NOW) is None


async def test_owner_none_round_trips(open_store: Opener) -> None:
    store = open_store()
    await store.put(record(owner=None))
    found = await store.get("resp_1", NOW)
    assert found is not None
    assert found.owner is None


async def test_put_replaces(open_store: Opener) -> None:
    store = open_store()
    await store.put(record())
    await store.put(record(owner="key-b"))
    found = await store.get("resp_1", NOW)
    assert found is not None
    assert found.owner == "key-b"


async def test_expired_is_gone_and_pruned(open_store: Opener) -> None:
    store = open_store()
    await store.put(record("resp_old", expires_at=NOW - 1))
    await store.put(record("resp_new"))
    assert await store.get("resp_old", NOW) is None
    assert await store.prune(NOW) == 1
    assert await store.prune(NOW) == 0
    assert await store.get("resp_new", NOW) is not None


async def test_delete(open_store: Opener) -> None:
    store = open_store()
    await store.put(record())
    assert await store.delete("resp_1") is True
    assert await store.get("resp_1", NOW) is None
    assert await store.delete("resp_1") is False


def test_only_the_owner_or_an_admin_may_access() -> None:
    mine = record(owner="key-a")
    key_a = Principal(kind="virtual_key", role="member", key_id="key-a")
    key_b = Principal(kind="virtual_key", role="member", key_id="key-b")
    assert may_access(key_a, mine)
    assert not may_access(key_b, mine)
    assert may_access(Principal.admin(), mine)
    assert not may_access(key_a, record(owner=None))


async def test_memory_is_bounded() -> None:
    store = InMemoryResponseStore(max_records=2)
    for i in range(3):
        await store.put(record(f"resp_{i}"))
    assert await store.get("resp_0", NOW) is None
    assert await store.get("resp_2", NOW) is not None
