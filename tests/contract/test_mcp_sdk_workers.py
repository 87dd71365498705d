"""The MCP gateway through ``routeiq serve --workers 2``, driven by the official ``mcp`` SDK client.

Three upstreams stand behind ``/mcp``: ``tools`` (:mod:`tests.support.mcp_upstream`, serving both
eras), ``legacy`` (the same fixture as a 2025-11-25-only server) and ``dead`` (a closed port). Each
test runs in both client eras (2026-07-28 sessionless, 2025-11-25 with a session): list, call,
resources, prompts, progress notifications; a key whose ``allowed_tools`` omits ``tools/add`` can
neither see nor call it (and its refusal reads exactly like a missing tool's); the dead upstream
is skipped, reported in the listing's ``_meta`` and on ``/admin/mcp/servers``, and leaves the others
working.

Which worker served a request is read from the kernel, not from the gateway
(:mod:`tests.support.worker_of`): every request goes on a new TCP connection, and the worker holding
its server side is looked up while it is open. A legacy session is shown to continue on the other
worker when requests carrying one ``Mcp-Session-Id`` are answered, correctly, by both workers, for
both upstreams the session holds; a server→client request's reply is shown to reach the upstream
through the other worker; the 2026-07-28 ``input_required`` rounds pass through whichever worker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CreateMessageRequestParams, CreateMessageResult, ElicitResult, TextContent

from tests.support.gateway_process import GatewayProcess, free_port
from tests.support.mcp_conformance_upstream import serve_conformance_upstream
from tests.support.mcp_upstream import NOTE, serve_http
from tests.support.worker_of import ExchangeLog, Served, wait_for_workers

pytestmark = pytest.mark.slow
MASTER = "sk-master-mcp-sdk-workers"
CURRENT, LEGACY = "2026-07-28", "2025-11-25"
ERAS = (CURRENT, LEGACY)
CONFIG = """
model_list: []
mcp:
  servers:
    - {{name: tools, url: "{tools}", timeout_s: 10}}
    - {{name: legacy, url: "{legacy}", timeout_s: 10}}
    - {{name: dead, url: "{dead}", timeout_s: 2}}
    - {{name: conf, url: "{conf}", timeout_s: 10}}
    - {{name: conf-legacy, url: "{conf}", timeout_s: 10, era: "2025-11-25"}}
  allow_private_networks: ["127.0.0.0/8"]
  list_timeout_s: 2
"""


@dataclass
class Gateway:
    """The running gateway, the two keys, and every exchange with it (with the worker that served it)."""

    url: str
    full_key: str
    limited_key: str
    log: ExchangeLog


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    keys_db = tmp_path_factory.mktemp("mcp-sdk-workers") / "keys.db"
    env = {
        "ROUTEIQ_SERVER__WORKERS": "2",
        "ROUTEIQ_SECURITY__MASTER_KEY": MASTER,
        "ROUTEIQ_KEYS__SQLITE_PATH": str(keys_db),
    }
    dead = f"http://127.0.0.1:{free_port()}/mcp"
    with (
        serve_http(era="both") as tools,
        serve_http(era="2025-11-25") as legacy,
        serve_conformance_upstream() as conf,
    ):
        config = CONFIG.format(tools=tools.url, legacy=legacy.url, dead=dead, conf=conf)
        with GatewayProcess(config, env=env) as gw:
            assert gw.proc is not None
            workers = wait_for_workers(gw.proc.pid, 2)
            admin = {"Authorization": f"Bearer {MASTER}"}
            keys = []
            for metadata in ({}, {"allowed_tools": ["tools/echo", "tools/slow", "legacy/*"]}):
                created = httpx.post(
                    f"{gw.base_url}/admin/keys", json={"metadata": metadata}, headers=admin, timeout=10
                )
                assert created.status_code == 201, created.text
                keys.append(created.json()["key"])
            yield Gateway(f"{gw.base_url}/mcp", keys[0], keys[1], ExchangeLog(workers, gw.port))


async def _sample(context: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
    """The client's model: always answers Paris."""
    text = TextContent(type="text", text="Paris")
    return CreateMessageResult(role="assistant", content=text, model="fake-model", stop_reason="endTurn")


async def _elicit(context: Any, params: Any) -> ElicitResult:
    """The client's user: Ada, who likes blue."""
    answer = {"color": "blue"} if "color" in params.message else {"name": "Ada"}
    return ElicitResult(action="accept", content=answer)


@asynccontextmanager
async def connect(gw: Gateway, era: str, key: str | None = None) -> AsyncIterator[Client]:
    """An SDK client of ``era`` on the gateway; every request on a new connection, recorded in ``gw``."""
    http = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {key or gw.full_key}"},
        timeout=httpx2.Timeout(30, read=60),
        limits=httpx2.Limits(max_keepalive_connections=0),
        event_hooks={"response": [gw.log.record]},
    )
    async with http:
        mode = "legacy" if era == LEGACY else "auto"
        transport = streamable_http_client(gw.url, http_client=http)
        async with Client(
            transport, mode=mode, cache=None, sampling_callback=_sample, elicitation_callback=_elicit
        ) as client:
            assert client.protocol_version == era
            yield client


def _text(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


@pytest.mark.parametrize("era", ERAS)
def test_lists_and_calls_every_live_upstream(gateway: Gateway, era: str) -> None:
    async def run() -> None:
        async with connect(gateway, era) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert {"tools__echo", "tools__add", "tools__slow", "legacy__echo", "legacy__add"} <= tools
            assert not any(name.startswith("dead__") for name in tools)
            assert _text(await client.call_tool("tools__add", {"a": 2, "b": 40})) == "42"
            assert _text(await client.call_tool("legacy__echo", {"text": f"via {era}"})) == f"via {era}"
            failed = await client.call_tool("tools__fail", {"reason": "on purpose"})
            assert failed.is_error
            assert "on purpose" in _text(failed)

    anyio.run(run)


@pytest.mark.parametrize("era", ERAS)
def test_resources_and_prompts(gateway: Gateway, era: str) -> None:
    async def run() -> None:
        async with connect(gateway, era) as client:
            uris = {str(resource.uri) for resource in (await client.list_resources()).resources}
            assert {"tools+memo://note", "legacy+memo://note"} <= uris
            read = await client.read_resource("tools+memo://note")
            assert [getattr(content, "text", None) for content in read.contents] == [NOTE]
            templates = (await client.list_resource_templates()).resource_templates
            assert "tools+memo://notes/{key}" in {t.uri_template for t in templates}
            keyed = await client.read_resource("legacy+memo://notes/k1")
            assert [getattr(content, "text", None) for content in keyed.contents] == ["note k1"]
            prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
            assert {"tools__greet", "legacy__greet"} <= prompts
            prompt = await client.get_prompt("legacy__greet", {"name": "Ada"})
            assert [getattr(m.content, "text", None) for m in prompt.messages] == ["Hello, Ada!"]

    anyio.run(run)


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("server", ["tools", "legacy"])
def test_progress_notifications_arrive(gateway: Gateway, era: str, server: str) -> None:
    seen: list[tuple[float, float | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append((value, total))

    async def run() -> None:
        async with connect(gateway, era) as client:
            result = await client.call_tool(
                f"{server}__slow", {"steps": 3, "delay": 0.05}, progress_callback=progress
            )
            assert _text(result) == "done"

    anyio.run(run)
    assert seen == [(1, 3), (2, 3), (3, 3)]


def _served_by(calls: list[Served], tool: str) -> set[int]:
    return {e.worker for e in calls if e.worker is not None and f'"{tool}"'.encode() in e.body}


def test_a_legacy_session_continues_on_the_other_worker(gateway: Gateway) -> None:
    """One session, calls to both upstreams (each held in the sealed session id), on both workers."""
    tools = ("tools__echo", "legacy__echo")

    def calls() -> list[Served]:
        return [e for e in gateway.log.exchanges if e.session and b'"tools/call"' in e.body]

    async def run() -> None:
        async with connect(gateway, LEGACY) as client:
            for n in range(60):
                tool = tools[n % 2]
                assert _text(await client.call_tool(tool, {"text": f"call {n}"})) == f"call {n}"
                if all(len(_served_by(calls(), name)) == 2 for name in tools):
                    break

    gateway.log.exchanges.clear()
    anyio.run(run)
    made = calls()
    assert len({e.session for e in made}) == 1, "the client changed sessions"
    assert all(e.status == 200 for e in made), [e.status for e in made]
    for tool in tools:
        workers = _served_by(made, tool)
        assert workers == set(gateway.log.workers), (
            f"{tool} in one session ({len(made)} calls) was served by {workers}, not {gateway.log.workers}"
        )


@pytest.mark.parametrize("era", ERAS)
def test_a_denied_tool_is_neither_listed_nor_callable(gateway: Gateway, era: str) -> None:
    async def refusal(client: Client, name: str) -> tuple[int, str]:
        try:
            result = await client.call_tool(name, {"a": 1, "b": 2})
        except MCPError as refused:
            return refused.code, refused.error.message.replace(name, "<tool>")
        pytest.fail(f"{name} was called: {result}")

    async def run() -> None:
        async with connect(gateway, era, key=gateway.limited_key) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert {"tools__echo", "tools__slow", "legacy__add"} <= tools
            assert not {"tools__add", "tools__fail"} & tools
            assert await refusal(client, "tools__add") == await refusal(client, "tools__no_such_tool")
            assert _text(await client.call_tool("tools__echo", {"text": "allowed"})) == "allowed"
        async with connect(gateway, era) as client:  # the full key still sees and calls it
            assert _text(await client.call_tool("tools__add", {"a": 1, "b": 2})) == "3"

    anyio.run(run)


@pytest.mark.parametrize("era", ERAS)
def test_the_dead_upstream_is_skipped_and_reported(gateway: Gateway, era: str) -> None:
    async def run() -> dict[str, Any]:
        async with connect(gateway, era) as client:
            listed = await client.session.list_tools()
            assert any(tool.name == "legacy__echo" for tool in listed.tools)
            assert _text(await client.call_tool("legacy__echo", {"text": "still up"})) == "still up"
            return listed.meta or {}

    outcomes = next(iter(v for v in anyio.run(run).values() if isinstance(v, dict) and "dead" in v), None)
    assert outcomes is not None, "the listing's _meta does not report the upstreams' outcomes"
    assert outcomes["dead"]["ok"] is False
    assert outcomes["tools"]["ok"] is True
    assert outcomes["legacy"]["ok"] is True
    answer = httpx.get(
        gateway.url.removesuffix("/mcp") + "/admin/mcp/servers",
        headers={"Authorization": f"Bearer {MASTER}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    servers = {server["name"]: server for server in answer.json()["servers"]}
    assert servers["dead"]["state"] == "down"
    assert servers["dead"]["last_error"]
    assert (servers["tools"]["state"], servers["tools"]["era"]) == ("up", CURRENT)
    assert (servers["legacy"]["state"], servers["legacy"]["era"]) == ("up", LEGACY)


def test_a_server_request_is_relayed_and_answered_from_any_worker(gateway: Gateway) -> None:
    """A legacy upstream's sampling request mid-call reaches the client; its reply may land anywhere."""
    pairs: list[tuple[int | None, int | None]] = []

    async def run() -> None:
        async with connect(gateway, LEGACY) as client:
            for _ in range(12):
                gateway.log.exchanges.clear()
                result = await client.call_tool(
                    "conf-legacy__test_sampling", {"prompt": "Capital of France?"}
                )
                assert _text(result) == "LLM response: Paris"
                call = [e.worker for e in gateway.log.exchanges if b"conf-legacy__test_sampling" in e.body]
                reply = [e.worker for e in gateway.log.exchanges if b'"fake-model"' in e.body]
                assert len(call) == 1, gateway.log.exchanges
                assert len(reply) == 1, gateway.log.exchanges
                pairs.append((call[0], reply[0]))
                if call[0] is not None and reply[0] not in (None, call[0]):
                    break

    anyio.run(run)
    assert any(c is not None and r not in (None, c) for c, r in pairs), (
        f"no reply reached the other worker (call worker, reply worker): {pairs}"
    )


def test_input_required_rounds_pass_through_any_worker(gateway: Gateway) -> None:
    """2026-07-28 multi-round-trip: the upstream's inputRequests and sealed requestState pass through."""

    async def run() -> None:
        async with connect(gateway, CURRENT) as client:
            sampled = await client.call_tool("conf__test_input_required_result_sampling", {})
            assert _text(sampled) == "Sampling result: Paris"
            rounds = await client.call_tool("conf__test_input_required_result_multi_round", {})
            assert _text(rounds) == "Done: Ada likes blue"

    gateway.log.exchanges.clear()
    anyio.run(run)
    posts = [e for e in gateway.log.exchanges if b"test_input_required_result_multi_round" in e.body]
    assert len(posts) == 3, "expected three rounds of the multi-round tool"
    assert all(e.status == 200 for e in posts)
