"""MCP ``tools/call`` through RouteIQ's ``/mcp`` vs straight to a fast upstream, side by side in one run.

On loopback: a fast MCP upstream (this file with ``--upstream PORT``: a hand-written aiohttp JSON-RPC
server speaking the sessionless 2026-07-28 revision, answering ``server/discover``, ``tools/list``
and an ``echo`` tool from precomputed parts, so the baseline measures the transport rather than an
SDK's model validation) and ``routeiq serve`` fronting it (master key on, so authentication,
authorization, quota and usage accounting are on the path), plus the floor (``floor_proxy.py``: the
least a Python proxy on granian can do, forward the body and return the answer) for scale. All are
driven with the same one ``tools/call`` per request, at concurrency 1 and 16, by wrk
(``mcp_tools_call.lua``; one thread) when installed, else a Python aiohttp closed loop. Every
answer is checked (HTTP 200, a JSON-RPC ``result``, no ``isError``); bad answers are reported per
cell.

Targets: RouteIQ >= 50% of the direct throughput at c=16, and at most 1 ms added p50 at c=1.

    .venv/bin/python benchmarks/mcp_bench.py [--seconds 5] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import msgspec
from aiohttp import web
from bench_load import _wrk_percentile
from bench_procs import MASTER_KEY, Proc, _spawn, free_port

HERE = Path(__file__).resolve().parent
CURRENT = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": CURRENT,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "mcp-bench", "version": "1"},
}
CALL = msgspec.json.encode(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "hello"}, "_meta": META},
    }
)
HEADERS = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": CURRENT,
    "mcp-method": "tools/call",
    "mcp-name": "echo",
}
ECHO_TOOL = {
    "name": "echo",
    "description": "Returns its text",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
}
_ANSWERS = {
    "server/discover": {
        "supportedVersions": [CURRENT],
        "capabilities": {"tools": {}},
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "mcp-bench-upstream", "version": "1"}},
        "resultType": "complete",
    },
    "tools/list": {"tools": [ECHO_TOOL], "ttlMs": 0, "cacheScope": "public", "resultType": "complete"},
}


class _Message(msgspec.Struct):
    method: str = ""
    id: int | str | None = None
    params: dict[str, msgspec.Raw] = {}


_decode = msgspec.json.Decoder(_Message).decode
_encode = msgspec.json.encode


def upstream_app() -> web.Application:
    """The fast upstream: one JSON answer per POST, 202 for notifications, -32601 otherwise."""

    async def mcp(request: web.Request) -> web.Response:
        message = _decode(await request.read())
        if message.id is None:
            return web.Response(status=202)
        head = b'{"jsonrpc":"2.0","id":' + _encode(message.id)
        if message.method == "tools/call":
            text = msgspec.json.decode(message.params.get("arguments", b"{}")).get("text", "")
            result = {"content": [{"type": "text", "text": text}], "isError": False, "resultType": "complete"}
            return web.Response(
                body=head + b',"result":' + _encode(result) + b"}", content_type="application/json"
            )
        if message.method in _ANSWERS:
            body = head + b',"result":' + _encode(_ANSWERS[message.method]) + b"}"
            return web.Response(body=body, content_type="application/json")
        error = {"code": -32601, "message": f"method not found: {message.method}"}
        return web.Response(
            status=404, body=head + b',"error":' + _encode(error) + b"}", content_type="application/json"
        )

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/mcp", mcp)
    app.router.add_post("/chat/completions", mcp)  # where floor_proxy.py forwards (its OpenAI path)
    app.router.add_get("/health", health)
    return app


@dataclass
class Cell:
    """One (target, concurrency) measurement."""

    target: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int


def _load_wrk(url: str, token: str, concurrency: int, seconds: int) -> tuple[int, int, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        body = Path(tmp) / "call.json"
        body.write_bytes(CALL)
        script = str(HERE / "mcp_tools_call.lua")
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", script, url]
        out = subprocess.run(
            [*command, "--", str(body), token], capture_output=True, text=True, check=True
        ).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = int(re.search(r"bad answers: (\d+)", out).group(1))  # type: ignore[union-attr]
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad += sum(int(x) for x in sockets.groups()) if sockets else 0
    return requests, bad, _wrk_percentile(out, "50"), _wrk_percentile(out, "99")


async def _load_python(url: str, token: str, concurrency: int, seconds: int) -> tuple[int, int, float, float]:
    latencies: list[float] = []
    bad = 0
    headers = HEADERS | ({"authorization": f"Bearer {token}"} if token else {})
    stop_at = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def loop() -> None:
            nonlocal bad
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                async with session.post(url, data=CALL, headers=headers) as r:
                    answer = await r.read()
                bad += r.status != 200 or b'"result"' not in answer or b'"isError":true' in answer
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(loop() for _ in range(concurrency)))
    q = statistics.quantiles(latencies, n=100)
    return len(latencies), bad, round(q[49], 3), round(q[98], 3)


def measure(name: str, url: str, token: str, concurrency: int, seconds: int) -> Cell:
    """Warm up, then drive ``url`` for ``seconds`` at ``concurrency``."""
    run = _load_wrk if shutil.which("wrk") else (lambda *a: asyncio.run(_load_python(*a)))
    run(url, token, concurrency, 1)
    requests, bad, p50, p99 = run(url, token, concurrency, seconds)
    return Cell(name, concurrency, round(requests / seconds, 1), p50, p99, bad)


def check(url: str, token: str) -> None:
    """One call, answered right, before any load (a misconfigured target fails loudly here)."""
    headers = HEADERS | ({"authorization": f"Bearer {token}"} if token else {})
    answer = httpx.post(url, content=CALL, headers=headers, timeout=10)
    text = answer.json().get("result", {}).get("content", [{}])[0].get("text")
    if answer.status_code != 200 or text != "hello":
        raise SystemExit(f"{url} answered {answer.status_code}: {answer.text[:500]}")


def _config(tmp: Path, upstream: str, workers: int) -> Path:
    path = tmp / "mcp-bench.yaml"
    path.write_text(
        "model_list: []\n"
        f"server: {{log_level: warning, max_concurrent_requests: 4096, workers: {workers}}}\n"
        f"security: {{master_key: {MASTER_KEY}}}\n"
        "mcp:\n"
        f"  servers: [{{name: bench, url: '{upstream}', timeout_s: 10}}]\n"
        "  single_upstream_mode: true\n"
        "  allow_private_networks: ['127.0.0.0/8']\n"
    )
    return path


def report(cells: list[Cell]) -> str:
    """The table, then the two ratios the targets are about."""
    lines = [
        "| target  |   c |     req/s |  p50 ms |  p99 ms | bad |",
        "|---------|-----|-----------|---------|---------|-----|",
    ]
    lines += [
        f"| {c.target:<7} | {c.concurrency:>3} | {c.rps:>9.0f} | {c.p50_ms:>7.3f} "
        f"| {c.p99_ms:>7.3f} | {c.bad:>3} |"
        for c in cells
    ]
    by = {(c.target, c.concurrency): c for c in cells}
    ratio = by["routeiq", 16].rps / by["direct", 16].rps
    added = by["routeiq", 1].p50_ms - by["direct", 1].p50_ms
    floor_ratio = by["floor", 16].rps / by["direct", 16].rps
    lines.append(
        f"floor/direct at c=16: {floor_ratio:.0%}; routeiq/floor at c=16: "
        f"{by['routeiq', 16].rps / by['floor', 16].rps:.0%}; floor added p50 at c=1: "
        f"{by['floor', 1].p50_ms - by['direct', 1].p50_ms:.3f} ms"
    )
    verdict = "met" if ratio >= 0.5 else "MISSED"
    lines.append(f"routeiq/direct throughput at c=16: {ratio:.0%} (target >= 50%: {verdict})")
    lines.append(f"added p50 at c=1: {added:.3f} ms (target <= 1 ms: {'met' if added <= 1 else 'MISSED'})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="RouteIQ worker processes")
    parser.add_argument("--upstream", type=int, metavar="PORT", help="only serve the fast upstream on PORT")
    args = parser.parse_args()
    if args.upstream:
        web.run_app(upstream_app(), host="127.0.0.1", port=args.upstream, access_log=None, print=None)
        return 0
    print(f"load generator: {'wrk' if shutil.which('wrk') else 'python aiohttp'}; {os.cpu_count()} cores; "
          f"{args.seconds}s per cell; routeiq workers: {args.workers}")  # fmt: skip
    procs: list[Proc] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            port = free_port()
            up = _spawn([sys.executable, str(Path(__file__).resolve()), "--upstream", str(port)])
            procs.append(
                Proc("direct", up, f"http://127.0.0.1:{port}/mcp", f"http://127.0.0.1:{port}/health", False)
            )
            gw_port = free_port()
            config = _config(Path(tmp), procs[0].url, args.workers)
            cmd = [
                sys.executable,
                "-m",
                "routeiq_app.cli",
                "serve",
                "--port",
                str(gw_port),
                "--config",
                str(config),
            ]
            base = f"http://127.0.0.1:{gw_port}"
            env = {"ROUTEIQ_KEYS__SQLITE_PATH": str(Path(tmp) / "keys.db")}
            procs.append(Proc("routeiq", _spawn(cmd, env), base + "/mcp", base + "/health/ready", True))
            floor_port = free_port()
            floor = _spawn(
                [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                 "--port", str(floor_port), "--log-level", "warning", "floor_proxy:app"],
                env={"FLOOR_UPSTREAM": f"http://127.0.0.1:{port}"},
                cwd=HERE,
            )  # fmt: skip
            floor_base = f"http://127.0.0.1:{floor_port}"
            procs.insert(1, Proc("floor", floor, floor_base + "/mcp", floor_base + "/", False))
            tokens = {"direct": "", "floor": "", "routeiq": MASTER_KEY}
            for proc in procs:
                check(proc.url, tokens[proc.name])
            cells = [
                measure(proc.name, proc.url, tokens[proc.name], concurrency, args.seconds)
                for concurrency in (1, 16)
                for proc in procs
            ]
        finally:
            for proc in reversed(procs):
                proc.stop()
    print(report(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
