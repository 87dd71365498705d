"""Shared JSON-RPC helpers and stdio routing of the MCP upstream adapters (no I/O)."""

from __future__ import annotations

import base64

import msgspec
import pytest

from routeiq_adapters.mcp import _jsonrpc as rpc
from routeiq_adapters.mcp._http_headers import HeaderBuilder
from routeiq_adapters.mcp._stdio_process import child_env
from routeiq_adapters.mcp._stdio_waiters import Waiter, Waiters, own_progress_token
from routeiq_core.errors import UpstreamError


def test_header_value_plain_and_wrapped() -> None:
    assert rpc.header_value("echo") == "echo"
    wrapped = rpc.header_value("héllo\n")
    assert wrapped.startswith("=?base64?")
    assert wrapped.endswith("?=")
    assert base64.b64decode(wrapped[9:-2]).decode() == "héllo\n"
    assert rpc.header_value(" padded").startswith("=?base64?")
    assert rpc.header_value("=?base64?eA==?=").startswith("=?base64?PT9")


def test_name_header_per_method() -> None:
    assert rpc.name_header("tools/call", {"name": "echo"}) == "echo"
    assert rpc.name_header("prompts/get", {"name": "greet"}) == "greet"
    assert rpc.name_header("resources/read", {"uri": "memo://note"}) == "memo://note"
    assert rpc.name_header("tools/list", {"name": "x"}) is None
    assert rpc.name_header("tools/call", {"name": 3}) is None
    assert rpc.name_header("tools/call", None) is None


def test_envelope_keeps_client_meta_and_forces_version() -> None:
    params = {
        "name": "echo",
        "_meta": {"traceparent": "00-x", "io.modelcontextprotocol/protocolVersion": "old"},
    }
    out = rpc.envelope_params(params, {"name": "gw"}, {"roots": {}})
    meta = out["_meta"]
    assert meta["traceparent"] == "00-x"
    assert meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    assert meta["io.modelcontextprotocol/clientInfo"] == {"name": "gw"}
    assert meta["io.modelcontextprotocol/clientCapabilities"] == {"roots": {}}
    assert params["_meta"]["io.modelcontextprotocol/protocolVersion"] == "old"  # the caller's dict untouched


def test_decode_rejects_non_jsonrpc() -> None:
    for garbage in (b"hello", b"[1]", b'{"id": 1, "result": {}}', b'{"jsonrpc": "1.0", "id": 1}'):
        with pytest.raises(UpstreamError, match="'up'"):
            rpc.decode_message(garbage, "up")


def test_result_stays_raw_and_ids_must_be_ints() -> None:
    message = rpc.decode_message(b'{"jsonrpc":"2.0","id":4,"result":{"x-vendor":1.50,"n":[1]}}', "up")
    reply = rpc.reply_of(message, "up")
    assert isinstance(reply.result, msgspec.Raw)
    assert bytes(reply.result) == b'{"x-vendor":1.50,"n":[1]}'
    assert rpc.answers(message, 4)
    assert not rpc.answers(rpc.decode_message(b'{"jsonrpc":"2.0","id":true,"result":{}}', "up"), 1)
    assert not rpc.answers(rpc.decode_message(b'{"jsonrpc":"2.0","id":"4","result":{}}', "up"), 4)


def test_malformed_error_is_an_upstream_error() -> None:
    message = rpc.decode_message(b'{"jsonrpc":"2.0","id":1,"error":"bad"}', "up")
    with pytest.raises(UpstreamError):
        rpc.reply_of(message, "up")


def test_initialize_result_versions() -> None:
    good = msgspec.Raw(
        b'{"protocolVersion":"2025-03-26","capabilities":{"tools":{}},"serverInfo":{"name":"s"}}'
    )
    session = rpc.session_from_initialize(good, "sid", "up")
    assert (session.protocol_version, session.session_id, session.capabilities) == (
        "2025-03-26",
        "sid",
        {"tools": {}},
    )
    with pytest.raises(UpstreamError, match="unsupported protocol version"):
        rpc.session_from_initialize(msgspec.Raw(b'{"protocolVersion":"1999-01-01"}'), None, "up")


def test_headers_protect_credentials_and_protocol() -> None:
    builder = HeaderBuilder({"Authorization": "Bearer k", "mcp-session-id": "from-config"})
    headers = builder.build(
        version="2026-07-28",
        method="tools/call",
        name="echo",
        extra={
            "Mcp-Param-Region": "eu",
            "Authorization": "Bearer evil",
            "Mcp-Param-Bad": "a\r\nb",
            "X-Other": "1",
        },
    )
    assert headers["Authorization"] == "Bearer k"
    assert headers["Mcp-Param-Region"] == "eu"
    assert "Mcp-Param-Bad" not in headers
    assert "X-Other" not in headers
    assert "mcp-session-id" not in headers
    assert headers["Mcp-Name"] == "echo"
    legacy = builder.build(version="2025-11-25", session="s1", method="tools/call", name="echo")
    assert legacy["Mcp-Session-Id"] == "s1"
    assert "Mcp-Method" not in legacy


def test_own_progress_token() -> None:
    params = {"name": "slow", "_meta": {"progressToken": "client-1", "other": 1}}
    rewritten, token = own_progress_token(params, 42)
    assert token == "client-1"
    assert rewritten is not None
    assert rewritten["_meta"] == {"progressToken": 42, "other": 1}
    assert params["_meta"]["progressToken"] == "client-1"
    assert own_progress_token({"name": "x"}, 1) == ({"name": "x"}, None)


def _incoming(data: bytes) -> rpc.Incoming:
    return rpc.decode_message(data, "up")


@pytest.mark.anyio
async def test_routing_by_id_token_and_single_waiter() -> None:
    waiters = Waiters("up")
    first, second = Waiter(1, "t"), Waiter(2, None)
    waiters.add(first)
    waiters.add(second)
    progress = (
        b'{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}'
    )
    assert waiters.route(_incoming(progress), progress) is None
    assert msgspec.json.decode(first.messages[0])["params"]["progressToken"] == "t"
    log = b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info"}}'
    assert waiters.route(_incoming(log), log) is None  # two in flight: dropped
    asking = b'{"jsonrpc":"2.0","id":"s-1","method":"sampling/createMessage","params":{}}'
    refusal = waiters.route(_incoming(asking), asking)
    assert refusal is not None
    assert msgspec.json.decode(refusal)["id"] == "s-1"
    answer = b'{"jsonrpc":"2.0","id":2,"result":{}}'
    waiters.route(_incoming(answer), answer)
    assert second.done
    assert second.response is not None
    waiters.remove(2)
    assert waiters.route(_incoming(asking), asking) is None  # one in flight: it gets it
    assert first.messages[-1] == asking
    waiters.fail_all(UpstreamError("gone"))
    assert first.failure is not None
    assert first.done


def test_child_env_keeps_the_gateways_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-gateway")
    monkeypatch.setenv("PATH", "/usr/bin")
    env = child_env({"UPSTREAM_TOKEN": "t", "PATH": "/opt/bin"}, inherit=False)
    assert "OPENAI_API_KEY" not in env
    assert env["PATH"] == "/opt/bin"
    assert env["UPSTREAM_TOKEN"] == "t"
    assert child_env(None, inherit=True)["OPENAI_API_KEY"] == "sk-gateway"
