"""The OpenAI surface's calls: chat, completions, embeddings (with and without ``/v1``).

Each handler reads the body, builds a :class:`~routeiq_core.calls.CallCommand` and writes what the
use case answers: ``read body → command → call → write``. Authentication, policy, quota, plugins,
routing and settlement all happen in :class:`~routeiq_core.calls.CallService`.

These are raw ASGI handlers, dispatched by :class:`~routeiq_app.surfaces.router.SurfaceRouter` ahead
of Litestar: the app's middleware still applies, and each request costs one body read, one msgspec
decode and one validation, with no per-request framework objects. Upstream JSON is passed to the
client as bytes, streams frame by frame.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import msgspec

from routeiq_app.asgi_io import read_body, send_json, send_stream
from routeiq_app.asgi_types import ASGIApp, Receive, Scope, Send
from routeiq_app.json_body import ObjectDecoder, decode_json_object, validate
from routeiq_app.surfaces.http import HttpRequestReader, result_headers
from routeiq_app.surfaces.openai.wire import (
    ChatCompletionRequest,
    CompletionRequest,
    EmbeddingRequest,
    StreamableRequest,
)
from routeiq_app.surfaces.tracing import request_span
from routeiq_core.calls import CallCommand, CallRequest, CallService, CallStream
from routeiq_core.errors import InvalidRequestError, RouteIQError
from routeiq_core.providers import Operation
from routeiq_core.surfaces import OPENAI_SURFACE

_WIRE_TYPES = (
    (Operation.CHAT, ChatCompletionRequest, ("/v1/chat/completions", "/chat/completions")),
    (Operation.COMPLETIONS, CompletionRequest, ("/v1/completions", "/completions")),
    (Operation.EMBEDDINGS, EmbeddingRequest, ("/v1/embeddings", "/embeddings")),
)


class MethodNotAllowed(RouteIQError):
    """Only POST is served on the OpenAI operation routes."""

    status_code = 405
    error_type = "invalid_request_error"
    default_code = "method_not_allowed"


def openai_routes(calls: CallService, reader: HttpRequestReader, max_body_bytes: int) -> dict[str, ASGIApp]:
    """The operation handlers bound to this app's use case, by path."""
    decoder: ObjectDecoder = msgspec.json.Decoder(dict[str, Any])
    routes: dict[str, ASGIApp] = {}
    for operation, wire_type, paths in _WIRE_TYPES:
        decode = functools.partial(_decode, decoder=decoder, wire_type=wire_type)
        handler = _operation_handler(operation, calls, reader, max_body_bytes, decode)
        routes.update(dict.fromkeys(paths, handler))
    return routes


def _decode(body: bytes, *, decoder: ObjectDecoder, wire_type: type[Any]) -> CallRequest:
    """The body as a call request: valid JSON, valid against the operation's wire type."""
    payload = decode_json_object(body, decoder)
    parsed = validate(payload, wire_type)
    if not isinstance(parsed, StreamableRequest):
        if payload.get("stream"):
            raise InvalidRequestError("Embeddings cannot be streamed.", param="stream")
        return CallRequest(payload=payload)
    options = parsed.stream_options
    return CallRequest(
        payload=payload, stream=parsed.stream, client_wants_usage=bool(options and options.include_usage)
    )


def _operation_handler(
    operation: Operation,
    calls: CallService,
    reader: HttpRequestReader,
    max_body_bytes: int,
    decode: Callable[[bytes], CallRequest],
) -> ASGIApp:
    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            raise MethodNotAllowed(f"Use POST for {scope['path']}.")
        body = await read_body(receive, max_body_bytes)
        credentials, hints = reader.read(scope)
        command = CallCommand(
            operation=operation,
            credentials=credentials,
            request=functools.partial(decode, body),
            hints=hints,
            request_id=scope.get("state", {}).get("request_id"),
            surface=OPENAI_SURFACE,
            span=request_span(scope),
        )
        async with calls.call(command) as result:
            if isinstance(result, CallStream):
                await send_stream(
                    send, receive, result.frames, result_headers(result.context, with_cost=False)
                )
            else:
                await send_json(send, 200, result.body, result_headers(result.context, with_cost=True))

    handle.__name__ = f"openai_{operation.value}"
    handle.__doc__ = f"OpenAI-compatible {operation.value} endpoint."
    return handle
