"""Load generation: wrk when installed (native, not the bottleneck), else an aiohttp closed loop."""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from bench_procs import Proc


@dataclass
class Result:
    """One (target, scenario) cell."""

    target: str
    scenario: str
    concurrency: int
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    cpu_ms_per_request: float
    rss_mb: float

    def row(self) -> str:
        return (
            f"{self.scenario:<18} {self.target:<12} {self.rps:>9.0f} req/s  p50 {self.p50_ms:7.2f}  "
            f"p90 {self.p90_ms:7.2f}  p99 {self.p99_ms:7.2f} ms  err {self.errors}  "
            f"cpu {self.cpu_ms_per_request:.3f} ms/req  rss {self.rss_mb} MB"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def body(size: int, stream: bool = False) -> bytes:
    content = "hello " * max(1, size // 6)
    return msgspec.json.encode(
        {"model": "bench", "stream": stream, "messages": [{"role": "user", "content": content}]}
    )


def load(proc: Proc, scenario: str, concurrency: int, body_bytes: int, seconds: float) -> Result:
    seconds = max(1, round(seconds))
    cpu_before = proc.cpu_s()
    if shutil.which("wrk"):
        requests, errors, lat = _wrk(proc, concurrency, body(body_bytes), seconds)
    else:
        requests, errors, lat = asyncio.run(_python(proc, concurrency, body(body_bytes), seconds))
    cpu = proc.cpu_s() - cpu_before
    return Result(
        target=proc.name,
        scenario=scenario,
        concurrency=concurrency,
        requests=requests,
        rps=round(requests / seconds, 1),
        p50_ms=lat[0],
        p90_ms=lat[1],
        p99_ms=lat[2],
        errors=errors,
        cpu_ms_per_request=round(1000 * cpu / max(1, requests), 4),
        rss_mb=proc.rss_mb(),
    )


def _wrk(
    proc: Proc, concurrency: int, payload: bytes, seconds: float
) -> tuple[int, int, tuple[float, float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(payload)
        script = Path(tmp) / "post.lua"
        headers = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in proc.headers.items())
        script.write_text(
            'wrk.method = "POST"\n'
            f'local f = io.open("{body_file}", "rb"); wrk.body = f:read("*all"); f:close()\n'
            'wrk.headers["Content-Type"] = "application/json"\n' + headers
        )
        out = subprocess.run(
            ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", str(script), proc.url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    return requests, errors, tuple(_wrk_percentile(out, p) for p in ("50", "90", "99"))  # type: ignore[return-value]


def _wrk_percentile(out: str, p: str) -> float:
    match = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 3)


async def _python(
    proc: Proc, concurrency: int, payload: bytes, seconds: float
) -> tuple[int, int, tuple[float, float, float]]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    headers = {"content-type": "application/json", **proc.headers}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def loop() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                async with session.post(proc.url, data=payload, headers=headers) as r:
                    await r.read()
                    errors += r.status != 200
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(loop() for _ in range(concurrency)))
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return len(latencies), errors, (round(q[49], 3), round(q[89], 3), round(q[98], 3))


def stream_latency(proc: Proc, count: int) -> dict[str, float]:
    """Time to first token and to the end of a 50-chunk stream, sequential requests."""
    return asyncio.run(_streams(proc, count))


TRANSLATED_STREAMS = {
    "messages": ("/v1/messages", {"max_tokens": 256}),
    "responses": ("/v1/responses", {}),
}
"""The surfaces that translate a chat stream (Anthropic Messages, the Responses API): path, extra fields."""


def translated_latency(proc: Proc, count: int) -> dict[str, dict[str, float]]:
    """TTFT and total of the same stream through each translating surface (RouteIQ only)."""
    base = proc.url.rsplit("/v1/", 1)[0]
    found = {}
    for name, (path, extra) in TRANSLATED_STREAMS.items():
        content = "hello " * (1024 // 6)
        if name == "responses":
            payload = {"model": "bench", "stream": True, "input": content, **extra}
        else:
            payload = {
                "model": "bench",
                "stream": True,
                "messages": [{"role": "user", "content": content}],
                **extra,
            }
        found[name] = asyncio.run(_streams(proc, count, url=base + path, data=msgspec.json.encode(payload)))
    return found


async def _streams(
    proc: Proc, count: int, url: str | None = None, data: bytes | None = None
) -> dict[str, float]:
    ttft, total = [], []
    headers = {"content-type": "application/json", **proc.headers}
    async with aiohttp.ClientSession() as session:
        for _ in range(count + 1):
            started = time.perf_counter()
            first = None
            sent = data if data is not None else body(1024, stream=True)
            async with session.post(url or proc.url, data=sent, headers=headers) as r:
                if r.status != 200:
                    raise RuntimeError(f"{url or proc.url} answered {r.status}: {await r.text()}")
                async for _chunk in r.content.iter_any():
                    first = first or time.perf_counter()
            ttft.append((first or time.perf_counter()) - started)
            total.append(time.perf_counter() - started)
    ttft, total = ttft[1:], total[1:]  # the first request warms the connection
    return {
        "ttft_p50_ms": round(statistics.median(ttft) * 1000, 3),
        "total_p50_ms": round(statistics.median(total) * 1000, 3),
    }
