"""The fast path to OpenAI-compatible upstreams (OpenAI, vLLM, Ollama, Groq, Together, ...) over aiohttp.

Bodies pass through as bytes: requests are encoded once, answers and stream frames are never
re-encoded, and only ``usage`` is decoded from a complete answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import aiohttp
import msgspec

from routeiq_adapters.providers.http_errors import error_from_event, error_from_status
from routeiq_adapters.providers.http_pools import HttpPools, raise_unless_event_stream, transport_error
from routeiq_adapters.providers.openai_media import form, stream_bytes
from routeiq_adapters.providers.openai_objects import UpstreamRequest, object_request
from routeiq_adapters.providers.openai_usage import answer_usage as _usage
from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.operations import BYTE_STREAMS, PROVIDER_OBJECTS, STREAMABLE, UPLOADS
from routeiq_core.providers import Operation, ProviderReply
from routeiq_core.sse import data_frame

DEFAULT_API_BASE = "https://api.openai.com/v1"
_PATHS = MappingProxyType(
    {
        Operation.CHAT: "/chat/completions",
        Operation.COMPLETIONS: "/completions",
        Operation.EMBEDDINGS: "/embeddings",
        Operation.MODERATIONS: "/moderations",
        Operation.IMAGES: "/images/generations",
        Operation.IMAGE_EDITS: "/images/edits",
        Operation.RERANK: "/rerank",
        Operation.AUDIO_SPEECH: "/audio/speech",
        Operation.AUDIO_TRANSCRIPTION: "/audio/transcriptions",
    }
)
_DATA = b"data: "
_DONE = b"[DONE]"
_DRAIN_AFTER_DONE_S = 0.1


class OpenAICompatibleProvider:
    """The ``openai`` adapter of the provider port: one keep-alive aiohttp pool per upstream base URL.

    Sessions are opened inside the event loop, by :meth:`open` at startup or lazily on first use.

    Args:
        pool_size: Most connections open at once to one base URL (further calls wait for one).
        dns_cache_ttl_s: How long a resolved upstream address is reused.
        keepalive_s: How long an idle pooled connection stays open.
    """

    def __init__(
        self, *, pool_size: int = 512, dns_cache_ttl_s: int = 300, keepalive_s: float = 30.0
    ) -> None:
        self._pools = HttpPools(pool_size=pool_size, dns_cache_ttl_s=dns_cache_ttl_s, keepalive_s=keepalive_s)
        self._encoder = msgspec.json.Encoder()

    async def open(self, deployments: Iterable[Deployment]) -> None:
        """Open the pools of every ``openai`` deployment's base URL now, rather than on first call."""
        for deployment in deployments:
            if deployment.adapter == "openai":
                self._session(deployment)

    async def send(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderReply:
        """POST the payload and return the upstream's body as is, with its usage; all within ``timeout_s``."""
        session = self._session(deployment)
        try:
            method, url, data, json_body = self._request(deployment, operation, payload)
            async with session.request(
                method,
                url,
                data=data,
                headers=_headers(deployment, headers, stream=False, json_body=json_body),
                timeout=aiohttp.ClientTimeout(total=timeout_s),
                allow_redirects=False,
            ) as response:
                body = await response.read()
                status, headers = response.status, response.headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _transport_error(exc, deployment, timeout_s) from exc
        if not 200 <= status < 300:
            raise error_from_status(status, body, headers, deployment.id)
        return ProviderReply(body=body, usage=_usage(body, deployment, operation))

    async def stream(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[bytes]:
        """Relay the upstream's SSE events byte for byte, ``[DONE]`` and keep-alive comments dropped.

        Connecting and each read must each finish within ``timeout_s``. Closing the iterator early
        closes the upstream connection, which cancels the upstream request.
        """
        session = self._session(deployment)
        if operation in BYTE_STREAMS:  # speech, a file's content
            method, url, body, _ = self._request(deployment, operation, payload)
            chunks = stream_bytes(
                session,
                url,
                body,
                _headers(deployment, headers, stream=False),
                method=method,
                json_is_error=operation is not Operation.FILE_CONTENT,
                timeout_s=timeout_s,
                deployment=deployment,
                transport_error=lambda exc: _transport_error(exc, deployment, timeout_s, streaming=True),
            )
            async for chunk in chunks:
                yield chunk
            return
        # connect bounds the wait for a pooled connection too; sock_read bounds each read, the head included
        timeout = aiohttp.ClientTimeout(total=None, connect=timeout_s, sock_read=timeout_s)
        try:
            response = await session.post(
                _base(deployment) + _PATHS[operation],
                data=self._encode(payload, operation, stream=True),
                headers=_headers(deployment, headers, stream=True),
                timeout=timeout,
                allow_redirects=False,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _transport_error(exc, deployment, timeout_s) from exc
        finished = False
        try:
            await raise_unless_event_stream(response, deployment.id)
            splitter = _EventSplitter()
            async for chunk in response.content.iter_any():
                # Every complete event of one read goes out as one piece: one send to the client.
                batch, done, error = _events(splitter.feed(chunk), deployment)
                if batch:
                    yield batch
                if error is not None:
                    raise error
                if done:
                    finished = True
                    await _drain(response)
                    return
            tail = splitter.tail()
            frame = _frame(tail, deployment) if tail else None
            finished = True
            if frame is not None and frame is not _DONE:
                yield frame
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _transport_error(exc, deployment, timeout_s, streaming=True) from exc
        finally:
            if finished:
                response.release()  # back to the pool when the body was read to the end, else closed
            else:
                response.close()  # the client went away or the upstream broke: cancel the request

    async def aclose(self) -> None:
        """Close every pool."""
        await self._pools.aclose()

    def _session(self, deployment: Deployment) -> aiohttp.ClientSession:
        return self._pools.session(_base(deployment))

    def _request(
        self, deployment: Deployment, operation: Operation, payload: dict[str, Any]
    ) -> UpstreamRequest:
        """How to send a non-streaming call (a file or batch call: :func:`object_request`)."""
        if operation in PROVIDER_OBJECTS:
            return object_request(_base(deployment), operation, payload, self._encoder)
        upload = operation in UPLOADS
        data = form(payload) if upload else self._encode(payload, operation, stream=False)
        return UpstreamRequest("POST", _base(deployment) + _PATHS[operation], data, not upload)

    def _encode(self, payload: dict[str, Any], operation: Operation, *, stream: bool) -> bytes:
        if operation in STREAMABLE and bool(payload.get("stream")) is not stream:
            payload = payload | {"stream": stream}
        return self._encoder.encode(payload)


class _EventSplitter:
    """Cuts a byte stream into SSE events at blank lines; CRLF line ends are read as LF."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += chunk
        if b"\r" in buffer:
            buffer[:] = buffer.replace(b"\r\n", b"\n")
        events = []
        start = 0
        while (end := buffer.find(b"\n\n", start)) >= 0:
            events.append(bytes(buffer[start:end]))
            start = end + 2
        del buffer[:start]
        return events

    def tail(self) -> bytes:
        """What is left after the last blank line (an event the upstream did not terminate)."""
        return bytes(self._buffer).strip()


def _events(events: list[bytes], deployment: Deployment) -> tuple[bytes, bool, UpstreamError | None]:
    """The relayable frames of some events joined, whether ``[DONE]`` came, and an in-stream error."""
    frames: list[bytes] = []
    for event in events:
        try:
            frame = _frame(event, deployment)
        except UpstreamError as exc:
            return b"".join(frames), False, exc
        if frame is _DONE:
            return b"".join(frames), True, None
        if frame is not None:
            frames.append(frame)
    return b"".join(frames), False, None


def _frame(event: bytes, deployment: Deployment) -> bytes | None:
    """The frame to relay for one event: None to skip it, ``_DONE`` at the end; raises on an error event."""
    event = event.strip(b"\n")
    if event.startswith(_DATA) and b"\n" not in event:
        data, frame = event[len(_DATA) :], event + b"\n\n"
    else:  # comments, event/id fields, data split over lines or written as "data:"
        parts = [line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
        if not parts:
            return None
        data = b" ".join(parts)  # JSON split over lines: newlines between tokens are whitespace
        frame = data_frame(data)
    if data.strip() == _DONE:
        return _DONE
    if b'"error"' in data:
        error = error_from_event(data, deployment.id)
        if error is not None:
            raise error
    _check_event(data, deployment)
    return frame


class _AnyObject(msgspec.Struct):
    """Any JSON object (its fields are skipped, its syntax still checked)."""


_EVENT_CHECK = msgspec.json.Decoder(_AnyObject)


def _check_event(data: bytes, deployment: Deployment) -> None:
    """Refuse an event that is not one JSON object in UTF-8 (about 0.2 µs for a typical chunk).

    Relayed as is, it would break the client's SSE parser; refused, the gateway fails over (before the
    first frame) or ends the stream with an error event.
    """
    try:
        _EVENT_CHECK.decode(data)
        if not data.isascii():
            data.decode("utf-8")
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise UpstreamError(
            f"Deployment {deployment.id!r} sent a stream event that is not a JSON object ({exc}): "
            f"{data[:120]!r}",
            status_code=502,
            retryable=True,
            deployment_id=deployment.id,
        ) from None


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read what follows ``[DONE]`` (the end of the chunked body) so the connection can be reused."""
    try:
        async with asyncio.timeout(_DRAIN_AFTER_DONE_S):  # aiohttp is asyncio-only: no anyio scope needed
            while not response.content.at_eof() and await response.content.readany():
                pass
    except TimeoutError:
        pass


def _base(deployment: Deployment) -> str:
    return (deployment.api_base or DEFAULT_API_BASE).rstrip("/")


def _headers(
    deployment: Deployment, extra: Mapping[str, str] | None, *, stream: bool, json_body: bool = True
) -> dict[str, str]:
    headers = {"Accept": "text/event-stream" if stream else "application/json"}
    if json_body:  # a form sets its own, with its boundary
        headers["Content-Type"] = "application/json"
    if deployment.api_key:
        headers["Authorization"] = f"Bearer {deployment.api_key}"
    configured = deployment.params.get("headers")  # the deployment's own headers (trusted config)
    if configured:
        headers.update(configured)
    if extra:  # the trace context: the call's, not the deployment's
        headers.update(extra)
    return headers


def _transport_error(
    exc: BaseException, deployment: Deployment, timeout_s: float, *, streaming: bool = False
) -> UpstreamError:
    return transport_error(exc, deployment.id, _base(deployment), timeout_s, streaming=streaming)
