"""What the native forwarders over aiohttp share: pools, the POST, the SSE relay, error mapping.

A native forwarder (:class:`~routeiq_core.forwarders.NativeForwarder`) sends a client's own body to
an upstream that speaks the client's protocol and relays the answer byte for byte: a JSON answer is
read whole (only its usage is decoded), a stream is cut into SSE events at blank lines and every
complete event of one read goes out as one chunk, its ``event:`` line kept. An ``error`` event
raises an :class:`~routeiq_core.errors.UpstreamError` (before the first chunk the gateway fails
over; after it the surface writes its own error event).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import msgspec

from routeiq_adapters.providers.http_errors import error_from_event, error_from_status, is_retryable_status
from routeiq_adapters.providers.http_pools import HttpPools, raise_unless_event_stream, transport_error
from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.native import NativeRequest
from routeiq_core.providers import ProviderReply, Usage

_ERROR_EVENT = b"event: error"


class _FlatError(msgspec.Struct):
    """The Responses API's ``error`` event: ``{"type": "error", "code", "message", "param"}``."""

    message: str | None = None
    code: str | None = None


_FLAT_ERROR = msgspec.json.Decoder(_FlatError)


class NativeHttpForwarder(abc.ABC):
    """The pools, the POST and the relay of a forwarder; subclasses say where and how to call.

    Args:
        pool_size: Most connections open at once to one base URL.
        dns_cache_ttl_s: How long a resolved upstream address is reused.
        keepalive_s: How long an idle pooled connection stays open.
    """

    def __init__(
        self, *, pool_size: int = 256, dns_cache_ttl_s: int = 300, keepalive_s: float = 30.0
    ) -> None:
        self._pools = HttpPools(pool_size=pool_size, dns_cache_ttl_s=dns_cache_ttl_s, keepalive_s=keepalive_s)
        self._encoder = msgspec.json.Encoder()

    @abc.abstractmethod
    def url(self, deployment: Deployment) -> str:
        """The endpoint the protocol's calls go to."""

    @abc.abstractmethod
    def auth_headers(self, deployment: Deployment) -> dict[str, str]:
        """The deployment's credentials and protocol headers."""

    @abc.abstractmethod
    def answer_usage(self, body: bytes) -> Usage | None:
        """The usage of a complete JSON answer (raises ``msgspec.DecodeError`` if it is not JSON)."""

    @abc.abstractmethod
    def stream_usage(self, chunk: bytes) -> Usage | None:
        """The usage the events of ``chunk`` report, if any."""

    def upstream_model(self, deployment: Deployment) -> str:
        """The model name the upstream knows (the deployment's upstream model by default)."""
        return deployment.upstream_model

    async def forward(
        self,
        deployment: Deployment,
        request: NativeRequest,
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderReply:
        """POST the client's body; the upstream's answer as is, with its usage, within ``timeout_s``."""
        body = self._body(deployment, request, stream=False)
        try:
            async with self._session(deployment).post(
                self.url(deployment),
                data=body,
                headers=self._headers(deployment, request, headers, stream=False),
                timeout=aiohttp.ClientTimeout(total=timeout_s),
                allow_redirects=False,
            ) as response:
                answer = await response.read()
                status, answer_headers = response.status, response.headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._transport_error(exc, deployment, timeout_s) from exc
        if not 200 <= status < 300:
            raise error_from_status(status, answer, answer_headers, deployment.id)
        try:
            usage = self.answer_usage(answer)
        except msgspec.DecodeError:
            raise UpstreamError(
                f"Deployment {deployment.id!r} answered with a body that is not JSON: {answer[:200]!r}",
                status_code=502,
                retryable=True,
                deployment_id=deployment.id,
            ) from None
        return ProviderReply(body=answer, usage=usage)

    async def forward_stream(
        self,
        deployment: Deployment,
        request: NativeRequest,
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[bytes]:
        """Relay the upstream's SSE events as written (CRLF line ends read as LF), a read at a time."""
        timeout = aiohttp.ClientTimeout(total=None, connect=timeout_s, sock_read=timeout_s)
        try:
            response = await self._session(deployment).post(
                self.url(deployment),
                data=self._body(deployment, request, stream=True),
                headers=self._headers(deployment, request, headers, stream=True),
                timeout=timeout,
                allow_redirects=False,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._transport_error(exc, deployment, timeout_s) from exc
        finished = False
        try:
            await raise_unless_event_stream(response, deployment.id)
            buffer = b""
            async for chunk in response.content.iter_any():
                buffer += chunk
                if b"\r" in buffer:
                    buffer = buffer.replace(b"\r\n", b"\n")
                end = buffer.rfind(b"\n\n")
                if end < 0:
                    continue
                batch, buffer = buffer[: end + 2], buffer[end + 2 :]
                _raise_on_error_event(batch, deployment)
                yield batch
            finished = True
            if buffer.strip():  # a last event the upstream did not terminate
                tail = buffer.strip(b"\n") + b"\n\n"
                _raise_on_error_event(tail, deployment)
                yield tail
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._transport_error(exc, deployment, timeout_s, streaming=True) from exc
        finally:
            if finished:
                response.release()
            else:
                response.close()  # the client went away or the upstream broke: cancel the request

    async def aclose(self) -> None:
        """Close every pool."""
        await self._pools.aclose()

    def _body(self, deployment: Deployment, request: NativeRequest, *, stream: bool) -> bytes:
        body: dict[str, Any] = request.body_for(deployment.id, self.upstream_model(deployment))
        if bool(body.get("stream")) is not stream:
            body["stream"] = stream  # body_for returned a copy
        return self._encoder.encode(body)

    def _headers(
        self,
        deployment: Deployment,
        request: NativeRequest,
        extra: Mapping[str, str] | None,
        *,
        stream: bool,
    ) -> dict[str, str]:
        headers = {"Accept": "text/event-stream" if stream else "application/json"}
        headers["Content-Type"] = "application/json"
        headers.update(self.auth_headers(deployment))
        headers.update(request.headers)  # the client's protocol headers (the surface chose which)
        configured = deployment.params.get("headers")  # the deployment's own headers (trusted config)
        if configured:
            headers.update(configured)
        if extra:  # the trace context
            headers.update(extra)
        return headers

    def _session(self, deployment: Deployment) -> aiohttp.ClientSession:
        return self._pools.session(self.url(deployment))

    def _transport_error(
        self, exc: BaseException, deployment: Deployment, timeout_s: float, *, streaming: bool = False
    ) -> UpstreamError:
        return transport_error(exc, deployment.id, self.url(deployment), timeout_s, streaming=streaming)


def event_data(event: bytes) -> bytes:
    """The ``data`` of one SSE event (its data lines joined); empty for a comment or keep-alive."""
    if event.startswith(b"data: ") and b"\n" not in event:
        return event[6:]
    return b"".join(line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:"))


def _raise_on_error_event(batch: bytes, deployment: Deployment) -> None:
    """Raise the error an ``event: error`` of ``batch`` reports (Anthropic's and the Responses API's)."""
    if _ERROR_EVENT not in batch:
        return
    for event in batch.split(b"\n\n"):
        if not event.startswith(_ERROR_EVENT):
            continue
        data = event_data(event)
        error = error_from_event(data, deployment.id)
        if error is None:
            try:
                flat = _FLAT_ERROR.decode(data)
            except msgspec.DecodeError:
                flat = _FlatError()
            error = UpstreamError(
                flat.message or f"Deployment {deployment.id!r} reported an error mid-stream.",
                status_code=502,
                retryable=is_retryable_status(502),
                deployment_id=deployment.id,
                code=flat.code,
            )
        raise error
