"""The OpenAI surface's calls: chat, completions, embeddings, moderations, images, rerank.

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
from typing import Any

import msgspec

from routeiq_app.asgi_types import ASGIApp, Scope
from routeiq_app.json_body import ObjectDecoder, decode_json_object, validate
from routeiq_app.surfaces.http import HttpRequestReader
from routeiq_app.surfaces.openai.audio import audio_routes
from routeiq_app.surfaces.openai.forms import decode_form
from routeiq_app.surfaces.openai.handler import operation_handler, write_result
from routeiq_app.surfaces.openai.wire import (
    ChatCompletionRequest,
    CompletionRequest,
    EmbeddingRequest,
    StreamableRequest,
)
from routeiq_app.surfaces.openai.wire_tasks import (
    ImageEditForm,
    ImageGenerationRequest,
    ModerationRequest,
    RerankRequest,
)
from routeiq_core.calls import CallRequest, CallService
from routeiq_core.errors import InvalidRequestError
from routeiq_core.providers import Operation

IMAGE_EDIT_PATHS = ("/v1/images/edits", "/images/edits")
_WIRE_TYPES = (
    (Operation.CHAT, ChatCompletionRequest, ("/v1/chat/completions", "/chat/completions")),
    (Operation.COMPLETIONS, CompletionRequest, ("/v1/completions", "/completions")),
    (Operation.EMBEDDINGS, EmbeddingRequest, ("/v1/embeddings", "/embeddings")),
    (Operation.MODERATIONS, ModerationRequest, ("/v1/moderations", "/moderations")),
    (Operation.IMAGES, ImageGenerationRequest, ("/v1/images/generations", "/images/generations")),
    (Operation.RERANK, RerankRequest, ("/v1/rerank", "/rerank", "/v2/rerank")),
)


def openai_routes(calls: CallService, reader: HttpRequestReader, max_body_bytes: int) -> dict[str, ASGIApp]:
    """The operation handlers bound to this app's use case, by path."""
    decoder: ObjectDecoder = msgspec.json.Decoder(dict[str, Any])
    routes: dict[str, ASGIApp] = {}
    for operation, wire_type, paths in _WIRE_TYPES:
        decode = functools.partial(_decode, decoder=decoder, wire_type=wire_type, operation=operation)
        handler = operation_handler(operation, calls, reader, max_body_bytes, decode, write_result)
        routes.update(dict.fromkeys(paths, handler))
    edits = functools.partial(
        decode_form,
        wire_type=ImageEditForm,
        files=frozenset({"image", "mask"}),
        required="image",
        numbers={"n": int},
    )
    edit = operation_handler(Operation.IMAGE_EDITS, calls, reader, max_body_bytes, edits, write_result)
    routes.update(dict.fromkeys(IMAGE_EDIT_PATHS, edit))
    routes.update(audio_routes(calls, reader, max_body_bytes))
    return routes


def _decode(
    body: bytes, scope: Scope, *, decoder: ObjectDecoder, wire_type: type[Any], operation: Operation
) -> CallRequest:
    """The body as a call request: valid JSON, valid against the operation's wire type."""
    payload = decode_json_object(body, decoder)
    parsed = validate(payload, wire_type)
    if not isinstance(parsed, StreamableRequest):
        if payload.get("stream"):
            raise InvalidRequestError(
                f"{operation.value.capitalize()} cannot be streamed.",
                param="stream",
                code="unsupported_stream",
            )
        return CallRequest(payload=payload)
    options = parsed.stream_options
    return CallRequest(
        payload=payload, stream=parsed.stream, client_wants_usage=bool(options and options.include_usage)
    )
