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
from routeiq_core.errors import RouteIQError

logger = logging.getLogger("routeiq.http")


class SurfaceRouter:
    """Sends a call path to its surface handler, anything else to ``fallback`` (Litestar).

    Args:
        fallback: The app serving every other path.
        routes: Exact path → ASGI handler (a trailing slash is ignored).
    """

    def __init__(self, fallback: ASGIApp, routes: Mapping[str, ASGIApp]) -> None:
        self._fallback = fallback
        self._routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch by path."""
        path = scope.get("path", "")
        handler = self._routes.get(path) if scope["type"] == "http" else None
        if handler is None and path.endswith("/") and scope["type"] == "http":
            handler = self._routes.get(path.rstrip("/"))
        if handler is None:
            await self._fallback(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await handler(scope, receive, tracked)
        except RouteIQError as exc:
            await _answer_error(send, started, exc.status_code, routeiq_error_body(exc), exc.headers)
        except ClientDisconnected:
            logger.info("the request body could not be read on %s", path)
            await _answer_error(send, started, 400, UNREADABLE_BODY, {})
        except Exception:
            request_id = scope.get("state", {}).get("request_id")
            logger.exception("unhandled error on %s %s", scope.get("method"), path)
            await _answer_error(send, started, 500, unexpected_error_body(request_id), {})


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
