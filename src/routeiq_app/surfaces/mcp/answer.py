"""Answering one JSON-RPC request: as JSON, or as a per-request SSE stream once the upstream speaks.

The upstream call runs in its own task. What the upstream sends meanwhile (progress, logging,
server→client requests) goes to the client as SSE ``message`` events when the client accepts
``text/event-stream``; the response starts as SSE only when the first such message arrives (or the
call runs past ``keepalive_s``, to keep proxies from timing it out), so a quick answer is plain
JSON. On a stream, a keep-alive comment goes out every ``keepalive_s`` of silence. The client
closing the connection cancels the upstream call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from routeiq_app.asgi_io import SSE_HEADERS, send_json
from routeiq_app.asgi_types import Receive, Send
from routeiq_app.surfaces.mcp.wire import sse_message

logger = logging.getLogger("routeiq.mcp")

Push = Callable[[bytes], Awaitable[None]]
"""Sends one JSON-RPC message (encoded) to the client while the request runs."""
Outcome = tuple[int, bytes, Sequence[tuple[bytes, bytes]]]
"""The final answer: HTTP status (used when the answer is JSON), JSON-RPC body, extra headers."""
Run = Callable[[Push], Awaitable[Outcome]]

_KEEPALIVE = b": keep-alive\n\n"
_BUFFERED = 64


async def answer(
    send: Send,
    receive: Receive,
    run: Run,
    *,
    stream: bool,
    headers: Sequence[tuple[bytes, bytes]] = (),
    keepalive_s: float = 15.0,
) -> None:
    """Run the request and answer it (see the module docstring).

    Args:
        send: The ASGI send.
        receive: The ASGI receive (watched for the client going away).
        run: The request: receives ``push`` for interim messages, returns the final outcome.
        stream: Whether the client accepts SSE (else interim messages are dropped).
        headers: Headers of the response, whichever form it takes.
        keepalive_s: Silence before a stream starts, and between keep-alive comments.
    """
    frames_in, frames_out = anyio.create_memory_object_stream[bytes](_BUFFERED)
    outcome: list[Outcome] = []
    answered = False

    async def push(message: bytes) -> None:
        if stream:
            try:
                await frames_in.send(sse_message(message))
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                logger.debug("dropped an interim message: the response is complete")

    async def work() -> None:
        try:
            outcome.append(await run(push))
        finally:
            frames_in.close()

    async with anyio.create_task_group() as group:

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            if not answered:
                logger.info("MCP client disconnected; cancelling its request")
            group.cancel_scope.cancel()

        group.start_soon(watch_disconnect)
        group.start_soon(work)
        first = await _first(frames_out, keepalive_s if stream else None)
        answered = first is None
        if first is None:
            status, body, extra = outcome[0]
            await send_json(send, status, body, [*headers, *extra])
        else:
            await _stream(send, frames_out, first, outcome, headers, keepalive_s)
            answered = True
        group.cancel_scope.cancel()


async def _first(frames: MemoryObjectReceiveStream[bytes], wait_s: float | None) -> bytes | None:
    """The first interim frame; None when the call ended without one. ``b""``: still silent."""
    with anyio.move_on_after(wait_s if wait_s is not None else float("inf")):
        try:
            return await frames.receive()
        except anyio.EndOfStream:
            return None
    return b""


async def _stream(
    send: Send,
    frames: MemoryObjectReceiveStream[bytes],
    first: bytes,
    outcome: list[Outcome],
    headers: Sequence[tuple[bytes, bytes]],
    keepalive_s: float,
) -> None:
    try:
        await send({"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS, *headers]})
        await send({"type": "http.response.body", "body": first or _KEEPALIVE, "more_body": True})
        while True:
            frame = b""
            with anyio.move_on_after(keepalive_s):
                try:
                    frame = await frames.receive()
                except anyio.EndOfStream:
                    break
            await send({"type": "http.response.body", "body": frame or _KEEPALIVE, "more_body": True})
        final = sse_message(outcome[0][1]) if outcome else b""
        await send({"type": "http.response.body", "body": final, "more_body": False})
    except OSError:
        logger.info("MCP client connection lost while streaming")
