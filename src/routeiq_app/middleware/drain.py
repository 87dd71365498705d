"""Connection hand-over and refusal while a worker is being replaced or shut down."""

from __future__ import annotations

from routeiq_app.asgi_io import send_json
from routeiq_app.asgi_types import ASGIApp, Message, Receive, Scope, Send
from routeiq_app.errors import error_body
from routeiq_core.health import Lifecycle, Phase

EXEMPT_PREFIXES = ("/health/",)


class DrainMiddleware:
    """Hands connections over on a reload and refuses new requests on shutdown.

    Retiring: every response says ``Connection: close`` so keep-alive clients reconnect to a new
    worker. Draining: new requests get 503 + ``Retry-After`` (health routes excepted) while requests
    already inside finish.
    """

    def __init__(self, app: ASGIApp, lifecycle: Lifecycle, retry_after_s: int) -> None:
        self.app = app
        self.lifecycle = lifecycle
        self._retry_after = str(retry_after_s).encode()
        self._body = error_body(
            "The gateway is shutting down; retry after the Retry-After delay (another instance will answer).",
            "service_unavailable_error",
            code="shutting_down",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass through while ready; hand over or refuse otherwise."""
        phase = self.lifecycle.phase
        if scope["type"] != "http" or phase is Phase.READY or phase is Phase.STARTING:
            await self.app(scope, receive, send)
            return
        if phase is Phase.DRAINING and not scope["path"].startswith(EXEMPT_PREFIXES):
            headers = ((b"retry-after", self._retry_after), (b"connection", b"close"))
            await send_json(send, 503, self._body, headers)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"connection", b"close")]
            await send(message)

        await self.app(scope, receive, send_closing)
