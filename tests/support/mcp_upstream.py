"""A fixture MCP server built with the official ``mcp`` SDK, for every test that needs an upstream.

API:

- :func:`build_server(state)` — the server: tools ``echo`` (returns its ``text``; its listing carries a
  vendor ``_meta``), ``add`` (``a + b``), ``slow`` (``steps`` progress notifications ``delay`` s apart,
  then ``"done"``; records start and cancellation in ``state``), ``fail`` (an ``isError`` result),
  ``meta`` (returns the request's ``_meta`` as JSON text), ``ask`` (elicits ``{"answer": str}`` from the
  client, legacy era: returns the answer or the action), ``pid`` (the server process id), ``crash``
  (the process exits: stdio only); resource ``memo://note`` (:data:`NOTE`), template
  ``memo://notes/{key}``; prompt ``greet(name)``.
- :func:`serve_http(era=..., json_response=False)` — a context manager serving it over Streamable HTTP
  on 127.0.0.1 (a free port, a background thread), yielding a :class:`HttpFixture` (``.url``,
  ``.state``, ``.seen`` (every HTTP request received), ``.restart()`` (a new server process state on the
  same port: every legacy session forgotten)). ``era``: ``"both"`` (the SDK serves both eras on one
  endpoint), ``"2026-07-28"`` (refuses handshake-era requests), ``"2025-11-25"`` (refuses the current
  era with ``400``/``-32022``, as a 2025-11-25 server does), ``"2025-06-18"`` (legacy-only and
  negotiates down to 2025-06-18).
- :func:`eventually(predicate)` — poll state another thread or process changes (up to 5 s).
- :data:`STDIO_COMMAND` / :data:`STDIO_CWD` — run it as a stdio server (``python -m
  tests.support.mcp_upstream --stdio``); it writes :data:`STDERR_BANNER` to stderr when it starts.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import uvicorn
from mcp.server.elicitation import AcceptedElicitation
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import BaseModel

NOTE = "remember the milk"
ECHO_TOOL_META = {"io.example/vendor": {"tier": "gold", "weights": [1, 2.5]}}
STDERR_BANNER = "mcp-fixture: stdio server ready"
STDIO_CWD = str(Path(__file__).resolve().parents[2])
STDIO_COMMAND = [sys.executable, "-m", "tests.support.mcp_upstream", "--stdio"]
HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
Era = Literal["both", "2026-07-28", "2025-11-25", "2025-06-18"]


@dataclass
class FixtureState:
    """What the tools saw (shared with the test thread; append-only lists)."""

    started: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Seen:
    """One HTTP request the fixture received (headers lowercased)."""

    method: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


def build_server(state: FixtureState | None = None) -> MCPServer:
    """The fixture server (see the module docstring for what it offers)."""
    server = MCPServer("routeiq-fixture", version="1.0.0", instructions="A fixture for RouteIQ tests.")
    _add_tools(server, state if state is not None else FixtureState())
    _add_resources_and_prompts(server)
    return server


def _add_tools(server: MCPServer, state: FixtureState) -> None:
    @server.tool(meta=ECHO_TOOL_META)
    def echo(text: str) -> str:
        """Return the text."""
        return text

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    async def slow(ctx: Context, steps: int = 3, delay: float = 0.2, label: str = "slow") -> str:
        """Report progress ``steps`` times, ``delay`` seconds apart."""
        state.started.append(label)
        try:
            for step in range(1, steps + 1):
                await anyio.sleep(delay)
                await ctx.report_progress(step, steps, f"step {step}")
        except anyio.get_cancelled_exc_class():
            state.cancelled.append(label)
            raise
        return "done"

    @server.tool()
    def fail(reason: str = "it failed") -> str:
        """Always fail (an isError result)."""
        raise ToolError(reason)

    @server.tool()
    def meta(ctx: Context) -> str:
        """The request's _meta, as JSON."""
        return json.dumps(ctx.request_context.meta or {}, sort_keys=True)

    @server.tool()
    async def ask(ctx: Context, question: str = "Your name?") -> str:
        """Ask the client (elicitation, legacy era) and return what it answered."""
        answer = await ctx.elicit(question, schema=Answer)
        return answer.data.answer if isinstance(answer, AcceptedElicitation) else answer.action

    @server.tool()
    def pid() -> int:
        """The server's process id."""
        return os.getpid()

    @server.tool()
    def crash() -> str:
        """End the server process at once (only sensible over stdio)."""
        os._exit(3)


def _add_resources_and_prompts(server: MCPServer) -> None:
    @server.resource("memo://note", mime_type="text/plain")
    def note() -> str:
        """The note."""
        return NOTE

    @server.resource("memo://notes/{key}", mime_type="text/plain")
    def keyed_note(key: str) -> str:
        """A note by key."""
        return f"note {key}"

    @server.prompt()
    def greet(name: str) -> str:
        """Greet someone."""
        return f"Hello, {name}!"


async def eventually(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Poll ``predicate`` until it holds or ``timeout_s`` passes (the fixture's thread or process sets it)."""
    for _ in range(int(timeout_s / 0.02)):
        if predicate():
            return True
        await anyio.sleep(0.02)
    return predicate()


class Answer(BaseModel):
    """What the ``ask`` tool asks for."""

    answer: str


class _Gate:
    """ASGI wrapper: records requests and plays a single-era server when asked."""

    def __init__(self, app: Any, era: Era, seen: list[Seen]) -> None:
        self._app, self._era, self._seen = app, era, seen

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self._seen.append(Seen(method=scope["method"], headers=headers, body=body))
        version = headers.get("mcp-protocol-version")
        if (
            self._era in ("2025-11-25", "2025-06-18")
            and version is not None
            and version not in HANDSHAKE_VERSIONS
        ):
            await _reject(send, body, list(HANDSHAKE_VERSIONS), version)
            return
        if self._era == "2026-07-28" and scope["method"] == "POST" and version != "2026-07-28":
            await _reject(send, body, ["2026-07-28"], version or "")
            return
        if self._era == "2025-06-18":
            body = _offer_older(body)
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return dict(await receive())
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self._app(scope, replay, send)


def _offer_older(body: bytes) -> bytes:
    """An ``initialize`` offering 2025-06-18, whatever the client offered (the SDK then agrees to it)."""
    try:
        message = json.loads(body)
    except ValueError:
        return body
    if not isinstance(message, dict) or message.get("method") != "initialize":
        return body
    message.setdefault("params", {})["protocolVersion"] = "2025-06-18"
    return json.dumps(message).encode()


async def _reject(send: Any, body: bytes, supported: list[str], requested: str) -> None:
    try:
        request_id = json.loads(body).get("id")
    except (ValueError, AttributeError):
        request_id = None
    error = {"code": -32022, "message": "Unsupported protocol version"}
    error["data"] = {"supported": supported, "requested": requested}  # type: ignore[assignment]
    payload = json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}).encode()
    await send(
        {"type": "http.response.start", "status": 400, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": payload})


class HttpFixture:
    """A running HTTP fixture server (see :func:`serve_http`)."""

    def __init__(self, era: Era, json_response: bool) -> None:
        self.era, self.json_response = era, json_response
        self.state = FixtureState()
        self.seen: list[Seen] = []
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port: int = probe.getsockname()[1]
        probe.close()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve a fresh server instance on the port."""
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
        app = build_server(self.state).streamable_http_app(
            json_response=self.json_response, transport_security=security
        )
        config = uvicorn.Config(
            _Gate(app, self.era, self.seen), log_level="warning", timeout_graceful_shutdown=1
        )
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the MCP fixture server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop serving (the port closes)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def restart(self) -> None:
        """Stop and serve a fresh instance on the same port: every session is forgotten."""
        self.stop()
        self.start()


@contextmanager
def serve_http(*, era: Era = "both", json_response: bool = False) -> Iterator[HttpFixture]:
    """Serve the fixture over Streamable HTTP on 127.0.0.1 for the block; yields the running fixture."""
    fixture = HttpFixture(era, json_response)
    fixture.start()
    try:
        yield fixture
    finally:
        fixture.stop()


def _main() -> None:
    if "--stdio" not in sys.argv[1:]:
        raise SystemExit("usage: python -m tests.support.mcp_upstream --stdio")
    print(STDERR_BANNER, file=sys.stderr, flush=True)
    build_server().run("stdio")


if __name__ == "__main__":
    _main()
