"""The HTTP MCP upstream adapter against upstreams that misbehave (tiny aiohttp apps on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from routeiq_adapters.mcp import HttpMcpUpstream
from routeiq_core.errors import UpstreamError
from routeiq_core.mcp import UpstreamCall

pytestmark = pytest.mark.anyio

SECRET = "Bearer fault-secret-456"
Handler = Callable[[dict[str, Any], web.Request], Awaitable[web.StreamResponse]]
CALL = UpstreamCall(method="tools/call", params={"name": "echo", "arguments": {"text": "x"}})


def discover_ok(request_id: Any) -> web.Response:
    result = {
        "supportedVersions": ["2026-07-28"],
        "capabilities": {"tools": {}},
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "fake", "version": "0"}},
    }
    return web.json_response({"jsonrpc": "2.0", "id": request_id, "result": result})


@asynccontextmanager
async def fake(handler: Handler) -> AsyncIterator[str]:
    async def route(request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else {}
        return await handler(body, request)

    app = web.Application()
    app.router.add_route("*", "/mcp", route)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        await runner.cleanup()


def current(answer: Handler) -> Handler:
    """A current-era upstream: discover works, everything else goes to ``answer``."""

    async def handler(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        if body.get("method") == "server/discover":
            return discover_ok(body["id"])
        return await answer(body, request)

    return handler


@asynccontextmanager
async def adapter(url: str, **options: Any) -> AsyncIterator[HttpMcpUpstream]:
    async with aiohttp.ClientSession() as http:
        upstream = HttpMcpUpstream(
            name="faulty", url=url, http=http, headers={"Authorization": SECRET}, **options
        )
        await upstream.start()
        yield upstream


async def _expect_failure(upstream: HttpMcpUpstream, match: str) -> UpstreamError:
    with pytest.raises(UpstreamError, match=match) as caught:
        await upstream.request(CALL)
    message = caught.value.message
    assert "'faulty'" in message
    assert SECRET not in message
    status = upstream.status()
    assert status.state == "down"
    assert status.last_error == message
    return caught.value


async def test_garbage_answers() -> None:
    async def plain(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        return web.Response(text="hello", content_type="text/plain")

    async def not_jsonrpc(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        return web.json_response({"hello": "world"})

    async def other_id(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        return web.json_response({"jsonrpc": "2.0", "id": 999_999, "result": {}})

    for handler, match in (
        (plain, "text/plain"),
        (not_jsonrpc, "not JSON-RPC"),
        (other_id, "without a JSON-RPC"),
    ):
        async with fake(current(handler)) as url, adapter(url) as upstream:
            await _expect_failure(upstream, match)


async def test_oversize_body_and_event() -> None:
    async def big_json(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": {"pad": "x" * 5000}})

    async def big_event(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: " + b"y" * 5000 + b"\n\n")
        return response

    for handler in (big_json, big_event):
        async with fake(current(handler)) as url, adapter(url, max_message_bytes=2048) as upstream:
            await _expect_failure(upstream, "larger than 2048 bytes")


async def test_event_stream_is_relayed_and_the_result_kept_byte_for_byte() -> None:
    result = b'{"content":[],"x-vendor":{"weight":1.50,"nested":[true,null]},"isError":false}'

    async def stream(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        progress = (
            b'{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}'
        )
        await response.write(b": keep-alive\r\n\r\nid: 1\r\nevent: message\r\ndata: " + progress[:16])
        await response.write(b"\r\ndata: " + progress[16:] + b"\r\n\r\n")
        await response.write(b'data: {"jsonrpc":"2.0","id":"srv-1","method":"roots/list"}\n\n')
        await response.write(
            b'data: {"jsonrpc":"2.0","id":' + str(body["id"]).encode() + b',"result":' + result + b"}\n\n"
        )
        await response.write(b'data: {"jsonrpc":"2.0","method":"notifications/after"}\n\n')
        return response

    received: list[bytes] = []

    async def on_message(data: bytes) -> None:
        received.append(data)

    async with fake(current(stream)) as url, adapter(url) as upstream:
        reply = await upstream.request(CALL, on_message)
    assert reply.result is not None
    assert bytes(reply.result) == result
    assert [json.loads(m).get("method") for m in received] == ["notifications/progress", "roots/list"]
    assert json.loads(received[0])["params"]["progress"] == 1  # two data lines, rejoined with LF


async def test_stream_ending_without_answer() -> None:
    async def short(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'data: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\n\n')
        return response

    async with fake(current(short)) as url, adapter(url) as upstream:
        error = await _expect_failure(upstream, "closed its event stream")
        assert error.retryable


async def test_http_errors_redirects_and_empty_accepts() -> None:
    async def server_error(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        error = {"jsonrpc": "2.0", "id": None, "error": {"code": -32603, "message": "database down"}}
        return web.json_response(error, status=500)

    async def redirect(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": "http://169.254.169.254/"})

    async def accepted(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        return web.Response(status=202)

    async with fake(current(server_error)) as url, adapter(url) as upstream:
        error = await _expect_failure(upstream, "HTTP 500: database down")
        assert error.retryable
        assert error.status_code == 502
    async with fake(current(redirect)) as url, adapter(url) as upstream:
        await _expect_failure(upstream, "HTTP 302")
    async with fake(current(accepted)) as url, adapter(url) as upstream:
        await _expect_failure(upstream, "HTTP 202")


async def test_unreachable_upstream() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with adapter(f"http://127.0.0.1:{port}/mcp", timeout_s=5) as upstream:
        status = upstream.status()
        assert status.state == "down"
        assert status.era is None
        assert status.last_error is not None
        assert "could not be reached" in status.last_error
        error = await _expect_failure(upstream, "could not be reached")
        assert error.retryable


async def test_failed_detection_is_retried_on_the_next_request() -> None:
    calls: list[str] = []

    async def flaky(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        calls.append(body.get("method", ""))
        if body.get("method") == "server/discover":
            if calls.count("server/discover") == 1:
                return web.Response(status=503, text="warming up")
            return discover_ok(body["id"])
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": {"ok": True}})

    async with fake(flaky) as url, adapter(url) as upstream:
        assert upstream.status().state == "down"
        assert upstream.status().era is None
        reply = await upstream.request(CALL)
        assert reply.result is not None
        assert json.loads(bytes(reply.result)) == {"ok": True}
        assert upstream.status().era == "2026-07-28"
        assert upstream.status().state == "up"
    assert calls == ["server/discover", "server/discover", "tools/call"]


async def test_session_reopened_only_once() -> None:
    initializes: list[int] = []

    async def forgetful(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        if request.headers.get("MCP-Protocol-Version") == "2026-07-28":
            return web.json_response(
                {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32022, "message": "no"}}, status=400
            )
        if body.get("method") == "initialize":
            initializes.append(body["id"])
            result = {
                "protocolVersion": "2025-03-26",
                "capabilities": {},
                "serverInfo": {"name": "f", "version": "0"},
            }
            session = {"Mcp-Session-Id": f"s{len(initializes)}"}
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result}, headers=session)
        if "id" not in body:
            return web.Response(status=202)
        return web.json_response(
            {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Session not found"}},
            status=404,
        )

    async with fake(forgetful) as url, adapter(url) as upstream:
        assert upstream.status().era == "2025-03-26"
        await _expect_failure(upstream, "forgot a session it had just opened")
    assert len(initializes) == 2
