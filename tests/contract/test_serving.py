"""Real `routeiq serve` processes: graceful drain, multiple workers, config reload under load."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow
STREAM_BODY = {"model": "slow", "stream": True, "messages": [{"role": "user", "content": "x"}]}


def slow_config(words: int = 20, inter_token_ms: int = 100, drain_s: int = 30) -> str:
    content = " ".join(f"w{i}" for i in range(words))
    return (
        "model_list:\n"
        "  - model_name: slow\n"
        "    litellm_params:\n"
        "      model: mock/slow\n"
        f"      mock: {{content: '{content}', inter_token_ms: {inter_token_ms}}}\n"
        f"server:\n  drain_timeout_s: {drain_s}\n"
    )


def versioned_config(version: str) -> str:
    return (
        "model_list:\n"
        "  - model_name: m\n"
        f"    litellm_params: {{model: mock/m, mock: {{content: 'config {version}'}}}}\n"
        f"    model_info: {{id: deployment-{version}}}\n"
    )


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def open_stream(base: str, started: threading.Event, results: list[str]) -> None:
    text = ""
    try:
        with (
            httpx.Client(timeout=30) as client,
            client.stream("POST", f"{base}/v1/chat/completions", json=STREAM_BODY) as r,
        ):
            for chunk in r.iter_text():
                text += chunk
                started.set()
    except httpx.TransportError:
        text += "<cut>"
    results.append(text)


def test_sigterm_drains_twenty_streams_then_exits_0() -> None:
    with GatewayProcess(slow_config()) as gw:
        assert gw.proc is not None
        results: list[str] = []
        started = [threading.Event() for _ in range(20)]
        threads = [threading.Thread(target=open_stream, args=(gw.base_url, e, results)) for e in started]
        for t in threads:
            t.start()
        assert all(e.wait(10) for e in started), "not every stream started"
        sent_at = time.monotonic()
        gw.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(httpx.TransportError):  # the listener is closed at once: no new requests
            httpx.get(f"{gw.base_url}/health/ready", timeout=2)
        for t in threads:
            t.join(30)
        assert gw.proc.wait(timeout=30) == 0
        drain_s = time.monotonic() - sent_at
    assert len(results) == 20
    assert all(r.rstrip().endswith("data: [DONE]") for r in results), results
    assert drain_s < 30
    print(f"drain with 20 streams took {drain_s:.2f}s")


def test_drain_timeout_bounds_the_shutdown() -> None:
    with GatewayProcess(slow_config(words=100, inter_token_ms=100, drain_s=1)) as gw:
        assert gw.proc is not None
        started, results = threading.Event(), list[str]()
        t = threading.Thread(target=open_stream, args=(gw.base_url, started, results), daemon=True)
        t.start()
        assert started.wait(10)
        sent_at = time.monotonic()
        gw.proc.send_signal(signal.SIGTERM)
        gw.proc.wait(timeout=20)
        assert time.monotonic() - sent_at < 8  # a 10 s stream was cut after the 1 s drain timeout
        t.join(10)
    assert results[0].endswith("<cut>")


def multi_worker_env(workers: int, redis_url: str) -> dict[str, str]:
    """N > 1 workers need shared quota counters: Redis."""
    return {
        "ROUTEIQ_SERVER__WORKERS": str(workers),
        "ROUTEIQ_QUOTA__BACKEND": "redis",
        "ROUTEIQ_QUOTA__REDIS_URL": redis_url,
    }


def test_two_workers_serve(redis_url: str) -> None:
    with GatewayProcess(versioned_config("a"), env=multi_worker_env(2, redis_url)) as gw:
        assert gw.proc is not None
        deadline = time.monotonic() + 20
        while len(children(gw.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(children(gw.proc.pid)) == 2
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        statuses = [
            httpx.post(f"{gw.base_url}/v1/chat/completions", json=body, timeout=10).status_code
            for _ in range(20)
        ]
        assert statuses == [200] * 20
        assert "2 workers: circuit breakers" in gw.log()


class Load:
    """Requests in a loop from a few threads, recording every answer."""

    def __init__(self, base: str, threads: int = 4) -> None:
        self.base = base
        self.stop = threading.Event()
        self.answers: list[tuple[int, str, str]] = []
        self.errors: list[str] = []
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set():
                try:
                    r = client.post(f"{self.base}/v1/chat/completions", json=body)
                except httpx.TransportError as exc:
                    self.errors.append(repr(exc))
                    continue
                content = r.json()["choices"][0]["message"]["content"] if r.status_code == 200 else r.text
                self.answers.append((r.status_code, r.headers.get("x-routeiq-deployment", ""), content))

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(30)

    def latest_is(self, version: str) -> bool:
        return bool(self.answers) and self.answers[-1][2] == f"config {version}"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "routeiq.yaml"
    path.write_text(versioned_config("a"))
    return path


def wait_for(predicate: object, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("workers", [1, 2])
def test_reload_under_load_no_failure_no_mixed_config(
    config_file: Path, workers: int, redis_url: str
) -> None:
    with (
        GatewayProcess(config_file, env=multi_worker_env(workers, redis_url)) as gw,
        Load(gw.base_url) as load,
    ):
        assert wait_for(lambda: len(load.answers) > 20)
        config_file.write_text(versioned_config("b"))
        started = time.monotonic()
        r = httpx.post(f"{gw.base_url}/admin/config/reload", timeout=10)
        assert r.status_code == 202, r.text
        assert wait_for(lambda: load.latest_is("b") and all(a[2] == "config b" for a in load.answers[-20:]))
        reload_s = time.monotonic() - started
    assert load.errors == []
    assert {a[0] for a in load.answers} == {200}
    for _status, deployment, content in load.answers:
        version = deployment.rsplit("-", 1)[1]
        assert content == f"config {version}", "a response mixed two configs"
    print(f"reload with {workers} worker(s) under load took {reload_s:.2f}s, {len(load.answers)} requests")


def test_invalid_config_is_refused_and_the_old_one_keeps_serving(config_file: Path) -> None:
    with GatewayProcess(config_file) as gw:
        config_file.write_text(versioned_config("b").replace("model_name", "model_nam"))
        r = httpx.post(f"{gw.base_url}/admin/config/reload", timeout=10)
        assert r.status_code == 400
        assert "model_nam" in r.json()["error"]["message"]
        assert r.json()["error"]["code"] == "invalid_config"
        assert gw.proc is not None
        gw.proc.send_signal(signal.SIGHUP)  # the supervisor refuses it too
        time.sleep(2)
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        answer = httpx.post(f"{gw.base_url}/v1/chat/completions", json=body, timeout=10)
        assert answer.json()["choices"][0]["message"]["content"] == "config a"
    assert "reload refused" in gw.log()


def test_sighup_reloads(config_file: Path) -> None:
    with GatewayProcess(config_file) as gw:
        assert gw.proc is not None
        config_file.write_text(versioned_config("c"))
        gw.proc.send_signal(signal.SIGHUP)
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}

        def reloaded() -> bool:
            try:
                r = httpx.post(f"{gw.base_url}/v1/chat/completions", json=body, timeout=10)
            except httpx.TransportError:
                return False
            return bool(r.json()["choices"][0]["message"]["content"] == "config c")

        assert wait_for(reloaded)


def test_reload_outside_serve_is_a_409() -> None:
    from litestar.testing import TestClient

    from routeiq_app import create_app

    with TestClient(create_app()) as client:
        r = client.post("/admin/config/reload")
    assert r.status_code == 409
    assert "routeiq serve" in r.json()["error"]["message"]
