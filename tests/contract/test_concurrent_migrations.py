"""Many replicas migrating one PostgreSQL schema at the same moment: they migrate once, and all start.

A barrier makes "at the same moment" real: the test holds the migration advisory lock while the
processes start, releases it only once every one of them is queued on it, so they all go for the
empty schema together (without it, a process that imports faster migrates before the next arrives).
Each test has a fresh schema, dropped afterwards; they skip locally when PostgreSQL is down and fail
under CI (``postgres_dsn``).
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread
import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from anyio.abc import ByteReceiveStream, Process

from routeiq_adapters._postgres import MIGRATION_LOCK
from routeiq_adapters._schema import VERSION_TABLE
from routeiq_adapters.audit._codec import COMPONENT as AUDIT
from routeiq_adapters.feedback._schema import COMPONENT as FEEDBACK
from routeiq_adapters.keys._codec import COMPONENT as KEYS
from routeiq_adapters.provider_objects._schema import COMPONENT as PROVIDER_OBJECTS
from routeiq_adapters.request_log._schema import COMPONENT as REQUESTS
from routeiq_adapters.responses._schema import COMPONENT as RESPONSES
from routeiq_adapters.spend._schema import COMPONENT as SPEND
from routeiq_adapters.teams._codec import COMPONENT as TEAMS
from routeiq_app.cli_migrate import latest_version, postgres_endpoint
from tests.support.gateway_process import GatewayProcess, clean_env

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
MIGRATORS = 6
GATEWAYS = 3
MASTER = "sk-master-concurrent-migrations"
COMPONENTS = (KEYS, TEAMS, SPEND, REQUESTS, AUDIT, RESPONSES, PROVIDER_OBJECTS, FEEDBACK)
EXPECTED_VERSIONS = {c.name: latest_version(c) for c in COMPONENTS}
EXPECTED_TABLES = {VERSION_TABLE} | {c.table for c in COMPONENTS}
WAITING = """
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND NOT l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.objid = (hashtext($1)::bigint & 4294967295)::oid
"""


@pytest.fixture
async def schema(postgres_dsn: str) -> AsyncIterator[str]:
    name = f"riq_migrate_{uuid.uuid4().hex[:12]}"
    yield name
    conn = await asyncpg.connect(postgres_dsn, timeout=5)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    finally:
        await conn.close()


def named(dsn: str, application_name: str) -> str:
    """``dsn`` with an application name, so the barrier counts this test's processes only."""
    return f"{dsn}{'&' if '?' in dsn else '?'}application_name={application_name}"


def keys_config(dsn: str, schema: str) -> str:
    # The lock wait counts against the statement timeout: leave room for the barrier.
    return f"keys: {{backend: postgres, postgres_dsn: '{dsn}', postgres_schema: {schema}, timeout_s: 60}}\n"


@asynccontextmanager
async def migration_lock_held(dsn: str) -> AsyncIterator[Callable[[], Awaitable[list[str]]]]:
    """Hold the stores' migration lock; yields a probe listing who waits for it (application names)."""
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", MIGRATION_LOCK)

        async def waiting() -> list[str]:
            return [row[0] for row in await conn.fetch(WAITING, MIGRATION_LOCK)]

        yield waiting
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", MIGRATION_LOCK)
    finally:
        await conn.close()


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await anyio.sleep(0.05)


async def communicate(proc: Process) -> tuple[int, str, str]:
    """Wait for ``proc``; its exit status, standard output and standard error."""
    out: list[bytes] = []
    err: list[bytes] = []

    async def drain(stream: ByteReceiveStream | None, into: list[bytes]) -> None:
        assert stream is not None
        async for chunk in stream:
            into.append(chunk)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as reading:
            reading.start_soon(drain, proc.stdout, out)
            reading.start_soon(drain, proc.stderr, err)
        code = await proc.wait()
    return code, b"".join(out).decode(), b"".join(err).decode()


async def stored_schema(dsn: str, schema: str) -> tuple[set[str], list[tuple[str, int]]]:
    """The tables of ``schema`` and every row of its version table."""
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )
        rows = await conn.fetch(f"SELECT component, version FROM {schema}.{VERSION_TABLE}")
    finally:
        await conn.close()
    return {r[0] for r in tables}, sorted((r[0], r[1]) for r in rows)


def assert_migrated_once(found: tuple[set[str], list[tuple[str, int]]]) -> None:
    tables, rows = found
    assert tables >= EXPECTED_TABLES
    assert rows == sorted(EXPECTED_VERSIONS.items())  # exactly one row per component, current version


@pytest.mark.parametrize("start", ["no schema", "empty schema"])
async def test_six_migrate_commands_at_once_migrate_once(
    postgres_dsn: str, schema: str, tmp_path: Path, start: str
) -> None:
    if start == "empty schema":
        conn = await asyncpg.connect(postgres_dsn, timeout=5)
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.close()
    config = tmp_path / "routeiq.yaml"
    config.write_text(keys_config(named(postgres_dsn, schema), schema))
    command = [sys.executable, "-m", "routeiq_app.cli", "migrate", "--config", str(config), "--wait", "30"]
    procs: list[Process] = []
    try:
        async with migration_lock_held(postgres_dsn) as waiting:
            procs = [await anyio.open_process(command, env=clean_env()) for _ in range(MIGRATORS)]

            async def all_queued() -> bool:
                assert all(p.returncode is None for p in procs), "a migrate command ended before the barrier"
                return (await waiting()).count(schema) == MIGRATORS

            await until(all_queued, f"{MIGRATORS} migrate commands queued on the migration lock")
        results = [await communicate(proc) for proc in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    expected = [
        f"{name}: postgres {postgres_endpoint(postgres_dsn)} schema {schema} at version {version}"
        for name, version in EXPECTED_VERSIONS.items()
    ]
    for code, out, err in results:
        assert code == 0, err
        assert out.splitlines() == expected
    assert_migrated_once(await stored_schema(postgres_dsn, schema))
    with anyio.fail_after(60):
        again = await anyio.run_process(command, env=clean_env(), check=False)
    assert (again.returncode, again.stdout.decode().splitlines()) == (0, expected)
    assert_migrated_once(await stored_schema(postgres_dsn, schema))


async def test_three_gateways_starting_at_once_share_one_key_store(
    postgres_dsn: str, schema: str, tmp_path: Path
) -> None:
    config = tmp_path / "routeiq.yaml"
    config.write_text("model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\n")
    config.write_text(config.read_text() + keys_config(postgres_dsn, schema))
    names = [f"{schema}_{n}" for n in range(GATEWAYS)]
    gateways = [
        GatewayProcess(
            config,
            # Same config; only the connection's application name differs, so the barrier can tell
            # the gateways apart (each opens several pools at startup).
            env={
                "ROUTEIQ_SECURITY__MASTER_KEY": MASTER,
                "ROUTEIQ_KEYS__POSTGRES_DSN": named(postgres_dsn, name),
            },
            ready_timeout_s=90,
        )
        for name in names
    ]
    try:
        # Leaving the block releases the lock first, then waits for every gateway to be live.
        async with anyio.create_task_group() as starting, migration_lock_held(postgres_dsn) as waiting:
            for gateway in gateways:
                starting.start_soon(anyio.to_thread.run_sync, gateway.__enter__)

            async def all_queued() -> bool:
                return set(names) <= set(await waiting())

            await until(all_queued, f"{GATEWAYS} gateways queued on the migration lock")
        async with httpx.AsyncClient(timeout=30) as client:
            for gateway in gateways:

                async def ready(gateway: GatewayProcess = gateway) -> bool:
                    return (await client.get(f"{gateway.base_url}/health/ready")).status_code == 200

                await until(ready, f"{gateway.base_url}/health/ready")
            admin = {"Authorization": f"Bearer {MASTER}"}
            created = await client.post(
                f"{gateways[0].base_url}/admin/keys", json={"models": ["demo"]}, headers=admin
            )
            assert created.status_code == 201, created.text
            key, key_id = created.json()["key"], created.json()["key_id"]
            for gateway in gateways[1:]:
                reply = await client.post(
                    f"{gateway.base_url}/v1/chat/completions",
                    json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
                    headers={"Authorization": f"Bearer {key}"},
                )
                assert reply.status_code == 200, (reply.text, gateway.log())
                listed = await client.get(f"{gateway.base_url}/admin/keys", headers=admin)
                assert [k["key_id"] for k in listed.json()["data"]] == [key_id]
    finally:
        for gateway in gateways:
            if gateway.proc is not None:
                gateway.__exit__(None, None, None)
    assert_migrated_once(await stored_schema(postgres_dsn, schema))
