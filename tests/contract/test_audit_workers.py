"""The acceptance run: ``routeiq serve`` with 4 workers under concurrent admin changes, then verify.

Many threads issue, patch, rotate and revoke keys and create teams at once, so the workers' appends
contend for the one writer lock of a SQLite file or a PostgreSQL schema; ``routeiq audit verify``
(offline, after the gateway stopped) must then find an unbroken chain, every checkpoint signed, and
the external copy consistent.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from routeiq_adapters.audit import Ed25519CheckpointSigner
from tests.support.gateway_process import GatewayProcess, clean_env

pytestmark = pytest.mark.slow
MASTER = "sk-master-audit-workers"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
THREADS, JOBS = 16, 48
CONFIG = """
model_list:
  - model_name: demo
    litellm_params: {{model: mock/demo}}
audit:
  checkpoint_every_entries: 16
  checkpoint_interval_s: 1
  aggregate_window_s: 1
  checkpoint_copy_path: {copy}
  signing_key: {signing_key}
"""


def job(base_url: str, n: int) -> list[str]:
    """One admin's burst of changes; the actions it made, in order."""
    done: list[str] = []
    with httpx.Client(base_url=base_url, headers=ADMIN, timeout=60) as client:
        if n % 4 == 0:
            assert client.post("/admin/teams", json={"team_id": f"team-{n}"}).status_code == 201
            done.append("team.create")
        created = client.post("/admin/keys", json={"role": "member", "team": f"team-{n - n % 4}"})
        assert created.status_code == 201, created.text
        key_id = created.json()["key_id"]
        done.append("key.issue")
        assert client.patch(f"/admin/keys/{key_id}", json={"alias": f"k{n}"}).status_code == 200
        done.append("key.patch")
        assert client.post(f"/admin/keys/{key_id}/rotate").status_code == 200
        done.append("key.rotate")
        assert client.delete(f"/admin/keys/{key_id}").status_code == 200
        done.append("key.revoke")
        assert (
            client.get("/admin/keys", headers={"Authorization": f"Bearer sk-riq-bad{n}"}).status_code == 401
        )
    return done


def run_gateway(config: Path, env: dict[str, str]) -> list[str]:
    with GatewayProcess(config, env={**env, "ROUTEIQ_SERVER__WORKERS": "4"}, ready_timeout_s=60) as gw:
        with ThreadPoolExecutor(THREADS) as pool:
            actions = [a for done in pool.map(lambda n: job(gw.base_url, n), range(JOBS)) for a in done]
        code = gw.stop()
    assert code == 0, gw.log()[-3000:]
    return actions


def verify(config: Path, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "routeiq_app.cli", "audit", "verify", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def count(actions: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for action in actions:
        found[action] = found.get(action, 0) + 1
    return found


def test_four_sqlite_workers_under_concurrent_admin_changes_verify(tmp_path: Path) -> None:
    config = tmp_path / "routeiq.yaml"
    copy = tmp_path / "checkpoints.txt"
    config.write_text(CONFIG.format(copy=copy, signing_key="null"))  # workers share a generated key
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db")}
    actions = run_gateway(config, env)
    result = verify(config, env)
    assert result["ok"] is True
    assert isinstance(result["external_checkpoints"], int)
    assert result["external_checkpoints"] > 0

    with sqlite3.connect(tmp_path / "keys-audit.db") as conn:
        stored = [row[0] for row in conn.execute("SELECT action FROM routeiq_audit_log ORDER BY seq")]
    assert result["size"] == len(stored)
    admin = [a for a in stored if a.startswith(("key.", "team."))]
    assert count(admin) == count(actions)
    assert stored.count("config.load") == 4  # one per worker
    assert "auth.failure" in stored
    assert (tmp_path / "keys-audit.key").stat().st_mode & 0o777 == 0o600


def test_four_workers_on_postgres_verify(tmp_path: Path, postgres_dsn: str) -> None:
    schema = f"riq_audit_{uuid.uuid4().hex[:12]}"
    signer = Ed25519CheckpointSigner.generate("routeiq/audit")
    config = tmp_path / "routeiq.yaml"
    copy = tmp_path / "checkpoints.txt"
    config.write_text(CONFIG.format(copy=copy, signing_key="os.environ/TEST_AUDIT_SIGNING_KEY"))
    env = {
        "ROUTEIQ_SECURITY__MASTER_KEY": MASTER,
        "ROUTEIQ_KEYS__BACKEND": "postgres",
        "ROUTEIQ_KEYS__POSTGRES_DSN": postgres_dsn,
        "ROUTEIQ_KEYS__POSTGRES_SCHEMA": schema,
        "ROUTEIQ_KEYS__TIMEOUT_S": "20",
        "ROUTEIQ_AUDIT__TIMEOUT_S": "20",
        "TEST_AUDIT_SIGNING_KEY": signer.signing_key_text(),
    }
    try:
        actions = run_gateway(config, env)
        result = verify(config, env)
        assert result["ok"] is True
        stored = anyio.run(_actions, postgres_dsn, schema)
    finally:
        anyio.run(_drop, postgres_dsn, schema)
    assert result["size"] == len(stored)
    assert count([a for a in stored if a.startswith(("key.", "team."))]) == count(actions)
    assert stored.count("config.load") == 4


async def _actions(dsn: str, schema: str) -> list[str]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return [r[0] for r in await conn.fetch(f"SELECT action FROM {schema}.routeiq_audit_log ORDER BY seq")]
    finally:
        await conn.close()


async def _drop(dsn: str, schema: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()
