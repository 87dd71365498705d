"""``/mcp`` across workers and processes: sealed sessions anywhere, shared endings, stdio upstreams."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from routeiq_adapters.state.redis_revocations import RedisSessionRevocations
from tests.support.gateway_process import GatewayProcess
from tests.support.mcp_fakes import serve_gateway
from tests.support.mcp_http import (
    ADMIN,
    CURRENT,
    MASTER,
    META,
    current,
    dead_url,
    error_of,
    gateway_config,
    initialize,
    issue,
    post,
    rpc,
    sdk,
)
from tests.support.mcp_upstream import STDIO_COMMAND, STDIO_CWD, HttpFixture, serve_http

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[HttpFixture, HttpFixture]]:
    with serve_http() as fx, serve_http(era="2025-11-25") as fy:
        yield fx, fy


def test_a_session_continues_on_another_worker(
    upstreams: tuple[HttpFixture, HttpFixture], tmp_path: Path
) -> None:
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "other.db")}
    with serve_gateway(gateway_config(*upstreams), env, tmp_path) as other:
        key = issue(other)
        session = initialize(other, key)
    env["ROUTEIQ_KEYS__SQLITE_PATH"] = str(tmp_path / "other.db")
    with serve_gateway(gateway_config(*upstreams), env, tmp_path) as second:
        headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
        call = rpc("tools/call", {"name": "fx__add", "arguments": {"a": 20, "b": 22}})
        answer = post(second, call, key=key, **headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"]["content"][0]["text"] == "42"


def test_routeiq_serve_with_two_workers_shares_sessions(upstreams: tuple[HttpFixture, HttpFixture]) -> None:
    """No master key and no session key: `serve` gives both workers one key, so a session works on both.

    Each request opens a new connection, so the two workers serve them in turn; with a key per worker
    about half of them would answer 404.
    """
    fx, _ = upstreams
    config = f"""
server: {{workers: 2}}
mcp:
  allow_private_networks: ["127.0.0.1/32"]
  servers: [{{name: fx, url: "{fx.url}"}}]
"""
    with GatewayProcess(config, ready_timeout_s=60) as served:
        params = {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        }
        opened = post(served.base_url, rpc("initialize", params))
        assert opened.status_code == 200, opened.text
        assert opened.json()["result"]["protocolVersion"] == "2025-06-18"
        headers = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-06-18"}
        for n in range(16):
            call = rpc("tools/call", {"name": "fx__add", "arguments": {"a": n, "b": 1}}, id_=n)
            answer = post(served.base_url, call, **headers)
            assert answer.status_code == 200, answer.text
            assert answer.json()["result"]["content"][0]["text"] == str(n + 1)
        current_call = rpc("tools/call", {"name": "fx__echo", "arguments": {"text": "hi"}, "_meta": META})
        answer = post(served.base_url, current_call, **current("tools/call", name="fx__echo"))
        assert answer.json()["result"]["resultType"] == "complete"


async def test_a_stdio_upstream_is_spawned_and_served(tmp_path: Path) -> None:
    command, *args = STDIO_COMMAND
    config = f"""
mcp:
  servers:
    - name: local
      command: "{command}"
      args: {json.dumps(args)}
      cwd: "{STDIO_CWD}"
"""
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "k.db")}
    with serve_gateway(config, env, tmp_path) as base:
        async with sdk(base, MASTER, CURRENT) as client:
            assert "local__add" in {tool.name for tool in (await client.list_tools()).tools}
            added = await client.call_tool("local__add", {"a": 4, "b": 5})
            assert added.content[0].text == "9"  # type: ignore[union-attr]
        async with httpx.AsyncClient() as admin:
            servers = (await admin.get(f"{base}/admin/mcp/servers", headers=ADMIN)).json()["servers"]
        assert [(s["name"], s["transport"], s["state"]) for s in servers] == [("local", "stdio", "up")]


async def test_ended_sessions_are_shared_through_redis(redis_url: str) -> None:
    namespace = f"t{time.time_ns()}"
    one = RedisSessionRevocations(redis_url, namespace=namespace)
    two = RedisSessionRevocations(redis_url, namespace=namespace)
    try:
        assert not await two.revoked("s1")
        await one.revoke("s1", ttl_s=0.3)
        assert await two.revoked("s1")  # another worker's ending
        await anyio.sleep(0.5)
        assert not await two.revoked("s1")  # forgotten when the session would have expired
        assert await one.revoked("s1")  # the worker that ended it keeps it in memory
    finally:
        await one.aclose()
        await two.aclose()


async def test_ended_sessions_hold_locally_while_redis_is_down() -> None:
    down = RedisSessionRevocations(f"redis://127.0.0.1:{dead_url().split(':')[2].split('/')[0]}/0")
    try:
        started = time.monotonic()
        await down.revoke("s1", ttl_s=60)
        assert await down.revoked("s1")
        assert not await down.revoked("s2")
        assert time.monotonic() - started < 2
    finally:
        await down.aclose()


def test_a_session_ended_on_one_worker_is_gone_on_the_other(
    upstreams: tuple[HttpFixture, HttpFixture], tmp_path: Path, redis_url: str
) -> None:
    env = {
        "ROUTEIQ_SECURITY__MASTER_KEY": MASTER,
        "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "shared.db"),
        "ROUTEIQ_STATE__REDIS_URL": redis_url,
        "ROUTEIQ_STATE__NAMESPACE": f"t{time.time_ns()}",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        serve_gateway(gateway_config(*upstreams), env, tmp_path / "a") as one,
        serve_gateway(gateway_config(*upstreams), env, tmp_path / "b") as two,
    ):
        key = issue(one)
        headers = {"Mcp-Session-Id": initialize(one, key), "MCP-Protocol-Version": "2025-11-25"}
        assert post(two, rpc("ping"), key=key, **headers).status_code == 200
        ended = httpx.delete(f"{two}/mcp", headers={"Authorization": f"Bearer {key}", **headers})
        assert ended.status_code == 200
        assert error_of(post(one, rpc("ping"), key=key, **headers)) == (404, -32001)
