"""Lean ASGI reading and writing for the call paths (no per-request framework objects)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

import anyio

from routeiq_app.asgi_types import Receive, Send
from routeiq_core.errors import RouteIQError

logger = logging.getLogger("routeiq.http")
Headers = Sequence[tuple[bytes, bytes]]
SSE_HEADERS = (
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)


class ClientDisconnected(Exception):
    """The client went away before the request body arrived."""


class PayloadTooLarge(RouteIQError):
    """The request body is larger than the configured limit."""

    status_code = 413
    error_type = "invalid_request_error"
    default_code = "request_too_large"


async def read_body(receive: Receive, limit: int) -> bytes:
    """Read the whole request body, refusing more than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_json(
    send: Send, status: int, body: bytes, headers: Headers = (), *, content_type: bytes = b"application/json"
) -> None:
    """Send a complete response: JSON unless ``content_type`` says otherwise (a plain-text transcript)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_stream(
    send: Send,
    receive: Receive,
    frames: AsyncIterator[bytes],
    headers: Headers,
    *,
    content: Headers = SSE_HEADERS,
) -> None:
    """Send SSE frames (or, with other ``content`` headers, any bytes) as they come.

    A client disconnect stops the stream (its owner closes it).
    """
    await send({"type": "http.response.start", "status": 200, "headers": [*content, *headers]})
    async with anyio.create_task_group() as tg:

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            logger.info("client disconnected; cancelling the upstream stream")
            tg.cancel_scope.cancel()

        tg.start_soon(watch_disconnect)
        try:
            async for frame in frames:
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            logger.info("client connection lost while streaming")
        finally:
            tg.cancel_scope.cancel()
