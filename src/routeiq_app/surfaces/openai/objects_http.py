"""What the files and batches handlers share: the caller, query parameters, item paths, answers."""

from __future__ import annotations

from urllib.parse import parse_qsl

import msgspec

from routeiq_app.asgi_io import send_json
from routeiq_app.asgi_types import Scope, Send
from routeiq_app.surfaces.http import HttpRequestReader, result_headers
from routeiq_app.surfaces.openai.handler import MethodNotAllowed
from routeiq_app.surfaces.tracing import request_span
from routeiq_core.calls import CallAnswer
from routeiq_core.errors import InvalidRequestError, NotFoundError
from routeiq_core.provider_objects import MAX_PAGE, ObjectCaller, ObjectPage
from routeiq_core.surfaces import OPENAI_SURFACE

MAX_QUERY_BYTES = 4096
DEFAULT_PAGE = 20


def caller_of(reader: HttpRequestReader, scope: Scope) -> ObjectCaller:
    """The caller as the request's headers present it, with the request's id and span."""
    return ObjectCaller(
        credentials=reader.credentials(scope),
        request_id=scope.get("state", {}).get("request_id"),
        surface=OPENAI_SURFACE,
        span=request_span(scope),
    )


def allow(scope: Scope, *methods: str) -> str:
    """The request's method, or a 405 naming the ones this path serves."""
    method: str = scope["method"]
    if method not in methods:
        allowed = ", ".join(methods)
        raise MethodNotAllowed(f"Use {allowed} for {scope['path'][:200]}.", headers={"Allow": allowed})
    return method


def query_of(scope: Scope) -> dict[str, str]:
    """The query parameters (the last of a repeated one), bounded."""
    raw: bytes = scope.get("query_string", b"")
    if len(raw) > MAX_QUERY_BYTES:
        raise InvalidRequestError(f"The query string is longer than {MAX_QUERY_BYTES} bytes.")
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=False))


def page_of(query: dict[str, str]) -> tuple[str | None, int]:
    """``after`` and ``limit`` of a list request (newest first only: ``order=desc``)."""
    text = query.get("limit", str(DEFAULT_PAGE))
    if not (text.isascii() and text.isdigit() and len(text) <= 3) or not 1 <= int(text) <= MAX_PAGE:
        raise InvalidRequestError(f"limit must be an integer from 1 to {MAX_PAGE}.", param="limit")
    if query.get("order", "desc") != "desc":
        raise InvalidRequestError("Lists are newest first: order must be desc.", param="order")
    return query.get("after") or None, int(text)


def item_of(scope: Scope, prefix: str, actions: frozenset[str]) -> tuple[str, str | None]:
    """The object id of an item path (``{prefix}{id}`` or ``{prefix}{id}/{action}``) and its action."""
    rest = scope["path"][len(prefix) :].rstrip("/")
    object_id, _, action = rest.partition("/")
    if not object_id or (action and action not in actions):
        raise NotFoundError(f"No route {scope['path'][:200]!r}.", code="route_not_found")
    return object_id, action or None


async def send_answer(send: Send, answer: CallAnswer) -> None:
    """A provider's object as it answered, with the call's ``x-routeiq-*`` headers."""
    await send_json(send, 200, answer.body, result_headers(answer.context, with_cost=True))


async def send_page(send: Send, page: ObjectPage) -> None:
    """A list of objects, each as last answered."""
    records = page.records
    body = {
        "object": "list",
        "data": [msgspec.Raw(r.body) for r in records],
        "first_id": records[0].id if records else None,
        "last_id": records[-1].id if records else None,
        "has_more": page.has_more,
    }
    await send_json(send, 200, msgspec.json.encode(body))
