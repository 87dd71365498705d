"""`routeiq migrate` as an operator (or a Kubernetes initContainer) runs it: real subprocesses.

SQLite and the in-memory case need nothing else; the unreachable database is a closed loopback port.
The PostgreSQL runs, many at once, are in test_concurrent_migrations.py.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from routeiq_adapters.audit._codec import COMPONENT as AUDIT
from routeiq_adapters.feedback._schema import COMPONENT as FEEDBACK
from routeiq_adapters.keys._codec import COMPONENT as KEYS
from routeiq_adapters.provider_objects._schema import COMPONENT as PROVIDER_OBJECTS
from routeiq_adapters.request_log._schema import COMPONENT as REQUESTS
from routeiq_adapters.responses._schema import COMPONENT as RESPONSES
from routeiq_adapters.spend._schema import COMPONENT as SPEND
from routeiq_adapters.teams._codec import COMPONENT as TEAMS
from routeiq_app.cli_migrate import latest_version
from tests.support.gateway_process import clean_env

MIGRATE = [sys.executable, "-m", "routeiq_app.cli", "migrate"]
PASSWORD = "pw-Must_not%21leak"
UNREACHABLE = f"postgresql://routeiq:{PASSWORD}@127.0.0.1:1/routeiq"
STORES = (
    ("keys", KEYS),
    ("teams", TEAMS),
    ("spend", SPEND),
    ("requests", REQUESTS),
    ("audit", AUDIT),
    ("responses", RESPONSES),
    ("provider_objects", PROVIDER_OBJECTS),
    ("feedback", FEEDBACK),
)


def migrate(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MIGRATE, *args], capture_output=True, text=True, env=clean_env(**env), timeout=60, cwd=cwd
    )


def versions(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT component, version FROM routeiq_schema_version").fetchall())


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_sqlite_creates_each_store_file_and_running_again_is_fine(tmp_path: Path) -> None:
    config = tmp_path / "routeiq.yaml"
    config.write_text(f"keys: {{backend: sqlite, sqlite_path: {tmp_path / 'keys.db'}}}\n")
    files = {
        "keys": tmp_path / "keys.db",
        "teams": tmp_path / "keys-teams.db",
        "spend": tmp_path / "keys-spend.db",
        "requests": tmp_path / "keys-requests.db",
        "audit": tmp_path / "keys-audit.db",
        "responses": tmp_path / "keys-responses.db",
        "provider_objects": tmp_path / "keys-provider_objects.db",
        "feedback": tmp_path / "keys-feedback.db",
    }
    expected = [
        f"{name}: sqlite {files[name]} at version {latest_version(component)}" for name, component in STORES
    ]
    for _ in range(2):
        r = migrate("--config", str(config))
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == expected
        assert r.stderr == ""
    for name, component in STORES:
        assert component.table in tables(files[name])
        assert versions(files[name]) == {name: latest_version(component)}


def test_the_config_comes_from_routeiq_config_without_flag(tmp_path: Path) -> None:
    config = tmp_path / "routeiq.yaml"
    config.write_text(f"keys: {{sqlite_path: {tmp_path / 'from-env.db'}}}\n")
    r = migrate(ROUTEIQ_CONFIG=str(config))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"keys: sqlite {tmp_path / 'from-env.db'} at version 1"
    assert (tmp_path / "from-env-spend.db").exists()


def test_a_request_log_in_memory_or_off_is_not_migrated(tmp_path: Path) -> None:
    for backend in ("memory", "off"):
        env = {"ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / f"{backend}.db")}
        if backend == "off":
            env["ROUTEIQ_OBSERVABILITY__REQUEST_LOG__ENABLED"] = "false"
        else:
            env["ROUTEIQ_OBSERVABILITY__REQUEST_LOG__BACKEND"] = "memory"
        r = migrate(**env)
        assert r.returncode == 0, r.stderr
        migrated = [line.split(":")[0] for line in r.stdout.splitlines()]
        assert migrated[:3] == ["keys", "teams", "spend"]
        assert "requests" not in migrated
        assert not (tmp_path / f"{backend}-requests.db").exists()


def test_in_memory_stores_have_nothing_to_migrate(tmp_path: Path) -> None:
    r = migrate(cwd=tmp_path, ROUTEIQ_KEYS__SQLITE_PATH=":memory:")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "keys, teams, spend: in memory (keys.sqlite_path ':memory:'); nothing to migrate\n"
    assert list(tmp_path.iterdir()) == []  # not even a ':memory:-teams' file


def test_wait_retries_an_unreachable_database_then_exits_1_naming_host_and_port() -> None:
    started = time.monotonic()
    r = migrate("--wait", "1", ROUTEIQ_KEYS__BACKEND="postgres", ROUTEIQ_KEYS__POSTGRES_DSN=UNREACHABLE)
    elapsed = time.monotonic() - started
    assert r.returncode == 1, r.stderr
    assert elapsed < 15
    lines = r.stderr.splitlines()
    retries = [line for line in lines if "retrying in" in line]
    assert len(retries) >= 2
    assert retries[0].startswith("routeiq: keys: cannot reach postgres 127.0.0.1:1 schema public (attempt 1:")
    assert lines[-1].startswith(
        "routeiq: keys: cannot reach postgres 127.0.0.1:1 schema public: gave up after "
    )
    assert "(--wait 1)" in lines[-1]
    assert r.stdout == ""
    for secret in (PASSWORD, "pw-Must_not!leak", UNREACHABLE):
        assert secret not in r.stdout + r.stderr


def test_without_wait_one_attempt_and_a_hint() -> None:
    r = migrate(ROUTEIQ_KEYS__BACKEND="postgres", ROUTEIQ_KEYS__POSTGRES_DSN=UNREACHABLE)
    assert r.returncode == 1
    assert "retrying in" not in r.stderr
    assert "gave up after 1 attempt(s)" in r.stderr
    assert r.stderr.rstrip().endswith("--wait SECONDS keeps retrying")
    assert PASSWORD not in r.stderr


def test_a_schema_newer_than_this_routeiq_fails_at_once_even_with_wait(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    assert migrate(ROUTEIQ_KEYS__SQLITE_PATH=str(path)).returncode == 0
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE routeiq_schema_version SET version = 99 WHERE component = 'keys'")
    started = time.monotonic()
    r = migrate("--wait", "30", ROUTEIQ_KEYS__SQLITE_PATH=str(path))
    assert r.returncode == 1
    assert time.monotonic() - started < 15
    assert "retrying in" not in r.stderr
    assert f"routeiq: keys: migrating sqlite {path} failed:" in r.stderr
    assert "version 99" in r.stderr


def test_configuration_problems_exit_2() -> None:
    r = migrate(ROUTEIQ_KEYS__BACKEND="postgres")
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "routeiq: keys.backend is postgres but keys.postgres_dsn is not set",
        "routeiq: 1 configuration problem(s); nothing was started",
    ]
    assert migrate(ROUTEIQ_KEYS__BACKEND="memory").returncode == 2
    bad_wait = migrate("--wait", "soon")
    assert bad_wait.returncode == 2
    assert "argument --wait: expected a number of seconds >= 0, got 'soon'" in bad_wait.stderr
