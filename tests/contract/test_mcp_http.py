"""``/mcp`` over a real socket: the official ``mcp`` SDK client in both eras, and the raw error matrix.

The gateway fronts two fixture upstreams built with the SDK (``fx``, ``fy``) and one that is dead
(``dead``: nothing listens on its port), all on loopback through ``mcp.allow_private_networks``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from mcp.shared.exceptions import MCPError

from tests.support.mcp_fakes import serve_gateway
from tests.support.mcp_http import (
    ADMIN,
    CURRENT,
    MASTER,
    META,
    current,
    error_of,
    gateway_config,
    initialize,
    issue,
    post,
    rpc,
    sdk,
)
from tests.support.mcp_upstream import NOTE, HttpFixture, serve_http

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[HttpFixture, HttpFixture]]:
    with serve_http() as fx, serve_http(era="2025-11-25") as fy:
        yield fx, fy


@pytest.fixture(scope="module")
def gateway(
    upstreams: tuple[HttpFixture, HttpFixture], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("mcp")
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp / "keys.db")}
    with serve_gateway(gateway_config(*upstreams), env, tmp) as base:
        yield base


@pytest.fixture(scope="module")
def member(gateway: str) -> str:
    return issue(gateway)


@pytest.fixture(scope="module")
def echo_only(gateway: str) -> str:
    return issue(gateway, metadata={"allowed_tools": ["fx/echo"]})


MODES = pytest.mark.parametrize("mode", [CURRENT, "legacy"])


@MODES
async def test_tools_of_live_upstreams_are_listed_and_called(gateway: str, member: str, mode: str) -> None:
    async with sdk(gateway, member, mode) as client:
        assert client.protocol_version == (CURRENT if mode == CURRENT else "2025-11-25")
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"fx__echo", "fx__add", "fx__slow", "fy__echo", "fy__add"} <= names
        assert "fy__pid" not in names  # the config filter
        assert not any(name.startswith("dead__") for name in names)
        added = await client.call_tool("fy__add", {"a": 2, "b": 3})
        assert [block.text for block in added.content] == ["5"]  # type: ignore[union-attr]
        echoed = await client.call_tool("fx__echo", {"text": "hé"})
        assert echoed.content[0].text == "hé"  # type: ignore[union-attr]


@MODES
async def test_resources_and_prompts(gateway: str, member: str, mode: str) -> None:
    async with sdk(gateway, member, mode) as client:
        uris = {str(resource.uri) for resource in (await client.list_resources()).resources}
        assert {"fx+memo://note", "fy+memo://note"} <= uris
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert "fx+memo://notes/{key}" in templates
        read = await client.read_resource("fx+memo://note")
        assert read.contents[0].text == NOTE  # type: ignore[union-attr]
        assert str(read.contents[0].uri) == "fx+memo://note"
        prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
        assert "fx__greet" in prompts
        got = await client.get_prompt("fx__greet", {"name": "Ada"})
        assert "Ada" in json.dumps(got.model_dump(mode="json"))


@MODES
async def test_progress_is_relayed_as_it_arrives(gateway: str, member: str, mode: str) -> None:
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with sdk(gateway, member, mode) as client:
        result = await client.call_tool(
            "fx__slow", {"steps": 3, "delay": 0.05}, progress_callback=on_progress
        )
        assert result.content[0].text == "done"  # type: ignore[union-attr]
    assert seen == [1, 2, 3]


@MODES
async def test_a_key_with_an_allow_list_cannot_see_or_call_other_tools(
    gateway: str, echo_only: str, mode: str
) -> None:
    async with sdk(gateway, echo_only, mode) as client:
        assert [tool.name for tool in (await client.list_tools()).tools] == ["fx__echo"]
        refusals = []
        for name in ("fx__add", "fx__nothing"):  # hidden, and missing: the same answer
            with pytest.raises(MCPError) as refused:
                await client.call_tool(name, {"a": 1, "b": 1})
            refusals.append((refused.value.error.code, refused.value.error.message.replace(name, "?")))
        assert refusals == [(-32602, "Unknown tool: ?")] * 2


def test_the_error_matrix(gateway: str, member: str) -> None:
    list_tools = rpc("tools/list", {"_meta": META})
    assert error_of(post(gateway, list_tools, **current("tools/list"))) == (401, -32000)
    assert post(gateway, list_tools, **current("tools/list")).headers["www-authenticate"].startswith("Bearer")
    ok = post(gateway, list_tools, key=member, **current("tools/list"))
    assert ok.status_code == 200
    result = ok.json()["result"]
    assert result["cacheScope"] == "private"
    assert result["_meta"]["io.routeiq/upstreams"]["dead"]["ok"] is False
    assert result["_meta"]["io.routeiq/upstreams"]["fx"]["ok"] is True
    assert error_of(post(gateway, b"{nope", key=member, **current("tools/list"))) == (400, -32700)
    assert error_of(post(gateway, [list_tools], key=member, **current("tools/list"))) == (400, -32600)
    assert error_of(post(gateway, list_tools, key=member, **current("tools/call"))) == (400, -32020)
    call = rpc("tools/call", {"name": "fx__echo", "arguments": {"text": "x"}, "_meta": META})
    assert error_of(post(gateway, call, key=member, **current("tools/call", name="fx__add"))) == (400, -32020)
    unsupported = post(gateway, list_tools, key=member, **{"MCP-Protocol-Version": "1999-01-01"})
    assert error_of(unsupported) == (400, -32022)
    assert CURRENT in unsupported.json()["error"]["data"]["supported"]
    unknown = rpc("nothing/here", {"_meta": META})
    assert error_of(post(gateway, unknown, key=member, **current("nothing/here"))) == (404, -32601)
    note = {"jsonrpc": "2.0", "method": "notifications/whatever"}
    assert post(gateway, note, key=member, **current("notifications/whatever")).status_code == 202
    evil = post(gateway, list_tools, key=member, Origin="http://evil.example", **current("tools/list"))
    assert evil.status_code == 403
    rebound = {"Origin": "http://evil.example", "Host": "evil.example"}  # DNS rebinding: Host matches
    assert post(gateway, list_tools, key=member, **rebound, **current("tools/list")).status_code == 403
    local = post(gateway, list_tools, key=member, Origin="http://localhost:3000", **current("tools/list"))
    assert local.status_code == 200
    assert post(gateway, list_tools, key=member, **{"Content-Type": "text/plain"}).status_code == 415
    assert post(gateway, list_tools, key=member, Accept="text/html").status_code == 406
    assert httpx.get(f"{gateway}/mcp", headers={"Authorization": f"Bearer {member}"}).status_code == 405


def test_legacy_sessions_are_sealed_bound_and_ended(gateway: str, member: str, echo_only: str) -> None:
    assert error_of(post(gateway, rpc("tools/list"), key=member)) == (400, -32600)
    assert error_of(post(gateway, rpc("tools/list"), key=member, **{"Mcp-Session-Id": "forged"})) == (
        404,
        -32001,
    )
    session = initialize(gateway, member)
    headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
    assert (
        post(
            gateway, {"jsonrpc": "2.0", "method": "notifications/initialized"}, key=member, **headers
        ).status_code
        == 202
    )
    assert post(gateway, rpc("tools/list"), key=member, **headers).status_code == 200
    assert error_of(post(gateway, rpc("tools/list"), key=echo_only, **headers)) == (404, -32001)
    ended = httpx.delete(f"{gateway}/mcp", headers={"Authorization": f"Bearer {member}", **headers})
    assert ended.status_code == 200
    assert error_of(post(gateway, rpc("tools/list"), key=member, **headers)) == (404, -32001)


def test_admin_lists_each_upstream_with_its_state(gateway: str, member: str) -> None:
    answer = httpx.get(f"{gateway}/admin/mcp/servers", headers=ADMIN, timeout=10)
    assert answer.status_code == 200, answer.text
    servers = {server["name"]: server for server in answer.json()["servers"]}
    assert servers["fx"]["state"] == "up"
    assert servers["fx"]["tools"] >= 5
    assert servers["dead"]["tools"] is None
    assert servers["dead"]["state"] == "down"
    assert servers["dead"]["last_error"]
    refused = httpx.get(f"{gateway}/admin/mcp/servers", headers={"Authorization": f"Bearer {member}"})
    assert refused.status_code == 403


@pytest.mark.parametrize("mode", [CURRENT, "legacy"])
def test_closing_the_stream_cancels_the_upstream_call(
    gateway: str, member: str, upstreams: tuple[HttpFixture, HttpFixture], mode: str
) -> None:
    fx, _ = upstreams
    label = f"cancel-{mode}"
    arguments = {"steps": 50, "delay": 0.1, "label": label}
    if mode == CURRENT:
        params = {"name": "fx__slow", "arguments": arguments, "_meta": {**META, "progressToken": "p1"}}
        headers = current("tools/call", name="fx__slow")
    else:
        headers = {"Mcp-Session-Id": initialize(gateway, member), "MCP-Protocol-Version": "2025-11-25"}
        params = {"name": "fx__slow", "arguments": arguments, "_meta": {"progressToken": "p1"}}
    sent = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {member}",
        **headers,
    }
    body = json.dumps(rpc("tools/call", params)).encode()
    with httpx.stream("POST", f"{gateway}/mcp", content=body, headers=sent, timeout=10) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        first = next(line for line in answer.iter_lines() if line.startswith("data: "))
        assert json.loads(first[6:])["method"] == "notifications/progress"
    deadline = time.monotonic() + 5
    while label not in fx.state.cancelled and time.monotonic() < deadline:
        time.sleep(0.05)
    assert label in fx.state.started
    assert label in fx.state.cancelled


def test_meta_reaches_the_upstream_and_unknown_fields_come_back(gateway: str, member: str) -> None:
    trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    meta = {**META, "traceparent": trace, "io.example/custom": {"x": 1}}
    answer = post(
        gateway,
        rpc("tools/call", {"name": "fx__meta", "arguments": {}, "_meta": meta}),
        key=member,
        **current("tools/call", name="fx__meta"),
    )
    assert answer.status_code == 200, answer.text
    seen = json.loads(answer.json()["result"]["content"][0]["text"])
    assert seen["traceparent"] == trace
    assert seen["io.example/custom"] == {"x": 1}
    listed = post(gateway, rpc("tools/list", {"_meta": META}), key=member, **current("tools/list"))
    echo = next(tool for tool in listed.json()["result"]["tools"] if tool["name"] == "fx__echo")
    assert echo["_meta"]["io.example/vendor"] == {"tier": "gold", "weights": [1, 2.5]}


def test_an_upstream_that_forgot_the_session_is_reinitialised(
    gateway: str, member: str, upstreams: tuple[HttpFixture, HttpFixture]
) -> None:
    _, fy = upstreams
    headers = {"Mcp-Session-Id": initialize(gateway, member), "MCP-Protocol-Version": "2025-11-25"}
    call = rpc("tools/call", {"name": "fy__add", "arguments": {"a": 1, "b": 2}})
    assert post(gateway, call, key=member, **headers).json()["result"]["content"][0]["text"] == "3"
    fy.restart()  # every upstream session is gone
    for _ in range(2):
        answer = post(gateway, call, key=member, **headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"]["content"][0]["text"] == "3"
