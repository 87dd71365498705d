"""One running stdio child's pipes: newline-delimited JSON-RPC written and read, requests answered.

The supervisor in :mod:`routeiq_adapters.mcp.stdio_upstream` makes one connection per child process;
when the child goes, the connection is closed and every request on it fails.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from routeiq_adapters.mcp import _jsonrpc as rpc
from routeiq_adapters.mcp._stdio_waiters import Waiter, Waiters, own_progress_token
from routeiq_core.errors import UpstreamError
from routeiq_core.mcp import OnUpstreamMessage, UpstreamReply

__all__ = ["StdioConnection"]

logger = logging.getLogger("routeiq.mcp")

_CANCEL_TIMEOUT_S = 2.0


class StdioConnection:
    """Reads, writes and routes the messages of one child process.

    Args:
        process: The child, with piped stdin and stdout.
        upstream: The upstream's name, for messages.
        max_line: The longest line accepted from the child.
        ids: The adapter's request-id counter (shared across restarts, so ids never repeat).
    """

    def __init__(self, process: Process, *, upstream: str, max_line: int, ids: Iterator[int]) -> None:
        self._process = process
        self._upstream = upstream
        self._max_line = max_line
        self._ids = ids
        self._waiters = Waiters(upstream)
        self._write_lock = anyio.Lock()
        self._closed = False
        self.failure: str | None = None
        """Why reading stopped early (a line too long), if it did."""

    async def exchange(
        self, method: str, params: dict[str, Any] | None, on_message: OnUpstreamMessage | None
    ) -> UpstreamReply:
        """Send one request and wait for its answer, relaying the messages routed to it meanwhile.

        Cancelling it sends the child ``notifications/cancelled`` (shielded, bounded).

        Raises:
            UpstreamError: The child went away before answering, or answered with a malformed response.
        """
        request_id = next(self._ids)
        params, client_token = own_progress_token(params, request_id)
        waiter = Waiter(request_id, client_token)
        self._waiters.add(waiter)
        try:
            await self.write(rpc.encode_request(request_id, method, params))
            await _relay(waiter, on_message)
        except anyio.get_cancelled_exc_class():
            if not waiter.done:
                with anyio.CancelScope(shield=True), anyio.move_on_after(_CANCEL_TIMEOUT_S):
                    await self._send_cancelled(request_id)
            raise
        finally:
            self._waiters.remove(request_id)
        if waiter.response is None:
            raise waiter.failure or UpstreamError(f"MCP upstream {self._upstream!r} did not answer")
        return rpc.reply_of(waiter.response, self._upstream)

    async def write(self, data: bytes) -> None:
        """Write one message as one line.

        Raises:
            UpstreamError: The child is gone or stopped reading.
        """
        stdin = self._process.stdin
        if stdin is None or self._closed:
            raise UpstreamError(f"MCP upstream {self._upstream!r} is not running", retryable=True)
        async with self._write_lock:
            try:
                await stdin.send(data + b"\n")
            except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                message = f"MCP upstream {self._upstream!r} stopped reading its input"
                raise UpstreamError(message, retryable=True) from None

    async def read(self) -> None:
        """Read and route lines until the child closes stdout or writes a line that is too long."""
        if self._process.stdout is None:
            return
        buffered = BufferedByteReceiveStream(self._process.stdout)
        try:
            while True:
                line = await buffered.receive_until(b"\n", self._max_line)
                if len(line) > self._max_line:  # it came in one read: receive_until let it through
                    raise anyio.DelimiterNotFound(self._max_line)
                if line.strip():
                    await self._route(line)
        except anyio.DelimiterNotFound:
            self.failure = f"MCP upstream {self._upstream!r} wrote a line longer than {self._max_line} bytes"
            logger.error("%s; restarting it", self.failure)
        except (
            anyio.EndOfStream,
            anyio.IncompleteRead,
            anyio.ClosedResourceError,
            anyio.BrokenResourceError,
        ):
            return

    def close(self, error: UpstreamError) -> None:
        """Refuse further writes and fail every request still waiting with ``error``."""
        self._closed = True
        self._waiters.fail_all(error)

    async def _route(self, line: bytes) -> None:
        try:
            message = rpc.decode_message(line, self._upstream)
        except UpstreamError:
            logger.warning("MCP upstream %r wrote a line that is not JSON-RPC; ignored", self._upstream)
            return
        refusal = self._waiters.route(message, line)
        if refusal is not None:
            with anyio.move_on_after(_CANCEL_TIMEOUT_S), contextlib.suppress(UpstreamError):
                await self.write(refusal)

    async def _send_cancelled(self, request_id: int) -> None:
        try:
            await self.write(
                rpc.encode_notification("notifications/cancelled", rpc.cancelled_params(request_id))
            )
        except UpstreamError as exc:
            logger.debug("%s (while cancelling a request)", exc.message)


async def _relay(waiter: Waiter, on_message: OnUpstreamMessage | None) -> None:
    while True:
        await waiter.wait()
        while waiter.messages:
            data = waiter.messages.popleft()
            if on_message is not None:
                await on_message(data)
        if waiter.done:
            return
