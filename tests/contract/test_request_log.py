"""The RequestLog contract over every adapter: in memory, SQLite (a temp file), PostgreSQL (real server).

Then what the SQL logs add: several workers (log instances) sharing one database, the flush a query
and a shutdown do, database outages, the bound on the buffer and retention in the database.
PostgreSQL runs use a schema of their own, dropped afterwards; they skip locally when the server is
down and fail under CI (``postgres_dsn``, as in the other store suites).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from routeiq_adapters._schema import VERSION_DDL, VERSION_TABLE
from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_adapters.request_log import InMemoryRequestLog, PostgresRequestLog, SQLiteRequestLog
from routeiq_adapters.request_log._buffered import SQLRequestLog
from routeiq_adapters.request_log._schema import COLUMNS, COMPONENT, to_row
from routeiq_core.errors import InvalidRequestError
from routeiq_core.request_log import (
    MAX_PAGE_SIZE,
    RequestLog,
    RequestLogError,
    RequestQuery,
    RequestRecord,
)

pytestmark = pytest.mark.anyio

DAY = 86_400.0
T0 = time.time() - 3600.0
"""Recent enough for the default retention (30 days) of every log."""


class Database:
    """One database (a SQLite file or a PostgreSQL schema) on which the test opens logs ("workers")."""

    def __init__(self, kind: str, *, path: Path | None = None, dsn: str = "", schema: str = "") -> None:
        self.kind, self.path, self.dsn, self.schema = kind, path, dsn, schema
        self.opened: list[SQLRequestLog] = []

    def log(self, **options: Any) -> SQLRequestLog:
        """A new log on this database; the flusher never runs unless the test starts it."""
        options.setdefault("flush_interval_s", 3600.0)
        log: SQLRequestLog
        if self.kind == "sqlite":
            assert self.path is not None
            log = SQLiteRequestLog(self.path, **options)
        else:
            log = PostgresRequestLog(self.dsn, schema=self.schema, timeout_s=5.0, **options)
        self.opened.append(log)
        return log

    async def execute(self, sql: str) -> None:
        """Run a statement directly (PostgreSQL only)."""
        conn = await asyncpg.connect(self.dsn, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def open_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database of ``kind``; the logs opened on it are closed (flushed) afterwards."""
    if kind == "sqlite":
        (tmp_path / "db").mkdir()
        db = Database("sqlite", path=tmp_path / "db" / "routeiq-keys-requests.db")
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        db = Database("postgres", dsn=dsn, schema=f"riq_test_{uuid.uuid4().hex[:12]}")
    try:
        yield db
    finally:
        for log in db.opened:
            await log.close()
        if db.kind == "postgres":
            await db.execute(f"DROP SCHEMA IF EXISTS {db.schema} CASCADE")


@pytest.fixture
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(request.param, request, tmp_path) as db:
        yield db


MakeLog = Callable[..., RequestLog]


@pytest.fixture
async def make_log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MakeLog]:
    """Builds logs of the adapter under test (memory, or SQL on a fresh database)."""
    if request.param == "memory":

        def memory(**options: Any) -> RequestLog:
            options.pop("flush_interval_s", None)
            return InMemoryRequestLog(**options)

        yield memory
        return
    async with open_database(request.param, request, tmp_path) as db:
        yield db.log


@pytest.fixture
def log(make_log: MakeLog) -> RequestLog:
    return make_log()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "make_log" in metafunc.fixturenames:
        metafunc.parametrize("make_log", ["memory", "sqlite", "postgres"], indirect=True)
    if "database" in metafunc.fixturenames:
        metafunc.parametrize("database", ["sqlite", "postgres"], indirect=True)


def call(at: float = T0, **fields: Any) -> RequestRecord:
    fields.setdefault("surface", "openai")
    fields.setdefault("operation", "chat")
    fields.setdefault("model", "g1")
    fields.setdefault("model_group", fields["model"])
    return RequestRecord(at=at, **fields)


FULL = RequestRecord(
    at=T0 + 0.123456789,
    request_id="req-full",
    surface="anthropic",
    operation="chat",
    status=429,
    error_type="rate_limit_error",
    key_id="k1",
    team="t1",
    model="auto",
    model_group="openai/*",
    deployment_id="openai-0",
    attempts=3,
    latency_ms=812.25,
    ttft_ms=120.5,
    prompt_tokens=1_234_567,
    completion_tokens=89,
    usage_estimated=True,
    cost=0.000123456789,
    route_reason="router: cheap; least-busy",
    trace_id="0af7651916cd43dd8448eb211c80319c",
    source_ip="2001:db8::1",
    request_body='{"messages":[{"content":"héllo ✓"}]}',
    response_body="ünïcode answer",
)

CALLS = (
    call(T0 + 1, request_id="r1", key_id="k1", team="t1", status=200),
    call(T0 + 2, request_id="r2", key_id="k1", team="t1", model="auto", model_group="g2", status=429),
    call(T0 + 3, request_id="r3", key_id="k2", team="t2", status=503),
    call(T0 + 4, request_id="r4", key_id="k2", status=200),
    call(T0 + 5, request_id="r5", status=401, model_group=None),
)


async def ids(log: RequestLog, **fields: Any) -> list[str | None]:
    page = await log.query(RequestQuery(**fields))
    return [record.request_id for record in page.records]


# --- the contract: every adapter ------------------------------------------------------------------


async def test_an_empty_log_has_an_empty_last_page(log: RequestLog) -> None:
    page = await log.query(RequestQuery())
    assert (page.records, page.next_cursor) == ([], None)


async def test_a_record_reads_back_exactly(log: RequestLog) -> None:
    await log.record(FULL)
    await log.record(call(T0, request_id="minimal"))
    page = await log.query(RequestQuery())
    assert page.records[0] == FULL
    assert page.records[1] == call(T0, request_id="minimal")
    assert page.next_cursor is None


async def test_newest_first_by_arrival_whatever_the_order_calls_ended(log: RequestLog) -> None:
    for entry in (CALLS[2], CALLS[0], CALLS[4], CALLS[1], CALLS[3]):
        await log.record(entry)
    assert await ids(log) == ["r5", "r4", "r3", "r2", "r1"]


async def test_filters(log: RequestLog) -> None:
    for entry in CALLS:
        await log.record(entry)
    assert await ids(log, key_id="k1") == ["r2", "r1"]
    assert await ids(log, team="t2") == ["r3"]
    assert await ids(log, model="g2") == ["r2"]  # the model group
    assert await ids(log, model="auto") == ["r2"]  # or the model asked for
    assert await ids(log, model="g1") == ["r5", "r4", "r3", "r1"]
    assert await ids(log, status=200) == ["r4", "r1"]
    assert await ids(log, status_class=4) == ["r5", "r2"]
    assert await ids(log, status_class=5) == ["r3"]
    assert await ids(log, since=T0 + 4) == ["r5", "r4"]  # since: inclusive
    assert await ids(log, until=T0 + 2) == ["r1"]  # until: exclusive
    assert await ids(log, since=T0 + 2, until=T0 + 4) == ["r3", "r2"]
    assert await ids(log, request_id="r3") == ["r3"]
    assert await ids(log, key_id="k2", status=200) == ["r4"]
    assert await ids(log, key_id="k1", team="t2") == []
    assert await ids(log, key_id="") == []  # what a reader without a key is confined to


async def test_pages_cover_every_record_once_ties_included(log: RequestLog) -> None:
    entries = [call(T0 + n // 3, request_id=f"r{n}") for n in range(10)]  # three calls per instant
    for entry in entries:
        await log.record(entry)
    seen: list[str | None] = []
    cursor = None
    pages = 0
    while True:
        page = await log.query(RequestQuery(limit=4, cursor=cursor))
        pages += 1
        seen += [r.request_id for r in page.records]
        assert len(page.records) <= 4
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert sorted(seen) == sorted(e.request_id for e in entries)
    assert len(seen) == len(set(seen))
    ats = [float(next(e.at for e in entries if e.request_id == rid)) for rid in seen]
    assert ats == sorted(ats, reverse=True)


async def test_a_page_exactly_full_has_no_next_page(log: RequestLog) -> None:
    for entry in CALLS[:3]:
        await log.record(entry)
    page = await log.query(RequestQuery(limit=3))
    assert (len(page.records), page.next_cursor) == (3, None)


async def test_cursors_keep_filters_and_records_arriving_meanwhile_do_not_shift_pages(
    log: RequestLog,
) -> None:
    for entry in CALLS:
        await log.record(entry)
    first = await log.query(RequestQuery(status=200, limit=1))
    assert [r.request_id for r in first.records] == ["r4"]
    await log.record(call(T0 + 9, request_id="late", status=200))
    second = await log.query(RequestQuery(status=200, limit=1, cursor=first.next_cursor))
    assert [r.request_id for r in second.records] == ["r1"]
    assert second.next_cursor is None


async def test_the_limit_is_capped(log: RequestLog) -> None:
    for n in range(MAX_PAGE_SIZE + 2):
        await log.record(call(T0 + n * 0.001, request_id=f"r{n}"))
    page = await log.query(RequestQuery(limit=10 * MAX_PAGE_SIZE))
    assert len(page.records) == MAX_PAGE_SIZE
    assert page.next_cursor is not None
    rest = await log.query(RequestQuery(limit=10 * MAX_PAGE_SIZE, cursor=page.next_cursor))
    assert len(rest.records) == 2


@pytest.mark.parametrize("cursor", ["nonsense!", "", "W10", "x" * 500, "WyJhIiwxXQ", "WzEuMCwtMV0"])
async def test_a_foreign_cursor_is_a_400(log: RequestLog, cursor: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await log.query(RequestQuery(cursor=cursor))
    assert (caught.value.status_code, caught.value.param) == (400, "cursor")


async def test_retention_forgets_old_calls(make_log: MakeLog) -> None:
    log = make_log(retention_days=1)
    now = time.time()
    await log.record(call(now - 2 * DAY, request_id="old"))
    await log.record(call(now, request_id="new"))
    assert await ids(log) == ["new"]


async def test_flushing_and_close_can_be_used_on_every_adapter(make_log: MakeLog) -> None:
    log = make_log()
    async with log.flushing():
        await log.record(call(request_id="r"))
    assert await ids(log) == ["r"]
    await log.close()


async def test_the_memory_ring_keeps_the_latest_calls() -> None:
    log = InMemoryRequestLog(max_records=3)
    for n in range(5):
        await log.record(call(T0 + n, request_id=f"r{n}"))
    assert await ids(log) == ["r4", "r3", "r2"]


# --- the SQL logs: several workers on one database ------------------------------------------------


async def test_two_workers_see_each_others_flushed_calls(database: Database) -> None:
    one, two = database.log(), database.log()
    await one.record(CALLS[0])
    await two.record(CALLS[1])
    assert await one.flush()
    assert await two.flush()
    for log in (one, two):
        assert await ids(log) == ["r2", "r1"]


async def test_a_query_flushes_its_own_buffer_first(database: Database) -> None:
    one, two = database.log(), database.log()
    await one.record(CALLS[0])
    await two.record(CALLS[1])
    assert one.pending_records == 1
    assert await ids(one) == ["r1"]  # exact for this worker; the other has not flushed yet
    assert one.pending_records == 0
    assert await ids(two) == ["r2", "r1"]


async def test_close_flushes_what_is_buffered(database: Database) -> None:
    worker = database.log()
    await worker.record(CALLS[0])
    await worker.close()
    assert await ids(database.log()) == ["r1"]


async def test_the_background_flusher_flushes_once_more_when_stopped(database: Database) -> None:
    worker, other = database.log(), database.log()
    async with worker.flushing():
        await worker.record(CALLS[0])
    assert worker.pending_records == 0
    assert await ids(other) == ["r1"]


async def break_database(database: Database, worker: SQLRequestLog) -> None:
    if database.kind == "sqlite":  # the file's directory disappears: it cannot be opened
        assert database.path is not None
        database.path.parent.rmdir()
    else:  # the schema disappears under an open log
        await worker.ensure_schema()
        await database.execute(f"DROP SCHEMA {database.schema} CASCADE")


async def mend_database(database: Database) -> None:
    if database.kind == "sqlite":
        assert database.path is not None
        database.path.parent.mkdir()
    else:
        await database.log().ensure_schema()  # recreates the schema


async def test_a_failed_flush_keeps_the_calls_until_the_database_is_back(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = InMemoryMetrics()
    worker = database.log(metrics=metrics)
    await break_database(database, worker)
    with caplog.at_level(logging.WARNING, logger="routeiq.request_log"):
        for entry in CALLS[:3]:
            await worker.record(entry)  # never raises
            assert not await worker.flush()
        with pytest.raises(RequestLogError) as caught:
            await worker.query(RequestQuery())
        assert caught.value.status_code == 503
        assert worker.pending_records == 3
        assert worker.flush_failures == 4
        assert metrics.counter("routeiq_request_log_flush_failures") == 4
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1  # logged once per outage, not per attempt
        await mend_database(database)
        await worker.record(CALLS[3])
        assert await worker.flush()
    assert any("back" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert await ids(database.log()) == ["r4", "r3", "r2", "r1"]


async def test_a_full_buffer_drops_the_oldest_calls_and_counts_them(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = InMemoryMetrics()
    worker = database.log(max_pending=3, metrics=metrics)
    await break_database(database, worker)
    with caplog.at_level(logging.WARNING, logger="routeiq.request_log"):
        await worker.record(CALLS[0])
        await worker.record(CALLS[1])
        assert not await worker.flush()  # the batch goes back ahead of newer calls
        for entry in CALLS[2:]:
            await worker.record(entry)
    assert (worker.pending_records, worker.dropped_records) == (3, 2)
    assert metrics.counter("routeiq_request_log_records_dropped") == 2
    drops = [r for r in caplog.records if "oldest are dropped" in r.getMessage()]
    assert [r.levelno for r in drops] == [logging.WARNING]  # once per outage
    await mend_database(database)
    assert await ids(worker) == ["r5", "r4", "r3"]


async def test_a_batch_put_back_keeps_the_bound(database: Database) -> None:
    worker = database.log(max_pending=3)
    for entry in CALLS[:2]:
        await worker.record(entry)
    batch = worker._take()  # a flush took these two, and then failed ...
    for entry in CALLS[2:4]:
        await worker.record(entry)  # ... while two more calls came in
    worker._restore(batch)
    assert (worker.pending_records, worker.dropped_records) == (3, 1)
    assert await ids(worker) == ["r4", "r3", "r2"]


async def test_retention_deletes_old_calls_from_the_database(database: Database) -> None:
    now = time.time()
    keeper = database.log(retention_days=30)
    await keeper.record(call(now - 2 * DAY, request_id="old"))
    assert await keeper.flush()
    assert await ids(keeper) == ["old"]
    pruner = database.log(retention_days=1)
    await pruner.record(call(now, request_id="new"))
    assert await pruner.flush()  # the first flush of an hour prunes
    assert await ids(keeper) == ["new"]


async def test_text_the_database_refuses_is_stored_legibly(database: Database) -> None:
    worker = database.log()
    await worker.record(call(request_id="nul", model="a\x00b", request_body="x\x00y"))
    [stored] = (await worker.query(RequestQuery())).records
    assert (stored.model, stored.request_body) == ("a\ufffdb", "x\ufffdy")


def test_the_table_has_a_column_per_record_field() -> None:
    # A new field needs a schema step that adds its column (and a longer COLUMNS).
    assert RequestRecord.__struct_fields__ == COLUMNS


async def test_sqlite_records_the_request_log_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "requests.db"
    log = SQLiteRequestLog(path)
    await log.ensure_schema()
    await log.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT component, version FROM routeiq_schema_version").fetchall() == [
            ("requests", 2)
        ]
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(routeiq_requests)")}
        assert {"routeiq_requests_at", "routeiq_requests_key", "routeiq_requests_team"} <= indexes
        assert "routeiq_requests_response" in indexes
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM routeiq_requests WHERE key_id = 'k' "
                "ORDER BY at DESC, id DESC LIMIT 5"
            )
        )
        assert "routeiq_requests_key" in plan
        conn.execute("UPDATE routeiq_schema_version SET version = 99 WHERE component = 'requests'")
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(RequestLogError, match="newer"):
        await SQLiteRequestLog(path).ensure_schema()


async def test_a_version_1_sqlite_log_migrates_and_keeps_its_records(tmp_path: Path) -> None:
    path = tmp_path / "requests.db"
    conn = sqlite3.connect(path)
    try:  # the table as schema version 1 wrote it, with one record
        for statement in COMPONENT.steps(COMPONENT.table, "REAL")[0]:
            conn.execute(statement)
        conn.execute(VERSION_DDL.format(table=VERSION_TABLE))
        conn.execute("INSERT INTO routeiq_schema_version VALUES ('requests', 1)")
        old_columns = COLUMNS[: COLUMNS.index("response_id")]
        marks = ", ".join("?" * len(old_columns))
        conn.execute(
            f"INSERT INTO routeiq_requests ({', '.join(old_columns)}) VALUES ({marks})",
            to_row(call(request_id="old"))[: len(old_columns)],
        )
        conn.commit()
    finally:
        conn.close()
    log = SQLiteRequestLog(path)
    await log.record(call(request_id="new", response_id="chatcmpl-9"))
    [found] = (await log.query(RequestQuery(response_id="chatcmpl-9"))).records
    assert found.request_id == "new"
    [old] = (await log.query(RequestQuery(request_id="old"))).records
    assert old.response_id is None
    await log.close()


async def test_postgres_unreachable_is_a_request_log_error_on_query_only() -> None:
    log = PostgresRequestLog("postgresql://postgres@127.0.0.1:1/test", timeout_s=1.0)
    await log.record(call())
    assert not await log.flush()
    with pytest.raises(RequestLogError, match="cannot connect"):
        await log.query(RequestQuery())
    assert log.pending_records == 1
