"""``POST /v1/responses``: a Responses call, translated to chat and back (JSON or typed SSE events).

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
from routeiq_core.calls import CallAccess, CallCommand, CallRequest, CallService, CallStream, RoutingHints
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
    request: ResponsesRequest = validate(normalized(decode_json_object(body, decoder)), ResponsesRequest)
    return request


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
    request = decode_request(body, decoder)
    previous = None
    if request.previous_response_id is not None:
        previous = await conversations.load(principal, request.previous_response_id, "previous_response_id")
    items = [*conversations.history(previous), *stored_items(request_items(request))]
    encoded = conversations.encode_items(items) if request.store else b""
    response_id = new_id("resp")
    conversation = previous.conversation_id if previous is not None else response_id
    command = CallCommand(
        operation=Operation.CHAT,
        credentials=credentials,
        request=CallRequest(payload=to_chat(request, items), stream=request.stream, client_wants_usage=True),
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
        if isinstance(result, CallStream):
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
