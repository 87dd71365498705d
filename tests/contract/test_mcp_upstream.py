"""The MCP upstream port's HTTP adapter against the official SDK's server, in both protocol eras.

The fixture (tests/support/mcp_upstream.py) is the ``mcp`` SDK serving Streamable HTTP on 127.0.0.1;
``both`` answers the current era (2026-07-28), the others play legacy-only servers (one negotiating
down to 2025-06-18). Misbehaving upstreams are tiny aiohttp apps (tests/contract/test_mcp_upstream_faults.py);
the stdio adapter has its own suite (tests/contract/test_mcp_stdio_upstream.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest

from routeiq_adapters.mcp import HttpMcpUpstream
from routeiq_core.errors import InvalidRequestError, UpstreamTimeoutError
from routeiq_core.mcp import UpstreamCall
from tests.support.mcp_upstream import ECHO_TOOL_META, NOTE, HttpFixture, eventually, serve_http

pytestmark = pytest.mark.anyio

SECRET = "Bearer upstream-secret-123"
EXPECTED_ERA = {"both": "2026-07-28", "2025-11-25": "2025-11-25", "2025-06-18": "2025-06-18"}


@pytest.fixture(params=["both", "2025-11-25", "2025-06-18"])
def fixture(request: pytest.FixtureRequest) -> Iterator[HttpFixture]:
    with serve_http(era=request.param) as served:
        yield served


@pytest.fixture
def legacy_fixture() -> Iterator[HttpFixture]:
    with serve_http(era="2025-11-25") as served:
        yield served


@asynccontextmanager
async def _upstream(fx: HttpFixture, **options: Any) -> AsyncIterator[HttpMcpUpstream]:
    async with aiohttp.ClientSession() as http:
        upstream = HttpMcpUpstream(
            name="fixture", url=fx.url, http=http, headers={"Authorization": SECRET}, timeout_s=10, **options
        )
        await upstream.start()
        try:
            yield upstream
        finally:
            await upstream.aclose()


@pytest.fixture
async def upstream(fixture: HttpFixture) -> AsyncIterator[HttpMcpUpstream]:
    async with _upstream(fixture) as made:
        yield made


@pytest.fixture
async def legacy(legacy_fixture: HttpFixture) -> AsyncIterator[HttpMcpUpstream]:
    async with _upstream(legacy_fixture) as made:
        yield made


def _call(name: str, **arguments: Any) -> UpstreamCall:
    return UpstreamCall(method="tools/call", params={"name": name, "arguments": arguments})


def _result(reply: Any) -> Any:
    assert reply.error is None
    assert isinstance(reply.result, msgspec.Raw)
    return json.loads(bytes(reply.result))


def _posts(fx: HttpFixture, method: str) -> list[Any]:
    return [seen for seen in fx.seen if seen.method == "POST" and (seen.json() or {}).get("method") == method]


async def test_era_detection(fixture: HttpFixture, upstream: HttpMcpUpstream) -> None:
    status = upstream.status()
    assert (status.state, status.era, status.transport, status.last_error) == (
        "up",
        EXPECTED_ERA[fixture.era],
        "http",
        None,
    )
    discover = fixture.seen[0]
    assert discover.json()["method"] == "server/discover"
    assert discover.headers["mcp-protocol-version"] == "2026-07-28"
    assert discover.headers["mcp-method"] == "server/discover"
    assert discover.headers["authorization"] == SECRET
    if fixture.era == "both":
        assert not _posts(fixture, "initialize")
    else:
        (initialized,) = _posts(fixture, "notifications/initialized")
        assert initialized.headers["mcp-session-id"]
        assert initialized.headers["mcp-protocol-version"] == EXPECTED_ERA[fixture.era]


async def test_tools_list_is_raw(upstream: HttpMcpUpstream) -> None:
    tools = {
        tool["name"]: tool
        for tool in _result(await upstream.request(UpstreamCall(method="tools/list")))["tools"]
    }
    assert {"echo", "add", "slow", "fail"} <= set(tools)
    assert tools["echo"]["_meta"] == ECHO_TOOL_META  # a field the gateway does not model survives


async def test_tools_call_headers_ids_and_meta(fixture: HttpFixture, upstream: HttpMcpUpstream) -> None:
    reply = await upstream.request(_call("echo", text="hello"))
    assert _result(reply)["content"][0]["text"] == "hello"
    meta_in = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "io.example/x": [1]}
    call = UpstreamCall(
        method="tools/call",
        params={"name": "meta", "arguments": {}, "_meta": meta_in},
        headers={"Mcp-Param-Region": "eu", "Authorization": "Bearer client-forged"},
    )
    seen_meta = json.loads(_result(await upstream.request(call))["content"][0]["text"])
    assert {k: seen_meta[k] for k in meta_in} == meta_in
    (sent,) = [s for s in _posts(fixture, "tools/call") if s.json()["params"]["name"] == "meta"]
    assert sent.headers["authorization"] == SECRET
    assert sent.headers["mcp-param-region"] == "eu"
    assert isinstance(sent.json()["id"], int)
    if fixture.era == "both":
        assert (sent.headers["mcp-method"], sent.headers["mcp-name"]) == ("tools/call", "meta")
        assert seen_meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    else:
        assert sent.headers["mcp-session-id"]
        assert "mcp-method" not in sent.headers


async def test_add_resources_prompts(fixture: HttpFixture, upstream: HttpMcpUpstream) -> None:
    assert _result(await upstream.request(_call("add", a=2, b=40)))["structuredContent"] == {"result": 42}
    read = await upstream.request(UpstreamCall(method="resources/read", params={"uri": "memo://note"}))
    assert _result(read)["contents"][0]["text"] == NOTE
    keyed = await upstream.request(UpstreamCall(method="resources/read", params={"uri": "memo://notes/k1"}))
    assert _result(keyed)["contents"][0]["text"] == "note k1"
    templates = _result(await upstream.request(UpstreamCall(method="resources/templates/list")))
    assert templates["resourceTemplates"][0]["uriTemplate"] == "memo://notes/{key}"
    prompt = await upstream.request(
        UpstreamCall(method="prompts/get", params={"name": "greet", "arguments": {"name": "Ada"}})
    )
    assert "Hello, Ada!" in json.dumps(_result(prompt))
    if fixture.era == "both":
        (sent,) = [s for s in _posts(fixture, "resources/read") if s.json()["params"]["uri"] == "memo://note"]
        assert sent.headers["mcp-name"] == "memo://note"


async def test_progress_relayed_in_order(upstream: HttpMcpUpstream) -> None:
    received: list[bytes] = []

    async def on_message(data: bytes) -> None:
        received.append(data)

    params = {
        "name": "slow",
        "arguments": {"steps": 4, "delay": 0.02},
        "_meta": {"progressToken": "client-token"},
    }
    reply = await upstream.request(UpstreamCall(method="tools/call", params=params), on_message)
    assert _result(reply)["content"][0]["text"] == "done"
    progress = [
        json.loads(m)["params"] for m in received if json.loads(m)["method"] == "notifications/progress"
    ]
    assert [p["progress"] for p in progress] == [1, 2, 3, 4]
    assert {p["progressToken"] for p in progress} == {"client-token"}


async def test_upstream_errors_are_replies(upstream: HttpMcpUpstream) -> None:
    reply = await upstream.request(UpstreamCall(method="no/such-method"))
    assert reply.result is None
    assert reply.error is not None
    assert reply.error["code"] == -32601
    failed = _result(await upstream.request(_call("fail", reason="broken on purpose")))
    assert failed["isError"] is True
    assert "broken on purpose" in failed["content"][0]["text"]
    assert upstream.status().state == "up"


async def test_cancelling_closes_the_upstream_request(
    fixture: HttpFixture, upstream: HttpMcpUpstream
) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(upstream.request, _call("slow", steps=100, delay=0.1, label="to-cancel"))
        assert await eventually(lambda: "to-cancel" in fixture.state.started)
        tg.cancel_scope.cancel()
    assert await eventually(lambda: "to-cancel" in fixture.state.cancelled)
    if fixture.era != "both":
        (cancelled,) = _posts(fixture, "notifications/cancelled")
        assert isinstance(cancelled.json()["params"]["requestId"], int)
    assert _result(await upstream.request(_call("echo", text="after")))["content"][0]["text"] == "after"


async def test_timeout(fixture: HttpFixture, upstream: HttpMcpUpstream) -> None:
    call = UpstreamCall(
        method="tools/call", params={"name": "slow", "arguments": {"steps": 50, "delay": 0.1}}, timeout_s=0.3
    )
    with pytest.raises(UpstreamTimeoutError, match="'fixture'"):
        await upstream.request(call)
    status = upstream.status()
    assert status.state == "down"
    assert status.last_error is not None
    assert SECRET not in status.last_error
    assert _result(await upstream.request(_call("echo", text="x")))["content"][0]["text"] == "x"
    assert upstream.status().state == "up"


async def test_forgotten_own_session_is_reopened(
    legacy_fixture: HttpFixture, legacy: HttpMcpUpstream
) -> None:
    assert _result(await legacy.request(_call("echo", text="one")))
    legacy_fixture.restart()
    reply = await legacy.request(_call("echo", text="two"))
    assert _result(reply)["content"][0]["text"] == "two"
    assert reply.session is None
    assert len(_posts(legacy_fixture, "initialize")) == 2


async def test_forgotten_client_session_is_replaced(
    legacy_fixture: HttpFixture, legacy: HttpMcpUpstream
) -> None:
    opened = await legacy.open_session(
        client_info={"name": "client", "version": "2"}, capabilities={"roots": {}}
    )
    assert opened.session_id
    assert opened.protocol_version == "2025-11-25"
    assert opened.server_info is not None
    assert opened.server_info["name"] == "routeiq-fixture"
    call = UpstreamCall(
        method="tools/call", params={"name": "echo", "arguments": {"text": "a"}}, session=opened.session_id
    )
    assert (await legacy.request(call)).session is None
    legacy_fixture.restart()
    replaced = await legacy.request(call)
    assert _result(replaced)["content"][0]["text"] == "a"
    assert replaced.session is not None
    assert replaced.session != opened.session_id
    reopened = _posts(legacy_fixture, "initialize")[-1].json()["params"]
    assert reopened["clientInfo"] == {"name": "client", "version": "2"}
    assert reopened["capabilities"] == {"roots": {}}


async def test_close_session_sends_delete(legacy_fixture: HttpFixture, legacy: HttpMcpUpstream) -> None:
    opened = await legacy.open_session(client_info={"name": "c", "version": "1"}, capabilities={})
    assert opened.session_id is not None
    await legacy.close_session(opened.session_id)
    deletes = [s for s in legacy_fixture.seen if s.method == "DELETE"]
    assert deletes
    assert deletes[-1].headers["mcp-session-id"] == opened.session_id
    call = UpstreamCall(method="tools/list", session=opened.session_id)
    assert (await legacy.request(call)).session not in (None, opened.session_id)


async def test_open_session_on_current_era(fixture: HttpFixture, upstream: HttpMcpUpstream) -> None:
    opened = await upstream.open_session(client_info={"name": "c", "version": "1"}, capabilities={})
    assert opened.protocol_version == EXPECTED_ERA[fixture.era]
    assert "tools" in opened.capabilities
    assert (opened.session_id is None) is (fixture.era == "both")


async def test_notify_and_reply(fixture: HttpFixture, upstream: HttpMcpUpstream) -> None:
    await upstream.notify("notifications/roots/list_changed", None)
    (sent,) = _posts(fixture, "notifications/roots/list_changed")
    assert sent.headers["authorization"] == SECRET
    with pytest.raises(InvalidRequestError):
        await upstream.reply(b'{"jsonrpc":"2.0","method":"not/a-response"}')


async def test_forced_current_era_against_legacy_upstream(legacy_fixture: HttpFixture) -> None:
    async with _upstream(legacy_fixture, era="2026-07-28") as upstream:
        status = upstream.status()
        assert status.state == "down"
        assert status.era is None
        assert status.last_error is not None
        assert "2026-07-28" in status.last_error


async def test_forced_legacy_era_skips_discover(fixture: HttpFixture) -> None:
    async with _upstream(fixture, era="2025-11-25") as upstream:
        assert upstream.status().era == ("2025-11-25" if fixture.era == "both" else EXPECTED_ERA[fixture.era])
        assert not _posts(fixture, "server/discover")
        assert _result(await upstream.request(_call("echo", text="legacy")))["content"][0]["text"] == "legacy"


async def test_json_response_servers() -> None:
    for era in ("both", "2025-11-25"):
        with serve_http(era=era, json_response=True) as served:
            async with _upstream(served) as upstream:
                reply = await upstream.request(_call("slow", steps=2, delay=0.01))
                assert _result(reply)["content"][0]["text"] == "done"
                assert upstream.status().era == EXPECTED_ERA[era]


async def test_names_that_need_encoding_in_a_header(fixture: HttpFixture, upstream: HttpMcpUpstream) -> None:
    uri = "memo://notes/caf\u00e9"
    read = await upstream.request(UpstreamCall(method="resources/read", params={"uri": uri}))
    assert _result(read)["contents"][0]["text"] == "note caf\u00e9"
    if fixture.era == "both":
        (sent,) = [s for s in _posts(fixture, "resources/read") if s.json()["params"]["uri"] == uri]
        assert sent.headers["mcp-name"].startswith("=?base64?")


async def test_server_to_client_request_and_reply(legacy_fixture: HttpFixture) -> None:
    async with _upstream(legacy_fixture, capabilities={"elicitation": {"form": {}}}) as upstream:
        asked: list[dict[str, Any]] = []

        async def on_message(data: bytes) -> None:
            message = json.loads(data)
            if message.get("method") == "elicitation/create":
                asked.append(message)
                answer = {"action": "accept", "content": {"answer": "Ada"}}
                await upstream.reply(
                    json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": answer}).encode()
                )

        reply = await upstream.request(_call("ask", question="Who?"), on_message)
        assert _result(reply)["content"][0]["text"] == "Ada"
        assert asked[0]["params"]["message"] == "Who?"


async def test_concurrency_is_bounded(legacy_fixture: HttpFixture) -> None:
    async with _upstream(legacy_fixture, max_concurrency=1) as upstream:
        async with anyio.create_task_group() as tg:
            tg.start_soon(upstream.request, _call("slow", steps=5, delay=0.1, label="holder"))
            assert await eventually(lambda: "holder" in legacy_fixture.state.started)
            waiting = UpstreamCall(method="tools/list", timeout_s=0.1)
            with pytest.raises(UpstreamTimeoutError):
                await upstream.request(waiting)
        assert _result(await upstream.request(UpstreamCall(method="tools/list")))["tools"]


def _answering(upstream: HttpMcpUpstream, session: str | None, text: str) -> Any:
    async def on_message(data: bytes) -> None:
        message = json.loads(data)
        if message.get("method") == "elicitation/create":
            answer = {
                "jsonrpc": "2.0",
                "id": message["id"],
                "result": {"action": "accept", "content": {"answer": text}},
            }
            await upstream.reply(json.dumps(answer).encode(), session=session)

    return on_message


async def test_legacy_sessions_on_a_dual_era_upstream() -> None:
    with serve_http(era="both") as served:
        async with _upstream(served, legacy_sessions=True) as upstream:
            assert upstream.status().era == "2026-07-28"
            caps = {"elicitation": {"form": {}}}
            opened = await upstream.open_session(
                client_info={"name": "old", "version": "1"}, capabilities=caps
            )
            assert opened.session_id is not None
            assert opened.protocol_version == "2025-11-25"
            call = UpstreamCall(
                method="tools/call", params={"name": "ask", "arguments": {}}, session=opened.session_id
            )
            reply = await upstream.request(call, _answering(upstream, opened.session_id, "Lin"))
            assert _result(reply)["content"][0]["text"] == "Lin"
            sent = [
                s
                for s in _posts(served, "tools/call")
                if s.headers.get("mcp-session-id") == opened.session_id
            ]
            assert sent
            assert sent[0].headers["mcp-protocol-version"] == "2025-11-25"
            served.restart()
            again = UpstreamCall(
                method="tools/call",
                params={"name": "echo", "arguments": {"text": "x"}},
                session=opened.session_id,
            )
            replaced = await upstream.request(again)
            assert replaced.session not in (None, opened.session_id)
            sessionless = await upstream.request(_call("echo", text="current"))
            assert _result(sessionless)["content"][0]["text"] == "current"
            assert served.seen[-1].headers["mcp-protocol-version"] == "2026-07-28"


async def test_legacy_sessions_on_a_current_only_upstream() -> None:
    with serve_http(era="2026-07-28") as served:
        async with _upstream(served, legacy_sessions=True) as upstream:
            for _ in range(2):
                opened = await upstream.open_session(
                    client_info={"name": "old", "version": "1"}, capabilities={}
                )
                assert opened.session_id is None
                assert opened.protocol_version == "2026-07-28"
            assert len(_posts(served, "initialize")) == 1  # refused once, not asked again
            assert upstream.status().state == "up"
