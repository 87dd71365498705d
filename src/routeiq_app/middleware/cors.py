"""CORS as a plain ASGI middleware, placed right inside the request-id middleware.

It answers preflights itself and adds the allow headers to every response for an allowed origin —
including errors and load-shed 503s produced further in.
"""

from __future__ import annotations

from collections.abc import Sequence

from routeiq_app.asgi_types import ASGIApp, Message, Receive, Scope, Send

ALLOWED_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
EXPOSED_HEADERS = (
    b"x-request-id, retry-after, x-routeiq-model-group, x-routeiq-deployment, "
    b"x-routeiq-strategy, x-routeiq-attempts"
)
PREFLIGHT_MAX_AGE = b"600"


class CorsMiddleware:
    """Allows the configured origins (``*`` for any); other origins get no CORS headers."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self._any = "*" in origins
        self._origins = frozenset(o.encode() for o in origins)

    def _allowed(self, origin: bytes | None) -> bool:
        return origin is not None and (self._any or origin in self._origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer preflights; decorate responses for allowed origins."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin, requested_method, requested_headers = _cors_request_headers(scope)
        if not self._allowed(origin):
            await self.app(scope, receive, send)
            return
        allow_origin = b"*" if self._any else origin
        assert allow_origin is not None
        if scope["method"] == "OPTIONS" and requested_method is not None:
            await self._preflight(send, allow_origin, requested_headers)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers += [
                    (b"access-control-allow-origin", allow_origin),
                    (b"access-control-expose-headers", EXPOSED_HEADERS),
                    (b"vary", b"Origin"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    async def _preflight(send: Send, allow_origin: bytes, requested_headers: bytes | None) -> None:
        headers = [
            (b"access-control-allow-origin", allow_origin),
            (b"access-control-allow-methods", ALLOWED_METHODS),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
        ]
        if requested_headers:
            headers.append((b"access-control-allow-headers", requested_headers))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _cors_request_headers(scope: Scope) -> tuple[bytes | None, bytes | None, bytes | None]:
    origin = method = headers = None
    for name, value in scope.get("headers", ()):
        if name == b"origin":
            origin = value
        elif name == b"access-control-request-method":
            method = value
        elif name == b"access-control-request-headers":
            headers = value
    return origin, method, headers
