"""The `routeiq` command as a user runs it: real subprocesses, real sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from routeiq_core import __version__

ROOT = Path(__file__).resolve().parents[2]
ROUTEIQ = [sys.executable, "-m", "routeiq_app.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROUTEIQ_", "OTEL_"))}
    env.update(extra)
    return env


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ROUTEIQ, *args], capture_output=True, text=True, env=clean_env(**env), timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_one_version_everywhere() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert __version__ == declared
    assert run("--version").stdout.strip() == f"routeiq {declared}"


def test_bad_environment_exits_2_with_one_line_per_problem() -> None:
    r = run("serve", ROUTEIQ_SERVER__PORT="abc", ROUTEIQ_SERVER__WORKRS="2")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert "routeiq: ROUTEIQ_SERVER__PORT='abc': expected an integer between 1 and 65535" in lines
    assert "routeiq: ROUTEIQ_SERVER__WORKRS: unknown setting; did you mean ROUTEIQ_SERVER__WORKERS?" in lines
    assert lines[-1] == "routeiq: 2 configuration problem(s); nothing was started"


def test_an_unknown_trace_exporter_stops_serve_with_exit_2() -> None:
    r = run("serve", "--port", str(free_port()), OTEL_TRACES_EXPORTER="zipkin")
    assert r.returncode == 2
    assert "routeiq: OTEL_TRACES_EXPORTER: unknown exporter zipkin (use otlp, console, none)" in r.stderr
    assert "Traceback" not in r.stderr


def test_config_validate(tmp_path: Path) -> None:
    good = run("config", "validate", str(ROOT / "examples" / "demo-config.yaml"))
    assert good.returncode == 0, good.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("server:\n  port: 0\n")
    r = run("config", "validate", str(bad))
    assert r.returncode == 2
    assert f"routeiq: {bad}: server.port=0: expected an integer between 1 and 65535" in r.stderr


def test_config_docs_check_detects_staleness(tmp_path: Path) -> None:
    target = tmp_path / "configuration.md"
    docs = tmp_path / "docs"
    docs.mkdir()
    for page in ("litellm-migration.md", "observability.md"):
        committed = (ROOT / "docs" / page).read_text()
        block = committed.index("<!-- BEGIN generated")
        (docs / page).write_text(committed[:block] + committed[block:].replace("| `", "| x`", 1))
    pages = ("--output", str(target), "--docs-dir", str(docs))
    assert run("config", "docs", *pages, "--check").returncode == 1
    assert run("config", "docs", *pages).returncode == 0
    assert run("config", "docs", *pages, "--check").returncode == 0
    for page in ("litellm-migration.md", "observability.md"):
        assert (docs / page).read_text() == (ROOT / "docs" / page).read_text()
    target.write_text(target.read_text() + "drift\n")
    assert run("config", "docs", *pages, "--check").returncode == 1


def test_several_workers_with_memory_quotas_are_refused_only_when_limits_exist(tmp_path: Path) -> None:
    keys = str(tmp_path / "keys.db")
    two = {"ROUTEIQ_SERVER__WORKERS": "2", "ROUTEIQ_KEYS__SQLITE_PATH": keys}
    assert run("config", "validate", **two).returncode == 0  # no limit anywhere: nothing to count
    limited = tmp_path / "limited.yaml"
    limited.write_text("quota:\n  global_limits: {rpm: 100}\n")
    r = run("serve", "--workers", "2", "--config", str(limited), ROUTEIQ_KEYS__SQLITE_PATH=keys)
    assert r.returncode == 2
    assert "--workers=2 with ROUTEIQ_QUOTA__BACKEND='memory' and limits in quota.global_limits" in r.stderr
    assert "each worker would count quotas on its own" in r.stderr
    add_key = (
        "import anyio; from routeiq_adapters.keys.sqlite import SQLiteKeyStore; "
        "from routeiq_core.access import KeyHasher, KeyService, NewKey, Principal, parse_limits; "
        f"s = SQLiteKeyStore({keys!r}); "
        "anyio.run(KeyService(s, KeyHasher('x' * 16)).issue, Principal.admin(), "
        "NewKey(limits=parse_limits({'rpm': 5})))"
    )
    subprocess.run([sys.executable, "-c", add_key], check=True, env=clean_env(), timeout=60)
    stored = run("config", "validate", **two)
    assert stored.returncode == 2
    assert "has limits" in stored.stderr


def test_refuses_open_non_loopback_bind_naming_the_flag() -> None:
    r = run("serve", "--host", "0.0.0.0")
    assert r.returncode == 2
    assert "--host='0.0.0.0': binding a non-loopback address without a master key" in r.stderr
    weak = run("config", "validate", ROUTEIQ_SERVER__HOST="0.0.0.0", ROUTEIQ_SECURITY__MASTER_KEY="abc")
    assert weak.returncode == 2
    assert "ROUTEIQ_SERVER__HOST='0.0.0.0': the master key" in weak.stderr
    assert "too weak" in weak.stderr


def test_config_errors_never_echo_secrets() -> None:
    for name in ("ROUTEIQ_SECURITY__MASTER_KEY", "ROUTEIQ_SECURITY__KEY_HASH_SECRET"):
        r = run("config", "validate", **{name: '["sk-secret-value-1234567890"]'})
        assert r.returncode == 2
        assert f"{name}=<redacted>" in r.stderr
        assert "sk-secret-value" not in r.stderr
    short = run("config", "validate", ROUTEIQ_SECURITY__KEY_HASH_SECRET="shortSECRET1")
    assert short.returncode == 2  # validate catches what used to kill the worker at start
    assert "key_hash_secret must be at least 16 characters" in short.stderr
    assert "shortSECRET1" not in short.stderr


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    proc = subprocess.Popen(
        [*ROUTEIQ, "serve", "--config", str(ROOT / "examples" / "demo-config.yaml"), "--port", str(port)],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"server did not become ready: {proc.communicate()[0]}")
    yield proc, base
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.mark.slow
def test_serve_answers_health_404_and_stops_on_sigterm(server: tuple[subprocess.Popen[str], str]) -> None:
    proc, base = server
    ready = httpx.get(f"{base}/health/ready", timeout=5)
    assert (ready.status_code, ready.json()["version"]) == (200, __version__)
    missing = httpx.get(f"{base}/nope", timeout=5)
    assert missing.status_code == 404
    assert missing.headers["x-request-id"]
    assert missing.json()["error"]["code"] == "not_found"
    assert httpx.get(f"{base}/schema/openapi.json", timeout=5).json()["info"]["version"] == __version__
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    output = proc.stdout.read() if proc.stdout else ""
    assert "WARNING: no master key set" in output
