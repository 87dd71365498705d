"""Run the real `routeiq serve` in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROUTEIQ_", "OTEL_"))}
    env.update(extra)
    return env


class GatewayProcess:
    """``with GatewayProcess(config_yaml) as gw: httpx.get(gw.base_url + "/health/ready")``."""

    def __init__(
        self, config: str | Path, env: dict[str, str] | None = None, ready_timeout_s: float = 30
    ) -> None:
        self._config = config
        self._env = env or {}
        self._ready_timeout_s = ready_timeout_s
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._tmp = tempfile.TemporaryDirectory()
        self.log_path = Path(self._tmp.name) / "gateway.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._final_log = ""

    def __enter__(self) -> GatewayProcess:
        if isinstance(self._config, Path):
            config_path = self._config
        else:
            config_path = Path(self._tmp.name) / "config.yaml"
            config_path.write_text(self._config)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "routeiq_app.cli",
                "serve",
                "--config",
                str(config_path),
                "--port",
                str(self.port),
            ],
            env=clean_env(**self._env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self._ready_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/health/live", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gateway not ready after {self._ready_timeout_s}s:\n{self.log()}")

    def log(self) -> str:
        """The server's output so far (kept after the process and its folder are gone)."""
        if self.log_path.exists():
            self._final_log = self.log_path.read_text(errors="replace")
        return self._final_log

    def stop(self, timeout_s: float = 30) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        self._log.close()
        self.log()
        self._tmp.cleanup()
