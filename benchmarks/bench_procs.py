"""Start, watch and stop the benchmark's processes (upstream, floor, RouteIQ, LiteLLM proxy)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

MASTER_KEY = "sk-bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


def _tree(pid: int) -> list[int]:
    pids, frontier = [pid], [pid]
    while frontier:
        frontier = [c for p in frontier for c in _children(p)]
        pids += frontier
    return pids


class Proc:
    """One server under test."""

    def __init__(
        self, name: str, popen: subprocess.Popen[bytes], url: str, ready_url: str, auth: bool
    ) -> None:
        self.name = name
        self.popen = popen
        self.url = url
        self.headers = {"authorization": f"Bearer {MASTER_KEY}"} if auth else {}
        started = time.monotonic()
        deadline = started + 120
        while time.monotonic() < deadline:
            if popen.poll() is not None:
                raise RuntimeError(f"{name} exited with {popen.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{name} not ready")
        self.ready_s = round(time.monotonic() - started, 3)

    def rss_mb(self) -> float:
        """Largest resident set among the serving processes (the workers, or the process itself)."""
        pids = _tree(self.popen.pid)
        workers = pids[1:] or pids
        sizes = []
        for pid in workers:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
        return round(max(sizes, default=0.0), 1)

    def cpu_s(self) -> float:
        """CPU seconds used so far by the whole process tree."""
        total = 0
        for pid in _tree(self.popen.pid):
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / CLK_TCK

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()


def _spawn(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTEIQ_")} | (env or {})
    return subprocess.Popen(cmd, env=full_env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _routeiq_config(tmp: Path, upstream: str, workers: int) -> Path:
    path = tmp / f"routeiq-{workers}.yaml"
    path.write_text(
        "model_list:\n"
        "  - model_name: bench\n"
        f"    litellm_params: {{model: openai/bench, api_base: '{upstream}', api_key: sk-up}}\n"
        f"server: {{log_level: warning, max_concurrent_requests: 4096, workers: {workers}}}\n"
        f"security: {{master_key: {MASTER_KEY}}}\n" + ("quota: {backend: redis}\n" if workers > 1 else "")
        # several workers share quota counters through Redis (127.0.0.1:6379 must be running)
    )
    return path


def _litellm_config(tmp: Path, upstream: str) -> Path:
    path = tmp / "litellm.yaml"
    path.write_text(
        "model_list:\n"
        "  - model_name: bench\n"
        f"    litellm_params: {{model: openai/bench, api_base: '{upstream}', api_key: sk-up}}\n"
        f"general_settings: {{master_key: {MASTER_KEY}}}\n"
        "litellm_settings: {drop_params: true}\n"
    )
    return path


TRACED = {"ROUTEIQ_OBSERVABILITY__TRACING": "on", "OTEL_TRACES_EXPORTER": "none"}
"""Tracing on with the OpenTelemetry SDK making every span, and no exporter: the cost of tracing itself."""


@contextlib.contextmanager
def start_targets(here: Path, *, litellm: str | None, smoke: bool) -> Iterator[dict[str, Proc]]:
    """Every target, ready, in a fixed order; all stopped on exit."""
    procs: dict[str, Proc] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        up_port = free_port()
        upstream = f"http://127.0.0.1:{up_port}/v1"
        chat = "/v1/chat/completions"
        try:
            up = _spawn([sys.executable, str(here / "fast_upstream.py"), str(up_port), "--chunks", "50"])
            procs["direct"] = Proc(
                "direct", up, upstream + "/chat/completions", f"http://127.0.0.1:{up_port}/health", False
            )
            port = free_port()
            floor = _spawn(
                [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                 "--port", str(port), "--log-level", "warning", "floor_proxy:app"],
                env={"FLOOR_UPSTREAM": upstream},
                cwd=here,
            )  # fmt: skip
            procs["floor"] = Proc(
                "floor", floor, f"http://127.0.0.1:{port}{chat}", f"http://127.0.0.1:{port}/", False
            )
            variants = [("routeiq", 1, {}), ("routeiq traced", 1, TRACED)]
            if not smoke:
                variants.append(("routeiq x2", 2, {}))
            for name, workers, env in variants:
                port = free_port()
                cmd = [sys.executable, "-m", "routeiq_app.cli", "serve", "--port", str(port),
                       "--config", str(_routeiq_config(tmp, upstream, workers))]  # fmt: skip
                base = f"http://127.0.0.1:{port}"
                procs[name] = Proc(name, _spawn(cmd, env), base + chat, base + "/health/ready", True)
            if litellm:
                port = free_port()
                cmd = [
                    litellm,
                    "--config",
                    str(_litellm_config(tmp, upstream)),
                    "--port",
                    str(port),
                    "--num_workers",
                    "1",
                ]
                env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
                base = f"http://127.0.0.1:{port}"
                procs["litellm"] = Proc(
                    "litellm", _spawn(cmd, env), base + chat, base + "/health/liveliness", True
                )
            yield procs
        finally:
            for proc in reversed(list(procs.values())):
                proc.stop()


def cold_start(here: Path) -> float:
    """Seconds from `routeiq serve` to a 200 from /health/ready (demo config)."""
    port = free_port()
    cmd = [sys.executable, "-m", "routeiq_app.cli", "serve", "--port", str(port),
           "--config", str(here.parent / "examples" / "demo-config.yaml")]  # fmt: skip
    proc = Proc("cold", _spawn(cmd), "", f"http://127.0.0.1:{port}/health/ready", False)
    proc.stop()
    return proc.ready_s


def import_time_ms() -> float:
    """Wall time of `import routeiq_core` in a fresh interpreter (best of 5)."""
    best = float("inf")
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import routeiq_core"],
            capture_output=True,
            text=True,
            check=True,
        )
        last = [line for line in out.stderr.splitlines() if line.rstrip().endswith("routeiq_core")][-1]
        best = min(best, int(last.split("|")[1]) / 1000)
    return round(best, 1)
