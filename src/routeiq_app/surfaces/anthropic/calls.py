"""The Anthropic surface's calls: ``POST /v1/messages`` and ``POST /v1/messages/count_tokens``.

``/v1/messages`` is ``read body → command → call → write``, like the OpenAI handlers, with a
translation on each side: the body becomes a chat payload (:mod:`.translate`) that goes through
:class:`~routeiq_core.calls.CallService` as any chat call does (authentication first, then policy,
quota, plugins, routing, settlement), and the chat answer or stream comes back as a message or
Anthropic's events (:mod:`.stream`). A deployment that speaks Messages gets the body as sent
instead, and its answer goes back as it came (:mod:`.native`). Keys come as ``x-api-key`` or
``Authorization: Bearer``; ``anthropic-version`` and ``anthropic-beta`` are accepted, not needed
(forwarded to deployments that speak Messages). Every answer, errors
included, carries ``request-id`` (the gateway's ``X-Request-ID``); errors are Anthropic's shape.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from routeiq_app.asgi_io import read_body, send_json, send_stream
from routeiq_app.asgi_types import ASGIApp, Message, Receive, Scope, Send
from routeiq_app.json_body import ObjectDecoder, decode_json_object, validate
from routeiq_app.surfaces.anthropic.answers import TokensCount
from routeiq_app.surfaces.anthropic.errors import error_response
from routeiq_app.surfaces.anthropic.native import native_events, native_request, protocol_headers
from routeiq_app.surfaces.anthropic.stream import StreamTranslator, anthropic_events
from routeiq_app.surfaces.anthropic.translate import to_chat, to_message
from routeiq_app.surfaces.anthropic.wire import CountTokensRequest, MessagesRequest
from routeiq_app.surfaces.http import HttpRequestReader, result_headers
from routeiq_app.surfaces.tracing import request_span
from routeiq_core.calls import CallCommand, CallRequest, CallResult, CallService, CallStream
from routeiq_core.errors import InvalidRequestError
from routeiq_core.gateway.streaming import close_quietly
from routeiq_core.providers import Operation
from routeiq_core.surfaces import ANTHROPIC_SURFACE

logger = logging.getLogger("routeiq.http")
MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
Handler = Callable[[Scope, Receive, Send, str | None], Awaitable[None]]


class MethodNotAllowed(InvalidRequestError):
    """Only POST is served on the Messages routes."""

    status_code = 405
    default_code = "method_not_allowed"


class _Decode:
    """Decodes the body once the caller is authenticated, keeping the request for the answer.

    The call carries both shapes: the chat translation, and the body as sent for deployments that
    speak Messages (:mod:`.native`).
    """

    def __init__(self, body: bytes, decoder: ObjectDecoder, headers: dict[str, str]) -> None:
        self._body = body
        self._decoder = decoder
        self._headers = headers
        self.request: MessagesRequest | None = None

    def __call__(self) -> CallRequest:
        raw = decode_json_object(self._body, self._decoder)
        request: MessagesRequest = validate(raw, MessagesRequest)
        self.request = request
        return CallRequest(
            payload=to_chat(request),
            stream=request.stream,
            client_wants_usage=True,
            native=native_request(raw, self._headers),
        )


def anthropic_routes(
    calls: CallService, reader: HttpRequestReader, max_body_bytes: int
) -> dict[str, ASGIApp]:
    """The Messages handlers bound to this app's use case, by path."""
    decoder: ObjectDecoder = msgspec.json.Decoder(dict[str, Any])
    messages = functools.partial(_messages, calls, reader, max_body_bytes, decoder)
    count = functools.partial(_count_tokens, calls, reader, max_body_bytes, decoder)
    return {
        MESSAGES_PATH: _anthropic(messages, "messages"),
        COUNT_TOKENS_PATH: _anthropic(count, "count_tokens"),
    }


def _anthropic(handler: Handler, name: str) -> ASGIApp:
    """``handler`` answering its errors in Anthropic's format, with ``request-id`` on every answer."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        request_id: str | None = scope.get("state", {}).get("request_id")
        started = False
        extra = [(b"request-id", request_id.encode("latin-1"))] if request_id else []

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        try:
            if scope["method"] != "POST":
                raise MethodNotAllowed(f"Use POST for {scope['path']}.", headers={"Allow": "POST"})
            await handler(scope, receive, tracked, request_id)
        except Exception as exc:
            if started:
                raise
            status, body, headers = error_response(exc, request_id)
            try:
                await send_json(tracked, status, body, headers)
            except OSError:  # the client is gone: nobody to tell
                logger.info("could not send a %d: the client went away", status)

    handle.__name__ = f"anthropic_{name}"
    handle.__doc__ = f"Anthropic Messages API: {name}."
    return handle


async def _messages(
    calls: CallService,
    reader: HttpRequestReader,
    max_body_bytes: int,
    decoder: ObjectDecoder,
    scope: Scope,
    receive: Receive,
    send: Send,
    request_id: str | None,
) -> None:
    body = await read_body(receive, max_body_bytes)
    credentials, hints = reader.read(scope)
    decode = _Decode(body, decoder, protocol_headers(scope))
    command = CallCommand(
        operation=Operation.CHAT,
        credentials=credentials,
        request=decode,
        hints=hints,
        request_id=request_id,
        surface=ANTHROPIC_SURFACE,
        span=request_span(scope),
    )
    async with calls.call(command) as result:
        request = decode.request
        assert request is not None  # decoded on admission
        if result.context.served_natively:  # the answer is in Messages already
            await _send_native(send, receive, result, request_id)
        elif isinstance(result, CallStream):
            translator = StreamTranslator(
                model=request.model,
                input_tokens=result.context.estimated_prompt_tokens,
                stop_sequences=request.stop_sequences,
                request_id=request_id,
            )
            events = anthropic_events(result.frames, translator)
            try:
                await send_stream(send, receive, events, result_headers(result.context, with_cost=False))
            finally:
                await close_quietly(events)
        else:
            message = to_message(result.body, model=request.model, stop_sequences=request.stop_sequences)
            headers = result_headers(result.context, with_cost=True)
            await send_json(send, 200, msgspec.json.encode(message), headers)


async def _send_native(send: Send, receive: Receive, result: CallResult, request_id: str | None) -> None:
    """Relay a natively served answer as it came (a stream cut mid-way ends with an ``error`` event)."""
    if isinstance(result, CallStream):
        events = native_events(result.frames, request_id)
        try:
            await send_stream(send, receive, events, result_headers(result.context, with_cost=False))
        finally:
            await close_quietly(events)
    else:
        await send_json(send, 200, result.body, result_headers(result.context, with_cost=True))


def _count_request(body: bytes, decoder: ObjectDecoder) -> CallRequest:
    """The count_tokens body as the chat request it stands for."""
    request: CountTokensRequest = validate(decode_json_object(body, decoder), CountTokensRequest)
    return CallRequest(payload=to_chat(request))


async def _count_tokens(
    calls: CallService,
    reader: HttpRequestReader,
    max_body_bytes: int,
    decoder: ObjectDecoder,
    scope: Scope,
    receive: Receive,
    send: Send,
    request_id: str | None,
) -> None:
    """The prompt estimate the gateway reserves quota by; no upstream is called.

    Admitted as a call would be, up to the model: the key, ``llm.call``, the policy, the model group.
    """
    body = await read_body(receive, max_body_bytes)
    credentials, hints = reader.read(scope)
    count_request = functools.partial(_count_request, body, decoder)
    command = CallCommand(
        operation=Operation.CHAT,
        credentials=credentials,
        request=count_request,
        hints=hints,
        request_id=request_id,
        surface=ANTHROPIC_SURFACE,
    )
    ctx = await calls.describe(command)
    answer = TokensCount(input_tokens=max(1, ctx.estimated_prompt_tokens))
    await send_json(send, 200, msgspec.json.encode(answer))
