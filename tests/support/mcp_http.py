"""Helpers for the ``/mcp`` contract tests: gateway config over fixture upstreams, keys, raw JSON-RPC."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support.mcp_upstream import HttpFixture

MASTER = "sk-master-mcp-contract"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
CURRENT = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": CURRENT, "io.modelcontextprotocol/clientCapabilities": {}}


def dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/mcp"


def gateway_config(fx: HttpFixture, fy: HttpFixture) -> str:
    return f"""
mcp:
  allow_private_networks: ["127.0.0.1/32"]
  list_timeout_s: 2
  servers:
    - {{name: fx, url: "{fx.url}"}}
    - {{name: fy, url: "{fy.url}", era: "2025-11-25", tools: {{deny: [crash, pid]}}}}
    - {{name: dead, url: "{dead_url()}", timeout_s: 1}}
"""


def issue(base: str, **body: Any) -> str:
    answer = httpx.post(f"{base}/admin/keys", json=body, headers=ADMIN, timeout=10)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["key"])


def sdk(base: str, key: str, mode: str, **kw: Any) -> Client:
    http = httpx2.AsyncClient(headers={"x-routeiq-api-key": key}, timeout=30)
    return Client(streamable_http_client(f"{base}/mcp", http_client=http), mode=mode, **kw)  # type: ignore[arg-type]


def post(base: str, body: Any, *, key: str | None = None, **headers: str) -> httpx.Response:
    sent = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", **headers}
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{base}/mcp", content=data, headers=sent, timeout=10)


def current(method: str, params: dict[str, Any] | None = None, name: str | None = None) -> dict[str, str]:
    headers = {"MCP-Protocol-Version": CURRENT, "Mcp-Method": method}
    if name is not None:
        headers["Mcp-Name"] = name
    return headers


def rpc(method: str, params: dict[str, Any] | None = None, id_: Any = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        body["params"] = params
    return body


def error_of(answer: httpx.Response) -> tuple[int, int]:
    return answer.status_code, answer.json()["error"]["code"]


def initialize(base: str, key: str) -> str:
    params = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    }
    answer = post(base, rpc("initialize", params), key=key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["protocolVersion"] == "2025-11-25"
    return str(answer.headers["mcp-session-id"])
