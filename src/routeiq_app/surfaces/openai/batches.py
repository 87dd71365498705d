"""``/v1/batches``: batches run by the deployment holding their input file; listed, read, cancelled.

``read → caller → use case → write``; the rules are :class:`~routeiq_core.provider_objects.
ProviderObjects`'. A list shows each batch as it was last read (retrieve one for its state now).
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec

from routeiq_app.asgi_io import read_body
from routeiq_app.asgi_types import ASGIApp, Receive, Scope, Send
from routeiq_app.json_body import ObjectDecoder, decode_json_object, validate
from routeiq_app.surfaces.http import HttpRequestReader
from routeiq_app.surfaces.openai.objects_http import (
    allow,
    caller_of,
    item_of,
    page_of,
    query_of,
    send_answer,
    send_page,
)
from routeiq_app.surfaces.openai.wire_objects import BatchCreateRequest
from routeiq_core.calls import CallRequest
from routeiq_core.provider_objects import ProviderObjects

BATCHES_PATHS = ("/v1/batches", "/batches")
BATCH_PREFIXES = ("/v1/batches/", "/batches/")


def batch_routes(
    objects: ProviderObjects, reader: HttpRequestReader, max_body_bytes: int
) -> tuple[dict[str, ASGIApp], dict[str, ASGIApp]]:
    """The batches handlers: by exact path (create, list) and by path prefix (one batch)."""
    decoder: ObjectDecoder = msgspec.json.Decoder(dict[str, Any])

    async def batches(scope: Scope, receive: Receive, send: Send) -> None:
        """OpenAI batches: create (POST) or list the caller's (GET)."""
        caller = caller_of(reader, scope)
        if allow(scope, "GET", "POST") == "GET":
            after, limit = page_of(query_of(scope))
            await send_page(send, await objects.list(caller, "batch", after=after, limit=limit))
            return
        body = await read_body(receive, max_body_bytes)
        decode = functools.partial(_decode_batch, body, decoder)
        await send_answer(send, await objects.create_batch(caller, decode))

    async def batch(scope: Scope, receive: Receive, send: Send) -> None:
        """OpenAI batches: retrieve (GET) or cancel (POST .../cancel)."""
        prefix = BATCH_PREFIXES[0] if scope["path"].startswith(BATCH_PREFIXES[0]) else BATCH_PREFIXES[1]
        batch_id, action = item_of(scope, prefix, frozenset({"cancel"}))
        caller = caller_of(reader, scope)
        if action == "cancel":
            allow(scope, "POST")
            await send_answer(send, await objects.cancel_batch(caller, batch_id))
        else:
            allow(scope, "GET")
            await send_answer(send, await objects.retrieve(caller, "batch", batch_id))

    return dict.fromkeys(BATCHES_PATHS, batches), dict.fromkeys(BATCH_PREFIXES, batch)


def _decode_batch(body: bytes, decoder: ObjectDecoder) -> CallRequest:
    """The body, valid against :class:`BatchCreateRequest` (a client's ``model`` is ignored)."""
    payload = decode_json_object(body, decoder)
    validate(payload, BatchCreateRequest)
    payload.pop("model", None)
    return CallRequest(payload=payload)
