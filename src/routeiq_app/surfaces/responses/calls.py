"""``POST /v1/responses``: a Responses call, translated to chat and back (JSON or typed SSE events).

A deployment that speaks the Responses API gets the body as sent instead, and its answer goes back
as it came, stored under the upstream's id (:mod:`.native`).

``read body → identify → decode → previous turn (owner-checked) → translate → call → translate
back → store → write``. The caller is identified before the body is decoded or the store read, so
an unauthenticated caller learns nothing; the call itself goes through
:class:`~routeiq_core.calls.CallService` as any chat call does. The conversation's first response id
is its affinity key, so every turn of it stays on one deployment. Errors are OpenAI's format (the
surface router answers them).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import msgspec

from routeiq_app.asgi_io import read_body, send_json, send_stream
from routeiq_app.asgi_types import ASGIApp, Receive, Scope, Send
from routeiq_app.json_body import ObjectDecoder, decode_json_object, validate
from routeiq_app.surfaces.http import HttpRequestReader, result_headers
from routeiq_app.surfaces.responses.answers import Response
from routeiq_app.surfaces.responses.conversation import Conversations, stored_items
from routeiq_app.surfaces.responses.native import SaveNative, native_events, native_request, response_id
from routeiq_app.surfaces.responses.stream import StreamTranslator, response_events
from routeiq_app.surfaces.responses.translate import (
    new_id,
    request_items,
    response_shell,
    to_chat,
    to_response,
)
from routeiq_app.surfaces.responses.wire import ResponsesRequest, normalized
from routeiq_app.surfaces.tracing import request_span
from routeiq_core.access import Principal, require
from routeiq_core.calls import (
    CallAccess,
    CallCommand,
    CallRequest,
    CallResult,
    CallService,
    CallStream,
    RoutingHints,
)
from routeiq_core.errors import InvalidRequestError
from routeiq_core.gateway.streaming import close_quietly
from routeiq_core.providers import Operation
from routeiq_core.responses import ResponseStoreError
from routeiq_core.surfaces import RESPONSES_SURFACE

logger = logging.getLogger("routeiq.responses")
RESPONSES_PATH = "/v1/responses"


class MethodNotAllowed(InvalidRequestError):
    """Only POST is served on ``/v1/responses`` itself."""

    status_code = 405
    default_code = "method_not_allowed"


def responses_routes(
    calls: CallService,
    access: CallAccess,
    conversations: Conversations,
    reader: HttpRequestReader,
    max_body_bytes: int,
) -> dict[str, ASGIApp]:
    """The ``POST /v1/responses`` handler bound to this app's use case and store, by path."""
    decoder: ObjectDecoder = msgspec.json.Decoder(dict[str, Any])
    handler = functools.partial(_create, calls, access, conversations, reader, max_body_bytes, decoder)

    async def create_response(scope: Scope, receive: Receive, send: Send) -> None:
        """OpenAI Responses API: create a response."""
        if scope["method"] != "POST":
            raise MethodNotAllowed(f"Use POST for {RESPONSES_PATH}.", headers={"Allow": "POST"})
        await handler(scope, receive, send)

    return {RESPONSES_PATH: create_response}


def decode_request(body: bytes, decoder: ObjectDecoder) -> ResponsesRequest:
    """The validated request of a ``POST /v1/responses`` body (a 400 naming the field otherwise)."""
    return decode_body(body, decoder)[0]


def decode_body(body: bytes, decoder: ObjectDecoder) -> tuple[ResponsesRequest, dict[str, Any]]:
    """The validated request of a body, and the body's JSON object (forwarded as is when native)."""
    raw = normalized(decode_json_object(body, decoder))
    request: ResponsesRequest = validate(raw, ResponsesRequest)
    return request, raw


async def _create(
    calls: CallService,
    access: CallAccess,
    conversations: Conversations,
    reader: HttpRequestReader,
    max_body_bytes: int,
    decoder: ObjectDecoder,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    body = await read_body(receive, max_body_bytes)
    credentials, hints = reader.read(scope)
    principal = await access.identify(credentials)
    require(principal, "llm.call")
    request, raw = decode_body(body, decoder)
    previous = None
    if request.previous_response_id is not None:
        previous = await conversations.load(principal, request.previous_response_id, "previous_response_id")
    history, own = conversations.history(previous), request_items(request)
    items = [*history, *stored_items(own)]
    encoded = conversations.encode_items(items) if request.store else b""
    native = native_request(raw, previous, [*history, *own])
    response_id = new_id("resp")
    conversation = previous.conversation_id if previous is not None else response_id
    command = CallCommand(
        operation=Operation.CHAT,
        credentials=credentials,
        request=CallRequest(
            payload=to_chat(request, items), stream=request.stream, client_wants_usage=True, native=native
        ),
        hints=RoutingHints(
            tags=hints.tags,
            conversation_id=hints.conversation_id or conversation,
            cost_weight=hints.cost_weight,
        ),
        request_id=scope.get("state", {}).get("request_id"),
        surface=RESPONSES_SURFACE,
        span=request_span(scope),
    )
    save = functools.partial(_save, conversations, principal, encoded, conversation, request.store)
    async with calls.call(command) as result:
        if result.context.served_natively:  # the answer is the upstream's Responses answer already
            save_native = functools.partial(
                _save_native, conversations, principal, encoded, conversation, result
            )
            await _send_native(send, receive, result, save_native, store=request.store)
        elif isinstance(result, CallStream):
            translator = StreamTranslator(response_shell(request, response_id, "in_progress"))
            events = response_events(result.frames, translator, save)
            try:
                await send_stream(send, receive, events, result_headers(result.context, with_cost=False))
            finally:
                await close_quietly(events)
        else:
            response = to_response(result.body, request, response_id)
            await save(response)
            await send_json(
                send, 200, msgspec.json.encode(response), result_headers(result.context, with_cost=True)
            )


async def _send_native(
    send: Send, receive: Receive, result: CallResult, save: SaveNative, *, store: bool
) -> None:
    """Relay a natively served answer as it came, storing the response (when asked) on the way."""
    if isinstance(result, CallStream):
        events = native_events(result.frames, save, store=store)
        try:
            await send_stream(send, receive, events, result_headers(result.context, with_cost=False))
        finally:
            await close_quietly(events)
        return
    found = response_id(result.body)
    if store and found:
        await save(found, result.body)
    await send_json(send, 200, result.body, result_headers(result.context, with_cost=True))


async def _save_native(
    conversations: Conversations,
    principal: Principal,
    items: bytes,
    conversation: str,
    result: CallResult,
    response_id: str,
    response: bytes,
) -> None:
    """Store a natively served response under the upstream's id (a failure is logged, as in :func:`_save`)."""
    route = result.context.route
    if route is None:
        return
    try:
        await conversations.save_native(
            principal, response_id, response, items, conversation, route.deployment_id
        )
    except ResponseStoreError:
        logger.exception("could not store response %s", response_id)


async def _save(
    conversations: Conversations,
    principal: Principal,
    items: bytes,
    conversation: str,
    store: bool,
    response: Response,
) -> None:
    """Store the finished ``response`` (when the request asked to), before the client hears it finished.

    A store failure is logged, not raised: the call was made and is answered; continuing from this
    response will then be a 404.
    """
    if not store:
        return
    try:
        await conversations.save(principal, response, items, conversation)
    except ResponseStoreError:
        logger.exception("could not store response %s", response.id)
