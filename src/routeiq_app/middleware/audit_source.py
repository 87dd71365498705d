"""Around the admin routes: the client address the audit events of a request carry."""

from __future__ import annotations

from routeiq_app.asgi_types import ASGIApp, Receive, Scope, Send
from routeiq_app.surfaces.http import HttpRequestReader
from routeiq_core.audit import acting_from


class AuditSourceMiddleware:
    """Makes the client's address (trusted proxies honoured) the source of the audit events it causes.

    It wraps the routes Litestar serves (admin, LiteLLM management, health), not the call paths,
    which record nothing per request. A ContextVar carries the address, so handlers and the services
    they call need no extra argument.
    """

    def __init__(self, app: ASGIApp, reader: HttpRequestReader) -> None:
        self.app = app
        self._reader = reader

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its client address as the audit source."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with acting_from(self._reader.credentials(scope).client_address):
            await self.app(scope, receive, send)
