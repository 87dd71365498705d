"""The SpendLedger contract over every adapter: in memory, SQLite (a temp file), PostgreSQL (real server).

Then what the SQL ledgers add: several workers (ledger instances) sharing one database, the flush a
report and a shutdown do, database outages, the bound on the buffer and retention in the database.
PostgreSQL runs use a schema of their own, dropped afterwards; they skip locally when the server is
down and fail under CI (``postgres_dsn``, as in the key and team store suites).
"""

from __future__ import annotations

import contextlib
import logging
import math
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import asyncpg  # type: ignore[import-untyped]
import pytest

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_adapters.spend import InMemorySpendLedger, PostgresSpendLedger, SQLiteSpendLedger
from routeiq_adapters.spend._buffered import SQLSpendLedger
from routeiq_core.access import SpendFilter, SpendLedger, SpendLedgerError, SpendRecord, SpendReport

pytestmark = pytest.mark.anyio

HOUR = 3600.0
T0 = math.floor(time.time() / HOUR) * HOUR - 5 * HOUR
"""The start of an hour recent enough for the default retention (90 days) of every ledger."""


class Database:
    """One database (a SQLite file or a PostgreSQL schema) on which the test opens ledgers ("workers")."""

    def __init__(self, kind: str, *, path: Path | None = None, dsn: str = "", schema: str = "") -> None:
        self.kind, self.path, self.dsn, self.schema = kind, path, dsn, schema
        self.opened: list[SQLSpendLedger] = []

    def ledger(self, **options: Any) -> SQLSpendLedger:
        """A new ledger on this database; the flusher never runs unless the test starts it."""
        options.setdefault("flush_interval_s", 3600.0)
        ledger: SQLSpendLedger
        if self.kind == "sqlite":
            assert self.path is not None
            ledger = SQLiteSpendLedger(self.path, **options)
        else:
            ledger = PostgresSpendLedger(self.dsn, schema=self.schema, timeout_s=5.0, **options)
        self.opened.append(ledger)
        return ledger

    async def execute(self, sql: str) -> None:
        """Run a statement directly (PostgreSQL only)."""
        conn = await asyncpg.connect(self.dsn, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def open_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database of ``kind``; the ledgers opened on it are closed (flushed) afterwards."""
    if kind == "sqlite":
        (tmp_path / "db").mkdir()
        db = Database("sqlite", path=tmp_path / "db" / "routeiq-keys-spend.db")
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        db = Database("postgres", dsn=dsn, schema=f"riq_test_{uuid.uuid4().hex[:12]}")
    try:
        yield db
    finally:
        for ledger in db.opened:
            await ledger.close()
        if db.kind == "postgres":
            await db.execute(f"DROP SCHEMA IF EXISTS {db.schema} CASCADE")


@pytest.fixture
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(request.param, request, tmp_path) as db:
        yield db


MakeLedger = Callable[..., SpendLedger]


@pytest.fixture
async def make_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MakeLedger]:
    """Builds ledgers of the adapter under test (memory, or SQL on a fresh database)."""
    if request.param == "memory":
        yield lambda **options: InMemorySpendLedger(**options)
        return
    async with open_database(request.param, request, tmp_path) as db:
        yield db.ledger


@pytest.fixture
def ledger(make_ledger: MakeLedger) -> SpendLedger:
    return make_ledger()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "make_ledger" in metafunc.fixturenames:
        metafunc.parametrize("make_ledger", ["memory", "sqlite", "postgres"], indirect=True)
    if "database" in metafunc.fixturenames:
        metafunc.parametrize("database", ["sqlite", "postgres"], indirect=True)


def call(at: float = T0, group: str = "g1", cost: float = 0.1, **fields: Any) -> SpendRecord:
    fields.setdefault("prompt_tokens", 10)
    fields.setdefault("completion_tokens", 2)
    return SpendRecord(at=at, model_group=group, cost=cost, **fields)


CALLS = (
    call(key_id="k1", team="t1", cost=0.1),
    call(at=T0 + 59, key_id="k1", team="t1", group="g2", cost=0.2, prompt_tokens=20),
    call(at=T0 + HOUR, key_id="k2", team="t2", cost=0.3, completion_tokens=7),
    call(at=T0 + HOUR + 1, key_id="k2", cost=0.4),
    call(at=T0 + 2 * HOUR, cost=0.7),
)


def costs(table: dict[str, Any]) -> dict[str, float]:
    return {name: round(totals.cost, 9) for name, totals in table.items()}


def requests(report: SpendReport) -> int:
    return report.total.requests


# --- the contract: every adapter ------------------------------------------------------------------


async def test_empty_ledger_reports_zero(ledger: SpendLedger) -> None:
    report = await ledger.report(SpendFilter())
    assert (report.total.requests, report.total.cost) == (0, 0.0)
    assert (report.by_key, report.by_team, report.by_model_group) == ({}, {}, {})


async def test_report_totals_and_breakdowns(ledger: SpendLedger) -> None:
    for entry in CALLS:
        await ledger.record(entry)
    report = await ledger.report(SpendFilter())
    assert report.filter == SpendFilter()
    assert report.total.requests == 5
    assert report.total.cost == pytest.approx(1.7)
    assert (report.total.prompt_tokens, report.total.completion_tokens) == (60, 15)
    assert costs(report.by_key) == {"k1": 0.3, "k2": 0.7, "-": 0.7}
    assert costs(report.by_team) == {"t1": 0.3, "t2": 0.3, "-": 1.1}
    assert costs(report.by_model_group) == {"g1": 1.5, "g2": 0.2}
    assert {k: v.requests for k, v in report.by_key.items()} == {"k1": 2, "k2": 2, "-": 1}
    assert report.by_team["t2"].completion_tokens == 7
    assert report.by_model_group["g2"].prompt_tokens == 20


async def test_float_costs_add_up(ledger: SpendLedger) -> None:
    for _ in range(1000):
        await ledger.record(call(key_id="k", cost=0.001))
    report = await ledger.report(SpendFilter(key_id="k"))
    assert report.total.cost == pytest.approx(1.0)
    assert report.by_key["k"].cost == pytest.approx(1.0)


async def test_filters_by_key_team_group_and_hour(ledger: SpendLedger) -> None:
    for entry in CALLS:
        await ledger.record(entry)

    async def total(**fields: Any) -> tuple[int, float]:
        report = await ledger.report(SpendFilter(**fields))
        return report.total.requests, round(report.total.cost, 9)

    assert await total(key_id="k1") == (2, 0.3)
    assert await total(team="t2") == (1, 0.3)
    assert await total(model_group="g1") == (4, 1.5)
    assert await total(key_id="k2", team="t2") == (1, 0.3)
    assert await total(key_id="k1", model_group="g2") == (1, 0.2)
    assert await total(key_id="nobody") == (0, 0.0)
    # since/until select the whole hours they fall in
    assert await total(since=T0 + HOUR + 1800) == (3, 1.4)
    assert await total(until=T0 + 10) == (2, 0.3)
    assert await total(since=T0 + HOUR, until=T0 + HOUR + 1) == (2, 0.7)
    assert await total(since=T0 + 3 * HOUR) == (0, 0.0)
    filtered = await ledger.report(SpendFilter(team="t1", until=T0 + HOUR))
    assert costs(filtered.by_model_group) == {"g1": 0.1, "g2": 0.2}
    assert set(filtered.by_key) == {"k1"}


async def test_retention_drops_old_hours(make_ledger: MakeLedger) -> None:
    ledger = make_ledger(retention_hours=24)
    now = time.time()
    await ledger.record(call(at=now - 48 * HOUR, key_id="old"))
    await ledger.record(call(at=now, key_id="new"))
    report = await ledger.report(SpendFilter())
    assert set(report.by_key) == {"new"}


# --- the SQL ledgers: several workers on one database ---------------------------------------------


async def test_two_workers_see_each_others_flushed_spend(database: Database) -> None:
    one, two = database.ledger(), database.ledger()
    await one.record(call(key_id="k1"))
    await one.record(call(key_id="k1"))
    await two.record(call(key_id="k2", cost=0.25))
    assert await one.flush()
    assert await two.flush()
    for ledger in (one, two):
        report = await ledger.report(SpendFilter())
        assert requests(report) == 3
        assert costs(report.by_key) == {"k1": 0.2, "k2": 0.25}


async def test_a_report_flushes_its_own_buffer_first(database: Database) -> None:
    one, two = database.ledger(), database.ledger()
    await one.record(call(key_id="k1"))
    await two.record(call(key_id="k2"))
    assert one.pending_buckets == 1
    first = await one.report(SpendFilter())
    assert set(first.by_key) == {"k1"}  # exact for this worker; the other has not flushed yet
    assert one.pending_buckets == 0
    second = await two.report(SpendFilter())
    assert set(second.by_key) == {"k1", "k2"}


async def test_concurrent_flushes_from_several_workers_add_up(database: Database) -> None:
    ledgers = [database.ledger() for _ in range(3)]
    await ledgers[0].ensure_schema()
    for round_ in range(5):
        for n, ledger in enumerate(ledgers):
            for group in ("g1", "g2"):
                await ledger.record(call(key_id=f"k{n}", group=group, cost=0.5, at=T0 + round_))
        async with anyio.create_task_group() as tg:
            for ledger in ledgers:
                tg.start_soon(ledger.flush)
    report = await ledgers[0].report(SpendFilter())
    assert requests(report) == 30
    assert report.total.cost == pytest.approx(15.0)
    assert {k: v.requests for k, v in report.by_key.items()} == {"k0": 10, "k1": 10, "k2": 10}


async def test_close_flushes_what_is_buffered(database: Database) -> None:
    worker = database.ledger()
    await worker.record(call(key_id="k1", cost=0.5))
    await worker.close()
    assert requests(await database.ledger().report(SpendFilter())) == 1


async def test_the_background_flusher_flushes_once_more_when_stopped(database: Database) -> None:
    worker, other = database.ledger(flush_interval_s=3600.0), database.ledger()
    async with worker.flushing():
        await worker.record(call(key_id="k1"))
    assert worker.pending_buckets == 0
    assert requests(await other.report(SpendFilter())) == 1


async def test_a_failed_flush_keeps_the_totals_until_the_database_is_back(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = InMemoryMetrics()
    if database.kind == "sqlite":  # the file's directory does not exist yet: it cannot be opened
        assert database.path is not None
        database.path.parent.rmdir()
        worker = database.ledger(metrics=metrics)
    else:  # the schema disappears under an open ledger
        worker = database.ledger(metrics=metrics)
        await worker.ensure_schema()
        await database.execute(f"DROP SCHEMA {database.schema} CASCADE")

    with caplog.at_level(logging.WARNING, logger="routeiq.spend"):
        for _ in range(3):
            await worker.record(call(key_id="k1", cost=0.5))  # never raises
            assert not await worker.flush()
        with pytest.raises(SpendLedgerError) as caught:
            await worker.report(SpendFilter())
        assert caught.value.status_code == 503
        assert worker.pending_buckets == 1
        assert worker.flush_failures == 4
        assert metrics.counter("routeiq_spend_flush_failures") == 4
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1  # logged once per outage, not per attempt

        if database.kind == "sqlite":
            assert database.path is not None
            database.path.parent.mkdir()
        else:
            await database.ledger().ensure_schema()  # recreate the schema
        await worker.record(call(key_id="k2"))
        assert await worker.flush()
    assert any("back" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    report = await database.ledger().report(SpendFilter())
    assert requests(report) == 4
    assert costs(report.by_key) == {"k1": 1.5, "k2": 0.1}


async def test_a_full_buffer_drops_calls_needing_new_buckets(database: Database) -> None:
    metrics = InMemoryMetrics()
    worker = database.ledger(max_pending_buckets=2, metrics=metrics)
    for key_id in ("k1", "k2", "k3", "k1", "k2"):
        await worker.record(call(key_id=key_id))
    assert (worker.pending_buckets, worker.dropped_records) == (2, 1)
    assert metrics.counter("routeiq_spend_records_dropped") == 1
    assert await worker.flush()
    await worker.record(call(key_id="k3"))  # room again once flushed
    report = await worker.report(SpendFilter())
    assert {k: v.requests for k, v in report.by_key.items()} == {"k1": 2, "k2": 2, "k3": 1}


async def test_retention_deletes_old_hours_from_the_database(database: Database) -> None:
    now = [time.time()]
    worker = database.ledger(retention_hours=24, clock=lambda: now[0])
    await worker.record(call(at=now[0], key_id="old"))
    assert await worker.flush()
    now[0] += 30 * HOUR
    other = database.ledger(retention_hours=24, clock=lambda: now[0])
    await other.record(call(at=now[0], key_id="new"))
    assert await other.flush()  # the first flush of an hour prunes
    report = await worker.report(SpendFilter())
    assert set(report.by_key) == {"new"}


async def test_sqlite_records_the_spend_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "spend.db"
    ledger = SQLiteSpendLedger(path)
    await ledger.ensure_schema()
    await ledger.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT component, version FROM routeiq_schema_version").fetchall() == [
            ("spend", 1)
        ]
        conn.execute("UPDATE routeiq_schema_version SET version = 99 WHERE component = 'spend'")
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(SpendLedgerError, match="newer"):
        await SQLiteSpendLedger(path).ensure_schema()


async def test_postgres_unreachable_is_a_spend_ledger_error_on_report_only() -> None:
    ledger = PostgresSpendLedger("postgresql://postgres@127.0.0.1:1/test", timeout_s=1.0)
    await ledger.record(call())
    assert not await ledger.flush()
    with pytest.raises(SpendLedgerError, match="cannot connect"):
        await ledger.report(SpendFilter())
    assert ledger.pending_buckets == 1
