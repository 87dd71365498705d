"""The MCP upstream port over stdio: a supervised child process speaking newline-delimited JSON-RPC.

A supervisor task spawns the command, runs the ``initialize`` handshake (the legacy era: stdio
upstreams speak it; whatever session-based revision the child negotiates is accepted), then reads
stdout, routing each message to its request (see :mod:`routeiq_adapters.mcp._stdio_waiters`: progress by
token, other messages to the only request in flight, else dropped or refused), and
forwards stderr lines to the ``routeiq.mcp`` logger. When the child exits, the requests in flight fail
with :class:`~routeiq_core.errors.UpstreamError` and the child is restarted after an exponential
backoff (``backoff_initial_s`` doubling up to ``backoff_max_s``, reset after a run that lasted a
minute); requests sent meanwhile wait for it up to their timeout. Lines are bounded: a child that
writes a longer line is restarted.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import subprocess
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import anyio
import msgspec

from routeiq_adapters.mcp import _jsonrpc as rpc
from routeiq_adapters.mcp._stdio_connection import StdioConnection
from routeiq_adapters.mcp._stdio_process import child_env, pump_stderr, terminate
from routeiq_core.errors import InvalidRequestError, UpstreamError, UpstreamTimeoutError
from routeiq_core.mcp import (
    OnUpstreamMessage,
    UpstreamCall,
    UpstreamReply,
    UpstreamSession,
    UpstreamState,
    UpstreamStatus,
)

__all__ = ["StdioMcpUpstream"]

logger = logging.getLogger("routeiq.mcp")
_T = TypeVar("_T")

_HEALTHY_RUN_S = 60.0


class StdioMcpUpstream:
    """Talks to one upstream MCP server it runs as a child process.

    Args:
        name: The upstream's slug from config.
        command: The argv to run.
        env: Variables for the child (on top of a minimal inherited set, see ``inherit_env``).
        cwd: The child's working directory.
        timeout_s: The longest one call (and the handshake) may take unless the call says otherwise.
        client_info: The gateway's ``clientInfo``.
        capabilities: The client capabilities declared in the handshake.
        max_concurrency: The most requests in flight at once.
        max_line_bytes: The longest line accepted from the child.
        backoff_initial_s: The first restart delay.
        backoff_max_s: The longest restart delay.
        stop_grace_s: How long the child gets to exit before SIGTERM, then SIGKILL.
        inherit_env: Pass the gateway's whole environment to the child (default: only harmless parts).
    """

    def __init__(
        self,
        *,
        name: str,
        command: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout_s: float = 30.0,
        client_info: Mapping[str, Any] | None = None,
        capabilities: Mapping[str, Any] | None = None,
        max_concurrency: int = 32,
        max_line_bytes: int = 16 * 1024 * 1024,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        stop_grace_s: float = 2.0,
        inherit_env: bool = False,
    ) -> None:
        if not command:
            raise ValueError("a stdio MCP upstream needs a command")
        self._name = name
        self._command = list(command)
        self._env = child_env(env, inherit=inherit_env)
        self._cwd = cwd
        self._timeout_s = timeout_s
        self._client_info = dict(client_info or {"name": "routeiq", "version": "1"})
        self._capabilities = dict(capabilities or {})
        self._slots = anyio.Semaphore(max_concurrency)
        self._max_line = max_line_bytes
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._grace_s = stop_grace_s
        self._ids = itertools.count(1)
        self._connection: StdioConnection | None = None
        self._ready = anyio.Event()
        self._attempted = anyio.Event()
        self._described: UpstreamSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._state: UpstreamState = "starting"
        self._last_error: str | None = None
        self._restarts = 0

    @property
    def name(self) -> str:
        """The upstream's slug from config."""
        return self._name

    def status(self) -> UpstreamStatus:
        """Its state as this worker sees it."""
        era = self._described.protocol_version if self._described is not None else None
        return UpstreamStatus(
            name=self._name,
            transport="stdio",
            state=self._state,
            era=era,
            last_error=self._last_error,
            restarts=self._restarts,
        )

    async def start(self) -> None:
        """Spawn the child and wait (up to the timeout) for its handshake. Never raises."""
        self._launch()
        with anyio.move_on_after(self._timeout_s):
            await self._attempted.wait()

    async def aclose(self) -> None:
        """Stop the supervisor and the child; fail what still waits."""
        self._closing = True
        self._state = "stopped"
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.gather(task, return_exceptions=True)
        if self._connection is not None:
            self._connection.close(UpstreamError(f"MCP upstream {self._name!r} was stopped"))

    async def open_session(
        self, *, client_info: Mapping[str, Any], capabilities: Mapping[str, Any]
    ) -> UpstreamSession:
        """A stdio connection has no sessions: the handshake's description (``session_id=None``)."""
        await self._bounded(self._wait_ready, None)
        if self._described is None:  # pragma: no cover - set before ready
            raise UpstreamError(f"MCP upstream {self._name!r} is not ready")
        return self._described

    async def request(self, call: UpstreamCall, on_message: OnUpstreamMessage | None = None) -> UpstreamReply:
        """Send one request; relay the messages routed to it to ``on_message``."""

        async def run() -> UpstreamReply:
            return await (await self._connected()).exchange(call.method, call.params, on_message)

        return await self._bounded(run, call.timeout_s)

    async def notify(self, method: str, params: dict[str, Any] | None, *, session: str | None = None) -> None:
        """Write one notification."""

        async def run() -> None:
            await (await self._connected()).write(rpc.encode_notification(method, params))

        await self._bounded(run, None, slot=False)

    async def reply(self, message: bytes, *, session: str | None = None) -> None:
        """Write a client's JSON-RPC response to a request the child made."""
        try:
            parsed = rpc.decode_message(message, self._name)
        except UpstreamError:
            parsed = None
        if parsed is None or not parsed.is_response:
            raise InvalidRequestError("the reply to an MCP upstream must be one JSON-RPC response")
        if b"\n" in message or b"\r" in message:
            message = msgspec.json.encode(msgspec.json.decode(message))

        async def run() -> None:
            await (await self._connected()).write(message)

        await self._bounded(run, None, slot=False)

    async def close_session(self, session: str) -> None:
        """Nothing to close: stdio has no sessions."""

    def _launch(self) -> None:
        if self._task is None and not self._closing:
            self._task = asyncio.get_running_loop().create_task(self._supervise())

    async def _bounded(
        self, work: Callable[[], Awaitable[_T]], timeout_s: float | None, *, slot: bool = True
    ) -> _T:
        # A slot is taken by requests only: a reply or notification may be sent from ``on_message``
        # while its request holds one, and must not wait for another.
        timeout = timeout_s if timeout_s is not None else self._timeout_s
        try:
            with anyio.fail_after(timeout):
                if not slot:
                    return await work()
                async with self._slots:
                    return await work()
        except TimeoutError:
            why = "" if self._ready.is_set() else f" (not running: {self._last_error or 'starting'})"
            raise UpstreamTimeoutError(
                f"MCP upstream {self._name!r} did not answer within {timeout:g} s{why}"
            ) from None

    async def _wait_ready(self) -> None:
        if self._closing:
            raise UpstreamError(f"MCP upstream {self._name!r} was stopped")
        self._launch()
        await self._ready.wait()

    async def _connected(self) -> StdioConnection:
        await self._wait_ready()
        if self._connection is None:  # the child went away between ready and now
            raise UpstreamError(
                self._last_error or f"MCP upstream {self._name!r} is not running", retryable=True
            )
        return self._connection

    async def _supervise(self) -> None:
        delay = self._backoff[0]
        while not self._closing:
            began = anyio.current_time()
            try:
                await self._run_once()
            except OSError as exc:
                self._last_error = f"MCP upstream {self._name!r} could not be started ({type(exc).__name__})"
                logger.warning("%s", self._last_error)
            except Exception:
                self._last_error = f"MCP upstream {self._name!r}: its supervisor failed"
                logger.exception("%s", self._last_error)
            self._connection_lost()
            if self._stopping():
                return
            if anyio.current_time() - began >= _HEALTHY_RUN_S:
                delay = self._backoff[0]
            logger.info("MCP upstream %r: restarting in %g s", self._name, delay)
            await anyio.sleep(delay)
            delay = min(delay * 2, self._backoff[1])
            self._restarts += 1

    async def _run_once(self) -> None:
        process = await anyio.open_process(
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self._cwd,
            env=self._env,
        )
        connection = StdioConnection(process, upstream=self._name, max_line=self._max_line, ids=self._ids)
        try:
            async with anyio.create_task_group() as tg:
                if process.stderr is not None:
                    tg.start_soon(pump_stderr, process.stderr, self._name)
                tg.start_soon(self._read, connection, tg.cancel_scope)
                try:
                    await self._handshake(connection)
                except UpstreamError as exc:
                    self._last_error = exc.message
                    logger.warning("%s", exc.message)
                else:
                    await process.wait()
                tg.cancel_scope.cancel()
        finally:
            self._connection = None
            await terminate(process, self._grace_s)
            if not self._stopping() and self._ready.is_set():
                self._last_error = connection.failure or (
                    f"MCP upstream {self._name!r}: the process exited (status {process.returncode})"
                )
                logger.warning("%s", self._last_error)
            error = self._last_error or f"MCP upstream {self._name!r}: the process exited"
            connection.close(UpstreamError(error, retryable=True))

    async def _read(self, connection: StdioConnection, scope: anyio.CancelScope) -> None:
        try:
            await connection.read()
        finally:
            scope.cancel()

    async def _handshake(self, connection: StdioConnection) -> None:
        params = rpc.initialize_params(self._client_info, self._capabilities)
        try:
            with anyio.fail_after(self._timeout_s):
                reply = await connection.exchange("initialize", params, None)
        except TimeoutError:
            raise UpstreamError(f"MCP upstream {self._name!r} did not answer initialize in time") from None
        if reply.result is None:
            message = str((reply.error or {}).get("message", ""))[:200]
            raise UpstreamError(f"MCP upstream {self._name!r} refused to initialize: {message}")
        self._described = rpc.session_from_initialize(reply.result, None, self._name)
        await connection.write(rpc.encode_notification("notifications/initialized", None))
        self._connection = connection
        self._state, self._last_error = "up", None
        self._ready.set()
        self._attempted.set()

    def _stopping(self) -> bool:
        return self._closing

    def _connection_lost(self) -> None:
        if self._ready.is_set():
            self._ready = anyio.Event()
        self._attempted.set()
        if not self._closing:
            self._state = "down"
