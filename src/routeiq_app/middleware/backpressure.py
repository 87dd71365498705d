"""Load shedding: beyond the concurrency limit a request gets 503 and never reaches a provider."""

from __future__ import annotations

import logging

from routeiq_app.asgi_io import send_json
from routeiq_app.asgi_types import ASGIApp, Receive, Scope, Send
from routeiq_app.errors import error_body
from routeiq_core.resilience import ConcurrencyLimiter

logger = logging.getLogger("routeiq.backpressure")
EXEMPT_PREFIXES = ("/health/",)


class BackpressureMiddleware:
    """Admits at most ``limiter.limit`` HTTP requests at once; a slot is held until the response ends."""

    def __init__(self, app: ASGIApp, limiter: ConcurrencyLimiter, retry_after_s: int) -> None:
        self.app = app
        self.limiter = limiter
        self._retry_after = str(retry_after_s).encode()
        self._body = error_body(
            "The gateway is at its concurrency limit; retry after the Retry-After delay.",
            "service_unavailable_error",
            code="overloaded",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Shed or pass through."""
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        if not self.limiter.try_acquire():
            logger.warning(
                "shed request: %d in flight (limit %d), %d shed so far",
                self.limiter.in_flight,
                self.limiter.limit,
                self.limiter.shed,
            )
            await self._shed(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.limiter.release()

    async def _shed(self, send: Send) -> None:
        await send_json(send, 503, self._body, ((b"retry-after", self._retry_after),))
