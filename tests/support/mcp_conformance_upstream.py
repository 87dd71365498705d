"""The upstream the MCP conformance suite's server scenarios expect, built with the official SDK.

It provides exactly the tools, resources, prompts and behaviours that
``@modelcontextprotocol/conformance`` (pinned in ``tests/conformance/mcp/package.json``) calls on the
server under test, in both eras: 2025-11-25 (sessions: sampling, elicitation and logging mid-call,
resource subscriptions) and 2026-07-28 (sessionless: ``input_required`` results). The tools live in
:mod:`tests.support.mcp_conformance_tools` and :mod:`tests.support.mcp_conformance_input`.
``tests/contract/test_mcp_conformance.py`` runs the suite against it and against the gateway
fronting it in single-upstream mode; ``tests/contract/test_mcp_sdk_workers.py`` relays its sampling
requests and ``input_required`` rounds through two workers.

Run it alone with ``python -m tests.support.mcp_conformance_upstream --port 8931``.
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from mcp.server.caching import CacheHint
from mcp.server.mcpserver import MCPServer
from mcp_types import (
    Completion,
    EmptyResult,
    SetLevelRequestParams,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)

from tests.support import mcp_conformance_input, mcp_conformance_tools
from tests.support.mcp_conformance_tools import IMAGE_PNG, text_result

JSON_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}
"""The hand-written ``inputSchema`` of ``json_schema_2020_12_tool`` (every 2020-12 keyword must survive)."""
CUSTOM_HEADER_SCHEMA = {
    "type": "object",
    "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
    "required": ["region"],
}
"""``test_custom_headers``: ``region`` goes in the body and, mirrored, in ``Mcp-Param-Region`` (SEP-2243)."""
_CACHEABLE = ("tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read")


def json_schema_2020_12_tool(
    name: str = "",
    address: dict[str, Any] | None = None,
    contactMethod: str = "",
    phone: str = "",
    email: str = "",
) -> Any:
    """Answers with who to contact how (its schema is the point)."""
    return text_result(f"contact {name or 'someone'} by {contactMethod or 'any means'}")


def test_custom_headers(region: str) -> Any:
    """Echoes ``region``, which the client must mirror in the ``Mcp-Param-Region`` header."""
    return text_result(f"region {region}")


def _add_resources_and_prompts(server: MCPServer) -> None:
    @server.resource(
        "test://static-text", name="static-text", description="A static text", mime_type="text/plain"
    )
    def static_text() -> str:
        return "This is the content of the static text resource."

    @server.resource("test://static-binary", name="static-binary", description="A PNG", mime_type="image/png")
    def static_binary() -> bytes:
        return base64.b64decode(IMAGE_PNG)

    @server.resource(
        "test://watched-resource", name="watched", description="Subscribable", mime_type="text/plain"
    )
    def watched() -> str:
        return "watched resource"

    @server.resource(
        "test://template/{id}/data", name="template", description="Data per id", mime_type="application/json"
    )
    def template(id: str) -> str:
        return json.dumps(
            {"id": id, "templateTest": True, "data": f"Data for ID: {id}"}, separators=(",", ":")
        )

    @server.prompt(description="A prompt without arguments")
    def test_simple_prompt() -> list[dict[str, Any]]:
        return [{"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}]

    @server.prompt(description="A prompt with two arguments")
    def test_prompt_with_arguments(arg1: str, arg2: str) -> list[dict[str, Any]]:
        text = f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"
        return [{"role": "user", "content": {"type": "text", "text": text}}]

    @server.prompt(description="A prompt embedding a resource")
    def test_prompt_with_embedded_resource(resourceUri: str) -> list[dict[str, Any]]:
        resource = {
            "uri": resourceUri,
            "mimeType": "text/plain",
            "text": "Embedded resource content for testing.",
        }
        return [
            {"role": "user", "content": {"type": "resource", "resource": resource}},
            {
                "role": "user",
                "content": {"type": "text", "text": "Please process the embedded resource above."},
            },
        ]

    @server.prompt(description="A prompt with an image")
    def test_prompt_with_image() -> list[dict[str, Any]]:
        return [
            {"role": "user", "content": {"type": "image", "data": IMAGE_PNG, "mimeType": "image/png"}},
            {"role": "user", "content": {"type": "text", "text": "Please analyze the image above."}},
        ]

    @server.completion()
    async def complete(ref: Any, argument: Any, context: Any) -> Completion:
        words = ["paris", "park", "party", "test", "testing"]
        return Completion(
            values=[w for w in words if w.startswith(argument.value)], total=None, has_more=False
        )


def _add_legacy_handlers(server: MCPServer) -> None:
    """``logging/setLevel`` and resource subscriptions (2025-11-25 methods the SDK leaves to servers)."""
    lowlevel = server._lowlevel_server
    subscribed: set[str] = set()

    async def set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
        return EmptyResult()

    async def subscribe(ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        subscribed.add(str(params.uri))
        return EmptyResult()

    async def unsubscribe(ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        subscribed.discard(str(params.uri))
        return EmptyResult()

    lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)
    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)


def build_server(name: str = "conformance-upstream") -> MCPServer:
    """The conformance upstream: every name the pinned suite's server scenarios call."""
    hints = {method: CacheHint(ttl_ms=0, scope="public") for method in _CACHEABLE}
    server: MCPServer = MCPServer(name, version="1.0.0", cache_hints=hints, log_level="WARNING")  # type: ignore[arg-type]
    for tool in (*mcp_conformance_tools.TOOLS, *mcp_conformance_input.TOOLS):
        server.add_tool(tool)
    server.add_tool(json_schema_2020_12_tool, description="Tool with JSON Schema 2020-12 features")
    server.add_tool(test_custom_headers)
    for name, schema in (
        ("json_schema_2020_12_tool", JSON_SCHEMA_2020_12),
        ("test_custom_headers", CUSTOM_HEADER_SCHEMA),
    ):
        raw = server._tool_manager.get_tool(name)
        assert raw is not None
        raw.parameters = schema  # advertised (and header-checked) as written; the SDK would derive its own
    for prompt in mcp_conformance_input.PROMPTS:
        server.prompt()(prompt)
    _add_resources_and_prompts(server)
    _add_legacy_handlers(server)
    return server


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: IO[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"conformance upstream not listening after {timeout_s}s") from None
            time.sleep(0.1)
    log.seek(0)
    output = log.read().decode(errors="replace")
    raise RuntimeError(f"conformance upstream exited with {proc.returncode}:\n{output}")


@contextmanager
def serve_conformance_upstream(ready_timeout_s: float = 20) -> Iterator[str]:
    """Run the conformance upstream in a subprocess on a free loopback port; yields its ``/mcp`` URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "tests.support.mcp_conformance_upstream", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_listening(proc, port, log, ready_timeout_s)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main() -> None:
    """Serve the conformance upstream over Streamable HTTP (both eras) at ``/mcp``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import uvicorn

    app = build_server().streamable_http_app(host=args.host)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
