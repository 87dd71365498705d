"""The stdio MCP upstream adapter against the official SDK's server run as a child process."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from routeiq_adapters.mcp import StdioMcpUpstream
from routeiq_core.errors import UpstreamError, UpstreamTimeoutError
from routeiq_core.mcp import UpstreamCall, UpstreamReply
from tests.support.mcp_upstream import NOTE, STDERR_BANNER, STDIO_COMMAND, STDIO_CWD, eventually

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def stdio(**options: Any) -> AsyncIterator[StdioMcpUpstream]:
    settings: dict[str, Any] = {"timeout_s": 20, "backoff_initial_s": 0.1, "backoff_max_s": 0.4} | options
    upstream = StdioMcpUpstream(
        name="local", command=settings.pop("command", STDIO_COMMAND), cwd=STDIO_CWD, **settings
    )
    await upstream.start()
    try:
        yield upstream
    finally:
        await upstream.aclose()


def _call(name: str, **arguments: Any) -> UpstreamCall:
    return UpstreamCall(method="tools/call", params={"name": name, "arguments": arguments})


def _result(reply: UpstreamReply) -> Any:
    assert reply.error is None
    assert reply.result is not None
    return json.loads(bytes(reply.result))


async def _pid(upstream: StdioMcpUpstream) -> int:
    return int(_result(await upstream.request(_call("pid")))["structuredContent"]["result"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_calls_and_stderr(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="routeiq.mcp"):
        async with stdio() as upstream:
            status = upstream.status()
            assert (status.transport, status.state, status.era, status.restarts) == (
                "stdio",
                "up",
                "2025-11-25",
                0,
            )
            assert _result(await upstream.request(_call("echo", text="hi")))["content"][0]["text"] == "hi"
            assert _result(await upstream.request(_call("add", a=1, b=2)))["structuredContent"] == {
                "result": 3
            }
            read = await upstream.request(
                UpstreamCall(method="resources/read", params={"uri": "memo://note"})
            )
            assert _result(read)["contents"][0]["text"] == NOTE
            missing = await upstream.request(UpstreamCall(method="no/such-method"))
            assert missing.error is not None
            assert missing.error["code"] == -32601
            failed = _result(await upstream.request(_call("fail")))
            assert failed["isError"] is True
            opened = await upstream.open_session(client_info={"name": "c", "version": "1"}, capabilities={})
            assert opened.session_id is None
            assert opened.server_info is not None
    assert any(STDERR_BANNER in r.getMessage() and "'local'" in r.getMessage() for r in caplog.records)


async def test_killed_process_is_restarted_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="routeiq.mcp"):
        async with stdio() as upstream:
            first = await _pid(upstream)
            os.kill(first, signal.SIGKILL)
            assert await eventually(lambda: upstream.status().state != "up")
            assert upstream.status().last_error is not None
            second = await _pid(upstream)  # waits for the restart
            assert second != first
            assert upstream.status().restarts == 1
            assert upstream.status().state == "up"
            os.kill(second, signal.SIGKILL)
            assert await eventually(lambda: upstream.status().state != "up")
            third = await _pid(upstream)
            assert third not in (first, second)
            assert upstream.status().restarts == 2
    delays = [
        r.getMessage().rsplit(" in ", 1)[1] for r in caplog.records if "restarting in" in r.getMessage()
    ]
    assert delays == ["0.1 s", "0.2 s"]


async def test_requests_in_flight_fail_when_the_process_dies() -> None:
    async with stdio() as upstream:
        results: list[BaseException | None] = []

        async def slow() -> None:
            try:
                await upstream.request(_call("slow", steps=100, delay=0.1))
                results.append(None)
            except UpstreamError as exc:
                results.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            await anyio.sleep(0.3)
            with pytest.raises(UpstreamError):
                await upstream.request(_call("crash"))
        assert len(results) == 1
        assert isinstance(results[0], UpstreamError)
        assert _result(await upstream.request(_call("echo", text="back")))["content"][0]["text"] == "back"


async def test_progress_is_routed_to_its_request() -> None:
    async with stdio() as upstream:
        seen: dict[str, list[Any]] = {"a": [], "b": []}

        async def run(label: str, steps: int) -> None:
            async def on_message(data: bytes) -> None:
                seen[label].append(json.loads(data)["params"])

            params = {
                "name": "slow",
                "arguments": {"steps": steps, "delay": 0.02},
                "_meta": {"progressToken": 1},
            }
            await upstream.request(UpstreamCall(method="tools/call", params=params), on_message)

        async with anyio.create_task_group() as tg:
            tg.start_soon(run, "a", 3)
            tg.start_soon(run, "b", 5)
    assert [p["progress"] for p in seen["a"]] == [1, 2, 3]
    assert [p["progress"] for p in seen["b"]] == [1, 2, 3, 4, 5]
    assert {p["progressToken"] for p in seen["a"] + seen["b"]} == {1}  # the client's token, both times


async def test_timeout_then_next_call_works() -> None:
    async with stdio() as upstream:
        call = UpstreamCall(
            method="tools/call", params={"name": "slow", "arguments": {"steps": 50}}, timeout_s=0.3
        )
        with pytest.raises(UpstreamTimeoutError, match="'local'"):
            await upstream.request(call)
        assert _result(await upstream.request(_call("echo", text="ok")))["content"][0]["text"] == "ok"


async def test_overlong_line_restarts_the_process() -> None:
    async with stdio(max_line_bytes=4096) as upstream:
        with pytest.raises(UpstreamError):
            await upstream.request(_call("echo", text="z" * 10_000))
        assert _result(await upstream.request(_call("echo", text="short")))["content"][0]["text"] == "short"
        assert upstream.status().restarts == 1


async def test_aclose_leaves_no_process() -> None:
    async with stdio() as upstream:
        pid = await _pid(upstream)
        assert _alive(pid)
    assert not _alive(pid)
    assert upstream.status().state == "stopped"
    with pytest.raises(UpstreamError, match="stopped"):
        await upstream.request(_call("echo", text="late"))


async def test_command_that_cannot_start() -> None:
    missing = [sys.executable + "-does-not-exist"]
    async with stdio(command=missing, timeout_s=1, backoff_initial_s=0.05, backoff_max_s=0.1) as upstream:
        status = upstream.status()
        assert status.state == "down"
        assert status.last_error is not None
        assert "could not be started" in status.last_error
        with pytest.raises(UpstreamTimeoutError, match="not running"):
            await upstream.request(_call("echo", text="x"))
        assert upstream.status().restarts >= 2


async def test_server_to_client_request_and_reply() -> None:
    async with stdio(capabilities={"elicitation": {"form": {}}}) as upstream:

        async def on_message(data: bytes) -> None:
            message = json.loads(data)
            if message.get("method") == "elicitation/create":
                answer = {"action": "accept", "content": {"answer": "Grace"}}
                await upstream.reply(
                    json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": answer}).encode()
                )

        reply = await upstream.request(_call("ask", question="Who?"), on_message)
        assert _result(reply)["content"][0]["text"] == "Grace"
