"""An aiohttp.web application served on 127.0.0.1 from a background thread (for fake upstreams)."""

from __future__ import annotations

import asyncio
import socket
import threading
from types import TracebackType
from typing import Any, Self

import msgspec
from aiohttp import web


class ThreadedServer:
    """Serve the app :meth:`build` returns on a free loopback port; use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    def build(self) -> web.Application:
        """The application to serve."""
        raise NotImplementedError

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._sock is not None, "the server is not started"
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def start(self) -> Self:
        """Listen; returns once the server accepts connections."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(
            self.build(), handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.SockSite(self._runner, self._sock).start())
        self._thread = threading.Thread(target=self._loop.run_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the loop."""
        loop, runner, thread = self._loop, self._runner, self._thread
        if loop is None or runner is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        if self._sock is not None:
            self._sock.close()
        self._loop = self._runner = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def record(self, request: web.Request) -> dict[str, Any]:
        """Note the request (path, JSON body, headers); its JSON object (empty if none)."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.requests.append({"path": request.path, "json": body, "headers": dict(request.headers)})
        return body if isinstance(body, dict) else {}


async def sse(
    request: web.Request, events: list[tuple[str, dict[str, Any]]], *, cut_after: int | None = None
) -> web.StreamResponse:
    """Answer ``events`` as named SSE events, one write each (the connection dropped after ``cut_after``)."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    for i, (name, data) in enumerate(events):
        if cut_after is not None and i == cut_after:
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(b"event: " + name.encode() + b"\ndata: " + msgspec.json.encode(data) + b"\n\n")
    await response.write_eof()
    return response
