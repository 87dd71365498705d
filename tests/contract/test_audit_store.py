"""The AuditStore contract, against every adapter: memory, SQLite (a temp file), PostgreSQL (real).

One writer at a time, whatever contends: many tasks of one process, several processes on one SQLite
file or one PostgreSQL schema. The chain that comes out has no gap, no fork and verifies.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import asyncpg  # type: ignore[import-untyped]
import pytest

from routeiq_adapters.audit import InMemoryAuditStore, PostgresAuditStore, SQLiteAuditStore
from routeiq_core.audit import AuditEvent, AuditQuery, AuditStore, ChainHead, StoredCheckpoint, verify_log

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[2]


class Target:
    """Where a test's stores live: a factory of stores on one database, and the writer's arguments."""

    def __init__(self, kind: str, make: Callable[[], AuditStore], argv: list[str]) -> None:
        self.kind = kind
        self.make = make
        self.argv = argv


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    opened: list[AuditStore] = []

    def keep(store: AuditStore) -> AuditStore:
        opened.append(store)
        return store

    schema = f"riq_audit_{uuid.uuid4().hex[:12]}"
    dsn = ""
    if request.param == "memory":
        shared = InMemoryAuditStore()
        found = Target("memory", lambda: shared, [])
    elif request.param == "sqlite":
        path = tmp_path / "audit.db"
        found = Target("sqlite", lambda: keep(SQLiteAuditStore(path)), ["sqlite", str(path)])
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        found = Target(
            "postgres",
            lambda: keep(PostgresAuditStore(dsn, schema=schema, timeout_s=30)),
            ["postgres", dsn, schema],
        )
    try:
        yield found
    finally:
        for store in opened:
            await store.close()
        if dsn:
            conn = await asyncpg.connect(dsn, timeout=5)
            try:
                await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            finally:
                await conn.close()


def event(n: int, action: str = "key.issue", actor: str = "master") -> AuditEvent:
    return AuditEvent(at=1000.0 + n, action=action, actor=actor, target=f"t{n}")


async def test_appends_chain_in_order_and_read_back_as_stored(target: Target) -> None:
    store = target.make()
    await store.ensure_schema()
    assert await store.head() == ChainHead()
    head = await store.append([event(0), event(1)])
    head = await store.append([event(2)])
    assert head.size == 3
    assert await store.head() == head
    entries = await store.entries(0, 10)
    assert [e.seq for e in entries] == [0, 1, 2]
    assert [e.event() for e in entries] == [event(0), event(1), event(2)]
    assert entries[2].entry_hash == head.last_hash
    assert [e.seq for e in await store.entries(1, 1)] == [1]
    assert await store.entries(3, 10) == []


async def test_search_filters_by_action_actor_and_time(target: Target) -> None:
    store = target.make()
    await store.append(
        [event(0), event(1, "key.rotate", "key_a"), event(2, "team.create"), event(3, "key.revoke", "key_a")]
    )

    async def seqs(**filters: object) -> list[int]:
        return [e.seq for e in await store.search(AuditQuery(**filters))]  # type: ignore[arg-type]

    assert await seqs() == [0, 1, 2, 3]
    assert await seqs(action="key.*") == [0, 1, 3]
    assert await seqs(action="key.rotate") == [1]
    assert await seqs(action="key") == []
    assert await seqs(actor="key_a") == [1, 3]
    assert await seqs(since=1001.0, until=1002.0) == [1, 2]
    assert await seqs(start=2, limit=1) == [2]
    assert await seqs(action="key.*", actor="key_a", start=2) == [3]


async def test_checkpoints_are_kept_in_order_and_the_largest_is_the_latest(target: Target) -> None:
    store = target.make()
    assert await store.latest_checkpoint() is None
    for size, note in ((0, "a\n"), (4, "b\n"), (4, "c\n"), (2, "d\n")):
        await store.add_checkpoint(StoredCheckpoint(size=size, note=note, at=float(size)))
    stored = await store.checkpoints()
    assert [(c.size, c.note) for c in stored] == [(0, "a\n"), (4, "b\n"), (4, "c\n"), (2, "d\n")]
    assert [c.note for c in await store.checkpoints(after_id=stored[1].id, limit=1)] == ["c\n"]
    latest = await store.latest_checkpoint()
    assert latest is not None
    assert (latest.size, latest.note) == (4, "c\n")


async def test_many_tasks_and_stores_at_once_never_fork_the_chain(target: Target) -> None:
    stores = [target.make() for _ in range(4)]  # four workers' connections to one database

    async def writer(n: int) -> None:
        await stores[n % 4].append([event(n, actor=f"w{n}") for _ in range(1 + n % 3)])

    async with anyio.create_task_group() as tg:
        for n in range(60):
            tg.start_soon(writer, n)
    expected = sum(1 + n % 3 for n in range(60))
    entries = await stores[0].entries(0, 1000)
    assert [e.seq for e in entries] == list(range(expected))
    assert (await stores[1].head()).size == expected
    result = await verify_log(stores[2], [])
    assert (result.ok, result.size) == (True, expected), result.reason


@pytest.mark.parametrize("target", ["sqlite", "postgres"], indirect=True)  # memory lives in one process
async def test_several_processes_append_to_one_log_in_turn(target: Target) -> None:
    store = target.make()
    await store.ensure_schema()  # created once here, as `routeiq migrate` would
    commands = [
        [sys.executable, "-m", "tests.support.audit_writer", *target.argv, "40", f"proc{p}"] for p in range(4)
    ]
    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for command in commands:
                tg.start_soon(lambda c=command: anyio.run_process(c, cwd=REPO, check=True))
    per_process = sum(1 + n % 2 for n in range(40))
    entries = await store.entries(0, 10_000)
    assert [e.seq for e in entries] == list(range(4 * per_process))
    targets = [e.event().target for e in entries]
    assert len(set(targets)) == len(targets)  # every event once
    result = await verify_log(store, [])
    assert (result.ok, result.size) == (True, 4 * per_process), result.reason
