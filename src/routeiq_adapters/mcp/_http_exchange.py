"""One Streamable HTTP exchange with an MCP upstream: POST a message, read the JSON or SSE answer.

The answer is read incrementally. In an event stream every message that is not the response to
our request is handed on as raw bytes, in order; reading stops at our response. Bodies, lines and
events are bounded. The response is closed (the connection dropped, not reused) when the exchange
ends: cancelled, failed, or answered before the stream's end. A connection error before any answer
(typically a pooled keep-alive connection the upstream closed when it restarted) is retried once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from routeiq_adapters.mcp._jsonrpc import Incoming, answers, decode_message
from routeiq_adapters.mcp._sse import SseError, SseParser
from routeiq_core.errors import UpstreamError
from routeiq_core.mcp import OnUpstreamMessage

__all__ = ["Answer", "post_message"]

logger = logging.getLogger("routeiq.mcp")

_JSON = "application/json"
_SSE = "text/event-stream"
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    """What the upstream answered to one POST.

    Attributes:
        status: The HTTP status.
        session_id: The ``Mcp-Session-Id`` response header, if any.
        response: The JSON-RPC message that answers our request (a JSON body, or the stream's
            message with our id); None when there was none (a notification's 202, an error page).
        content_type: The media type of the body (lowercase, without parameters).
    """

    status: int
    session_id: str | None
    response: Incoming | None
    content_type: str


async def post_message(
    http: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    upstream: str,
    request_id: int | None,
    on_message: OnUpstreamMessage | None,
    max_bytes: int,
) -> Answer:
    """POST one JSON-RPC message and read the answer.

    Args:
        http: The client session (the container's, behind the SSRF guard).
        url: The upstream's MCP endpoint.
        body: The encoded message.
        headers: Every request header.
        upstream: The upstream's name, for messages.
        request_id: Our id when ``body`` is a request (then the answer is read); None otherwise.
        on_message: Receives the stream's other messages.
        max_bytes: The largest body, line or event accepted.

    Raises:
        UpstreamError: The upstream could not be reached or sent something malformed or too large.
    """
    for attempt in (1, 2):
        try:
            resp = await http.post(url, data=body, headers=dict(headers), allow_redirects=False)
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            if attempt == 1:
                continue  # a pooled keep-alive connection the upstream had closed: one more, on a new one
            raise _unreachable(upstream, exc) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _unreachable(upstream, exc) from None
        try:
            return await _read_answer(resp, upstream, request_id, on_message, max_bytes)
        except (aiohttp.ClientError, OSError) as exc:
            raise _unreachable(upstream, exc) from None
        finally:
            resp.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _unreachable(upstream: str, exc: BaseException) -> UpstreamError:
    return UpstreamError(
        f"MCP upstream {upstream!r} could not be reached ({type(exc).__name__})", retryable=True
    )


async def _read_answer(
    resp: aiohttp.ClientResponse,
    upstream: str,
    request_id: int | None,
    on_message: OnUpstreamMessage | None,
    max_bytes: int,
) -> Answer:
    session_id = resp.headers.get("Mcp-Session-Id")
    content_type = resp.headers.get("Content-Type", "").partition(";")[0].strip().lower()
    response: Incoming | None = None
    if request_id is not None:
        if content_type == _SSE and 200 <= resp.status < 300:
            response = await _read_stream(resp, upstream, request_id, on_message, max_bytes)
        elif content_type == _JSON:
            data = await _read_body(resp, upstream, max_bytes)
            response = _decode_json_answer(data, upstream, resp.status)
    return Answer(status=resp.status, session_id=session_id, response=response, content_type=content_type)


def _decode_json_answer(data: bytes, upstream: str, status: int) -> Incoming | None:
    if not data.strip():
        return None
    try:
        return decode_message(data, upstream)
    except UpstreamError:
        if 200 <= status < 300:
            raise
        return None  # an error page in JSON that is not JSON-RPC: the status says enough


async def _read_body(resp: aiohttp.ClientResponse, upstream: str, max_bytes: int) -> bytes:
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise _too_large(upstream, max_bytes)
    body = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(upstream, max_bytes)
    return bytes(body)


async def _read_stream(
    resp: aiohttp.ClientResponse,
    upstream: str,
    request_id: int,
    on_message: OnUpstreamMessage | None,
    max_bytes: int,
) -> Incoming:
    parser = SseParser(max_line_bytes=max_bytes, max_event_bytes=max_bytes)
    async for chunk in resp.content.iter_any():
        try:
            events = parser.feed(chunk)
        except SseError:
            raise _too_large(upstream, max_bytes) from None
        for event in events:
            if event.event != "message":
                continue
            message = decode_message(event.data, upstream)
            if answers(message, request_id):
                return message
            if on_message is not None:
                await on_message(event.data)
            else:
                logger.debug(
                    "MCP upstream %r: dropped a %s message (nobody listens)", upstream, message.method
                )
    raise UpstreamError(f"MCP upstream {upstream!r} closed its event stream before answering", retryable=True)


def _too_large(upstream: str, max_bytes: int) -> UpstreamError:
    return UpstreamError(f"MCP upstream {upstream!r} sent a message larger than {max_bytes} bytes")
