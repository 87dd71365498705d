"""The surfaces' call paths, dispatched by exact path ahead of Litestar's router.

The calls (``/v1/chat/completions`` and the like) are the hot path: a dictionary lookup takes them
straight to their surface handler, skipping Litestar's routing, scope state and exception
middleware (about a quarter of the in-process cost of a call, measured). Everything else — admin,
health, models, the OpenAPI document, 404s — goes on to Litestar. The outer middleware (request id,
CORS, drain, backpressure) wraps both. Errors become responses through :mod:`routeiq_app.errors`,
as Litestar's handlers do.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from routeiq_app.asgi_io import ClientDisconnected, send_json
from routeiq_app.asgi_types import ASGIApp, Message, Receive, Scope, Send
from routeiq_app.errors import UNREADABLE_BODY, routeiq_error_body, unexpected_error_body
from routeiq_app.surfaces.tracing import server_attributes, trace_headers
from routeiq_core import metric_names as names
from routeiq_core import span_names as names_span
from routeiq_core.errors import RouteIQError
from routeiq_core.metrics import Metrics, Record, counter_recorder
from routeiq_core.surfaces import ANTHROPIC_SURFACE, OPENAI_SURFACE, RESPONSES_SURFACE
from routeiq_core.tracing import NOOP_TRACER, Span, SpanKind, Tracer

logger = logging.getLogger("routeiq.http")


class SurfaceRouter:
    """Sends a call path to its surface handler, anything else to ``fallback`` (Litestar).

    Every HTTP response is counted in ``routeiq_requests`` by surface and status: a call path's
    surface is given with it; other paths are named by their prefix (:func:`surface_of`).

    Args:
        fallback: The app serving every other path.
        routes: Exact path → ASGI handler (a trailing slash is ignored).
        metrics: Where responses are counted.
        surfaces: Exact path → the surface it belongs to (default ``openai``).
        tracer: Opens a server span per request (child of the client's W3C ``traceparent``),
            which handlers find in ``scope["state"]["span"]``.
        prefixes: Path prefix → ASGI handler, for paths no exact route takes (``/v1/files/`` and
            its ids); the route is named ``{prefix}*`` in spans and by surface.
    """

    def __init__(
        self,
        fallback: ASGIApp,
        routes: Mapping[str, ASGIApp],
        metrics: Metrics,
        surfaces: Mapping[str, str] | None = None,
        tracer: Tracer = NOOP_TRACER,
        prefixes: Mapping[str, ASGIApp] | None = None,
    ) -> None:
        self._fallback = fallback
        self._routes = dict(routes)
        self._prefixes = tuple((prefix, f"{prefix}*", app) for prefix, app in (prefixes or {}).items())
        self._metrics = metrics
        self._surfaces = dict(surfaces or {})
        self._counted: dict[tuple[str, int], Record] = {}  # bounded: surfaces x status codes
        self._tracer = tracer if tracer.enabled else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch by path."""
        if scope["type"] != "http":
            await self._fallback(scope, receive, send)
            return
        path = scope.get("path", "")
        key = path if path in self._routes else path.rstrip("/")
        handler = self._routes.get(key)
        if handler is None and self._prefixes:
            key, handler = next(((k, app) for p, k, app in self._prefixes if path.startswith(p)), (key, None))
        status = 0
        span = None if self._tracer is None else self._server_span(scope, key if handler else None)

        async def tracked(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if handler is None:
                await self._fallback(scope, receive, tracked)
            else:
                try:
                    await handler(scope, receive, tracked)
                except Exception as exc:
                    await _answer_failure(scope, tracked, status != 0, exc)
        finally:
            surface = self._surfaces.get(key, OPENAI_SURFACE) if handler is not None else surface_of(path)
            self._count(surface, status or 499)
            if span is not None:
                _end_server_span(span, status)

    def _server_span(self, scope: Scope, route: str | None) -> Span:
        """The request's server span, in ``scope["state"]["span"]`` for the handlers."""
        assert self._tracer is not None
        method = scope.get("method", "")
        found = server_attributes(scope, route)
        span = self._tracer.start(
            f"{method} {route}" if route else method,
            kind=SpanKind.SERVER,
            remote_parent=trace_headers(scope),
            attributes=found,
        )
        scope.setdefault("state", {})["span"] = span
        return span

    def _count(self, surface: str, status: int) -> None:
        record = self._counted.get((surface, status))
        if record is None:
            record = counter_recorder(self._metrics, names.REQUESTS, surface=surface, status=str(status))
            if 100 <= status <= 599:
                self._counted[(surface, status)] = record
        record(1.0)


async def _answer_failure(scope: Scope, send: Send, started: bool, exc: Exception) -> None:
    """The response for a handler's exception: the error's own, 400 for an unreadable body, else 500."""
    path = scope.get("path", "")
    if isinstance(exc, RouteIQError):
        await _answer_error(send, started, exc.status_code, routeiq_error_body(exc), exc.headers)
    elif isinstance(exc, ClientDisconnected):
        logger.info("the request body could not be read on %s", path)
        await _answer_error(send, started, 400, UNREADABLE_BODY, {})
    else:
        request_id = scope.get("state", {}).get("request_id")
        logger.error("unhandled error on %s %s", scope.get("method"), path, exc_info=exc)
        await _answer_error(send, started, 500, unexpected_error_body(request_id), {})


_PREFIXES = (
    ("/v1/responses", RESPONSES_SURFACE),  # retrieve, delete, cancel, input items of stored responses
    ("/v1/messages", ANTHROPIC_SURFACE),
    ("/v1/", OPENAI_SURFACE),
    ("/admin/", "admin"),
    ("/key/", "admin"),
    ("/team/", "admin"),
    ("/spend/", "admin"),
    ("/health", "health"),
    ("/metrics", "metrics"),
    ("/schema", "schema"),
    ("/ui", "ui"),
)


def surface_of(path: str) -> str:
    """The surface of a path that is not a call path (a bounded set of names: never the path itself)."""
    return next((surface for prefix, surface in _PREFIXES if path.startswith(prefix)), "other")


def _end_server_span(span: Span, status: int) -> None:
    """The status on the span (a 5xx, or no response at all, fails it), then its end."""
    if status:
        span.set_attribute(names_span.HTTP_STATUS, status)
    if status >= 500 or not status:
        span.fail(str(status) if status else "client_closed")
    span.end()


async def _answer_error(
    send: Send, started: bool, status: int, body: bytes, headers: Mapping[str, str]
) -> None:
    """Send an error response, unless the response had already started (the stream carries its own)."""
    if started:
        return
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers.items()]
    try:
        await send_json(send, status, body, encoded)
    except OSError:  # the client is gone: nobody to tell
        logger.info("could not send a %d: the client went away", status)
