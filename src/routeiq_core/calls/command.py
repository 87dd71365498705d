"""What a surface hands the request use case, and what it gets back.

A surface (the OpenAI HTTP API, later Responses, Anthropic Messages, MCP, A2A) reads its wire
format into a :class:`CallCommand`: the operation, the credentials as presented, a way to decode the
body, routing hints and the request id. The use case authenticates *before* it decodes the body, so
an unauthenticated caller learns nothing about the body's fields. It answers with a
:class:`CallAnswer` (a complete JSON body) or a :class:`CallStream` (SSE frames); both carry the
call's :class:`~routeiq_core.context.CallContext`, from which the surface writes its metadata
(route, routed-model choice, cost, plugin headers) in its own format.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec

from routeiq_core.context import CallContext
from routeiq_core.native import NativeRequest
from routeiq_core.providers import Operation
from routeiq_core.surfaces import LIBRARY_SURFACE
from routeiq_core.tracing import NOOP_SPAN, Span


class Credentials(msgspec.Struct, frozen=True, kw_only=True):
    """What the caller presented, as the surface read it.

    Attributes:
        token: The API key (an ``Authorization: Bearer`` token, say); None when none was sent.
        client_address: The client's address, as the surface established it (forwarding headers
            honoured only from trusted proxies).
    """

    token: str | None = None
    client_address: str | None = None


class RoutingHints(msgspec.Struct, frozen=True, kw_only=True):
    """Routing hints a surface read outside the body.

    Attributes:
        tags: Routing tags (deployments are filtered by them).
        conversation_id: Keeps a conversation on one deployment.
        cost_weight: A routed model name's cost weight, as sent (the use case validates it).
    """

    tags: tuple[str, ...] = ()
    conversation_id: str | None = None
    cost_weight: str | None = None


class CallRequest(msgspec.Struct, kw_only=True):
    """The body as the surface decoded and validated it, in the gateway's canonical (OpenAI) shape.

    Attributes:
        payload: The JSON object; fields the gateway does not model pass through to the upstream.
        stream: Whether the answer streams.
        client_wants_usage: Whether a streamed answer ends with a usage chunk.
        native: The client's own body, for deployments that speak its protocol (see
            :mod:`routeiq_core.native`); None: the payload is the client's request.
    """

    payload: dict[str, Any]
    stream: bool = False
    client_wants_usage: bool = False
    native: NativeRequest | None = None


Decode = Callable[[], CallRequest]
"""Decodes and validates the body; raises the surface's 400 (an ``InvalidRequestError``)."""


class CallCommand(msgspec.Struct, frozen=True, kw_only=True):
    """One call as a surface presents it to :class:`~routeiq_core.calls.CallService`.

    Attributes:
        operation: What is asked.
        credentials: Who claims to call.
        request: The decoded body, or a function that decodes it (called after authentication).
        hints: Routing hints from outside the body.
        request_id: The surface's id for the request.
        surface: The protocol it arrived in (policy rules can match it).
        span: The surface's span of the request (the HTTP server span); the call's spans are its
            children. The no-op span: the call opens its own when tracing is on.
        deployment: Pins the call to this deployment of its model group (the one holding a stored
            file or batch); set by the use case from its own records, never from client input.
    """

    operation: Operation
    credentials: Credentials
    request: CallRequest | Decode
    hints: RoutingHints = msgspec.field(default_factory=RoutingHints)
    request_id: str | None = None
    surface: str = LIBRARY_SURFACE
    span: Span = NOOP_SPAN
    deployment: str | None = None


class CallAnswer(msgspec.Struct, kw_only=True):
    """A complete answer: the canonical JSON body and the call's context."""

    context: CallContext
    body: bytes


class CallStream:
    """A streamed answer: SSE frames ending in ``[DONE]`` (or an error frame), and the call's context.

    Speech (:data:`~routeiq_core.operations.BYTE_STREAMS`) streams raw audio bytes instead.

    Iterate :attr:`frames` inside the ``async with`` block of :meth:`CallService.call`; leaving the
    block (normally, by an error, or cancelled because the client went away) closes the stream and
    settles the call.
    """

    __slots__ = ("_close", "_closed", "context", "frames")

    def __init__(
        self, context: CallContext, frames: AsyncIterator[bytes], close: Callable[[], Awaitable[None]]
    ) -> None:
        self.context = context
        self.frames = frames
        self._close = close
        self._closed = False

    async def aclose(self) -> None:
        """Close the stream and the upstream call behind it (once; later calls do nothing)."""
        if not self._closed:
            self._closed = True
            await self._close()


CallResult = CallAnswer | CallStream
