"""Gateway throughput and latency, side by side with calling the upstream directly.

Starts a fast local upstream and `routeiq serve` (one worker) in front of it, then drives both
with the same closed-loop load (aiohttp client) at each concurrency. Prints one table.

Run: .venv/bin/python benchmarks/gateway_throughput.py [--seconds 5] [--concurrency 1 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

HERE = Path(__file__).resolve().parent
BODY = b'{"model":"%s","messages":[{"role":"user","content":"hello"}]%s}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not ready")


async def drive(
    url: str, model: str, stream: bool, concurrency: int, seconds: float
) -> tuple[int, list[float]]:
    body = BODY % (model.encode(), b',"stream":true' if stream else b"")
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def loop() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                async with session.post(url, data=body, headers={"content-type": "application/json"}) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(loop() for _ in range(concurrency)))
    return errors, latencies


def row(name: str, concurrency: int, seconds: float, errors: int, latencies: list[float]) -> str:
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return (
        f"| {name:<28} | {concurrency:>3} | {len(latencies) / seconds:>9.0f} | {q[49] * 1000:>8.2f} "
        f"| {q[98] * 1000:>8.2f} | {errors:>6} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()

    up_port, gw_port = free_port(), free_port()
    upstream = subprocess.Popen([sys.executable, str(HERE / "fast_upstream.py"), str(up_port)])
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.yaml"
        config.write_text(
            "model_list:\n"
            f"  - model_name: bench\n    litellm_params: {{model: openai/bench, api_base: 'http://127.0.0.1:{up_port}/v1'}}\n"
            "  - model_name: mock\n    litellm_params: {model: mock/bench}\n"
            "server:\n  log_level: warning\n  max_concurrent_requests: 4096\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTEIQ_")}
        gateway = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "routeiq_app.cli",
                "serve",
                "--config",
                str(config),
                "--port",
                str(gw_port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(f"http://127.0.0.1:{up_port}/", upstream)
            wait_ready(f"http://127.0.0.1:{gw_port}/health/live", gateway)
            targets = [
                ("direct upstream", f"http://127.0.0.1:{up_port}/v1/chat/completions", "bench", False),
                ("routeiq -> upstream", f"http://127.0.0.1:{gw_port}/v1/chat/completions", "bench", False),
                (
                    "routeiq -> upstream, stream",
                    f"http://127.0.0.1:{gw_port}/v1/chat/completions",
                    "bench",
                    True,
                ),
                ("direct upstream, stream", f"http://127.0.0.1:{up_port}/v1/chat/completions", "bench", True),
                (
                    "routeiq -> mock provider",
                    f"http://127.0.0.1:{gw_port}/v1/chat/completions",
                    "mock",
                    False,
                ),
            ]
            print(
                f"one granian worker, closed-loop aiohttp load, {args.seconds:g}s per cell, "
                f"{os.cpu_count()} cores"
            )
            print("| target                       |   c |     req/s |  p50 ms |  p99 ms | errors |")
            print("|------------------------------|-----|-----------|---------|---------|--------|")
            for concurrency in args.concurrency:
                for name, url, model, stream in targets:
                    asyncio.run(drive(url, model, stream, concurrency, 0.5))  # warm-up
                    errors, lat = asyncio.run(drive(url, model, stream, concurrency, args.seconds))
                    print(row(name, concurrency, args.seconds, errors, lat), flush=True)
        finally:
            for proc in (gateway, upstream):
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)


if __name__ == "__main__":
    main()
