"""``routeiq audit verify`` on tampered logs: each kind of tampering fails with its index.

A log of 30 entries, checkpointed every 8 and at the end, with every checkpoint also copied to an
external file, is written by the real trail to SQLite or PostgreSQL; then SQL changes it the way an
intruder with database access would, and the CLI (a subprocess, offline) must say where.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import asyncpg  # type: ignore[import-untyped]
import pytest

from routeiq_adapters.audit import (
    Ed25519CheckpointSigner,
    FileCheckpointSink,
    PostgresAuditStore,
    SQLiteAuditStore,
)
from routeiq_core.audit import AuditEvent, AuditStore, AuditTrail, Checkpointer
from tests.support.gateway_process import clean_env

ORIGIN = "test.example/audit"
SIZE = 30
LOG, CHECKPOINTS = "routeiq_audit_log", "routeiq_audit_checkpoints"


class Log:
    """A written log: how to reach it with SQL and with the CLI."""

    def __init__(self, kind: str, where: list[str], copy: Path, signer: Ed25519CheckpointSigner) -> None:
        self.kind = kind
        self.where = where
        self.copy = copy
        self.signer = signer
        self.prefix = "" if kind == "sqlite" else f"{where[3]}."

    def sql(self, *statements: tuple[str, tuple[object, ...]]) -> None:
        if self.kind == "sqlite":
            with sqlite3.connect(self.where[1]) as conn:
                for statement, args in statements:
                    conn.execute(statement.replace("$1", "?"), args)
            return

        async def run() -> None:
            conn = await asyncpg.connect(self.where[1], timeout=10)
            try:
                async with conn.transaction():
                    for statement, args in statements:
                        await conn.execute(statement, *args)
            finally:
                await conn.close()

        anyio.run(run)

    def verify(self, *extra: str, keys: tuple[str, ...] | None = None) -> tuple[int, dict[str, object]]:
        trusted = keys if keys is not None else (self.signer.verifier_key,)
        args = [*self.where, *(a for k in trusted for a in ("--key", k)), "--json", *extra]
        done = subprocess.run(
            [sys.executable, "-m", "routeiq_app.cli", "audit", "verify", *args],
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=60,
        )
        assert done.stderr == "", done.stderr
        return done.returncode, json.loads(done.stdout)


async def write(store: AuditStore, signer: Ed25519CheckpointSigner, copy: Path, size: int = SIZE) -> None:
    checkpoints = Checkpointer(store, signer, origin=ORIGIN, sink=FileCheckpointSink(copy), every_entries=8)
    trail = AuditTrail(store, checkpoints)
    for n in range(size):
        await trail.record(AuditEvent(at=1000.0 + n, action="key.issue", actor="master", target=f"key_{n}"))
    await checkpoints.write(await store.head())
    await store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    signer = Ed25519CheckpointSigner.generate(ORIGIN)
    copy = tmp_path / "checkpoints.txt"
    if request.param == "sqlite":
        path = tmp_path / "audit.db"
        anyio.run(write, SQLiteAuditStore(path), signer, copy)
        yield Log("sqlite", ["--sqlite", str(path)], copy, signer)
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"riq_audit_{uuid.uuid4().hex[:12]}"
    anyio.run(write, PostgresAuditStore(dsn, schema=schema, timeout_s=30), signer, copy)
    try:
        yield Log("postgres", ["--postgres", dsn, "--schema", schema], copy, signer)
    finally:
        anyio.run(_drop, dsn, schema)


async def _drop(dsn: str, schema: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()


def test_an_untouched_log_verifies_with_its_external_copy(log: Log) -> None:
    code, result = log.verify("--checkpoint", str(log.copy))
    assert code == 0, result
    assert result["ok"] is True
    assert (result["size"], result["checkpoints"], result["external_checkpoints"]) == (SIZE, 4, 4)


def test_flipping_one_byte_fails_at_that_entry(log: Log) -> None:
    table = f"{log.prefix}{LOG}"
    body = _body(log, 13)
    flipped = bytearray(body)
    flipped[len(flipped) // 2] ^= 0x20
    log.sql((f"UPDATE {table} SET body = $1 WHERE seq = 13", (bytes(flipped),)))
    code, result = log.verify()
    assert (code, result["ok"], result["index"]) == (1, False, 13), result


def test_deleting_an_entry_fails_at_its_index(log: Log) -> None:
    log.sql((f"DELETE FROM {log.prefix}{LOG} WHERE seq = 17", ()))
    code, result = log.verify()
    assert (code, result["index"]) == (1, 17), result
    assert "missing" in str(result["reason"])


def test_reordering_two_entries_fails_at_the_first(log: Log) -> None:
    table = f"{log.prefix}{LOG}"
    log.sql(
        (f"UPDATE {table} SET seq = -1 WHERE seq = 5", ()),
        (f"UPDATE {table} SET seq = 5 WHERE seq = 21", ()),
        (f"UPDATE {table} SET seq = 21 WHERE seq = -1", ()),
    )
    code, result = log.verify()
    assert (code, result["index"]) == (1, 5), result


def test_truncating_the_tail_fails_against_the_external_copy(log: Log) -> None:
    log.sql(
        (f"DELETE FROM {log.prefix}{LOG} WHERE seq >= 26", ()),
        (f"DELETE FROM {log.prefix}{CHECKPOINTS} WHERE size > 26", ()),  # the intruder hides its tracks
    )
    code, result = log.verify()
    assert code == 0, result  # without a copy, a clean cut at the end looks like a shorter log
    code, result = log.verify("--checkpoint", str(log.copy))
    assert (code, result["index"]) == (1, 26), result
    assert "cut off" in str(result["reason"])


def test_a_log_signed_by_a_rotated_key_needs_the_old_key_too(tmp_path: Path) -> None:
    log = Log(
        "sqlite",
        ["--sqlite", str(tmp_path / "audit.db")],
        tmp_path / "copy.txt",
        Ed25519CheckpointSigner.generate(ORIGIN),
    )
    anyio.run(write, SQLiteAuditStore(log.where[1]), log.signer, log.copy)
    rotated = Ed25519CheckpointSigner.generate(ORIGIN)
    anyio.run(_append_with, log, rotated)
    code, result = log.verify(keys=(rotated.verifier_key,))
    assert (code, result["index"]) == (1, 0), result
    assert "no trusted key" in str(result["reason"])
    code, result = log.verify(keys=(rotated.verifier_key, log.signer.verifier_key))
    assert code == 0, result


async def _append_with(log: Log, signer: Ed25519CheckpointSigner) -> None:
    store = SQLiteAuditStore(log.where[1])
    checkpoints = Checkpointer(store, signer, origin=ORIGIN, every_entries=8)
    trail = AuditTrail(store, checkpoints)
    for n in range(10):
        await trail.record(AuditEvent(at=2000.0 + n, action="team.create", target=f"t{n}"))
    await store.close()


def test_without_a_trusted_key_it_exits_2(log: Log) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "routeiq_app.cli", "audit", "verify", *log.where],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert done.returncode == 2
    assert "no trusted checkpoint key" in done.stderr


def _body(log: Log, seq: int) -> bytes:
    if log.kind == "sqlite":
        with sqlite3.connect(log.where[1]) as conn:
            return bytes(conn.execute(f"SELECT body FROM {LOG} WHERE seq = ?", (seq,)).fetchone()[0])

    async def fetch() -> bytes:
        conn = await asyncpg.connect(log.where[1], timeout=10)
        try:
            return bytes(await conn.fetchval(f"SELECT body FROM {log.prefix}{LOG} WHERE seq = $1", seq))
        finally:
            await conn.close()

    return anyio.run(fetch)
