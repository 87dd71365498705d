"""Outermost middleware: every response carries ``X-Request-ID``, errors and shed requests included."""

from __future__ import annotations

import os
import re

from routeiq_app.asgi_types import ASGIApp, Message, Receive, Scope, Send
from routeiq_app.context import request_id_var

HEADER = b"x-request-id"
_VALID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")


def incoming_request_id(scope: Scope) -> str | None:
    """A client-supplied request id, if present and well-formed (ASCII token, at most 128 chars)."""
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            return value.decode("ascii") if _VALID.match(value) else None
    return None


class RequestIdMiddleware:
    """Honours a valid incoming ``X-Request-ID`` or generates one, and echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Tag the request, then add the header to ``http.response.start``."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        encoded = request_id.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                headers.append((HEADER, encoded))
                message["headers"] = headers
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
