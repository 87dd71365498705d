"""The raw ASGI handler every OpenAI operation shares: ``read body → command → call → write``."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from routeiq_app.asgi_io import read_body, send_json, send_stream
from routeiq_app.asgi_types import ASGIApp, Receive, Scope, Send
from routeiq_app.surfaces.http import HttpRequestReader, result_headers
from routeiq_app.surfaces.tracing import request_span
from routeiq_core.calls import CallCommand, CallRequest, CallResult, CallService, CallStream
from routeiq_core.errors import RouteIQError
from routeiq_core.providers import Operation
from routeiq_core.surfaces import OPENAI_SURFACE


class MethodNotAllowed(RouteIQError):
    """Only POST is served on the OpenAI operation routes."""

    status_code = 405
    error_type = "invalid_request_error"
    default_code = "method_not_allowed"


Decode = Callable[[bytes, Scope], CallRequest]
"""Reads a request's body (its headers at hand, for a form's boundary) into the call request."""
Write = Callable[[Send, Receive, CallResult], Awaitable[None]]
"""Writes the use case's answer to the client."""


def operation_handler(
    operation: Operation,
    calls: CallService,
    reader: HttpRequestReader,
    max_body_bytes: int,
    decode: Decode,
    write: Write,
) -> ASGIApp:
    """The raw ASGI handler of one operation: read the body, build the command, call, ``write``."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            raise MethodNotAllowed(f"Use POST for {scope['path']}.")
        body = await read_body(receive, max_body_bytes)
        credentials, hints = reader.read(scope)
        command = CallCommand(
            operation=operation,
            credentials=credentials,
            request=functools.partial(decode, body, scope),
            hints=hints,
            request_id=scope.get("state", {}).get("request_id"),
            surface=OPENAI_SURFACE,
            span=request_span(scope),
        )
        async with calls.call(command) as result:
            await write(send, receive, result)

    handle.__name__ = f"openai_{operation.value}"
    handle.__doc__ = f"OpenAI-compatible {operation.value} endpoint."
    return handle


async def write_result(send: Send, receive: Receive, result: CallResult) -> None:
    """An answer as JSON, a stream as SSE, with the call's ``x-routeiq-*`` headers."""
    if isinstance(result, CallStream):
        await send_stream(send, receive, result.frames, result_headers(result.context, with_cost=False))
    else:
        await send_json(send, 200, result.body, result_headers(result.context, with_cost=True))
