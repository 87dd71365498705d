"""The HTTP transport port: how core guardrails reach an HTTP API without an HTTP library."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import msgspec


class HttpResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A complete HTTP response: status and body."""

    status: int
    body: bytes


class HttpTransport(Protocol):
    """Sends one HTTP request and reads the whole answer.

    Adapters raise :class:`routeiq_core.guardrails.errors.HttpTransportError` when no response
    arrives (connection refused, timeout, broken stream); any HTTP status is a response.
    """

    async def post(
        self, url: str, *, headers: Mapping[str, str], body: bytes, timeout_s: float
    ) -> HttpResponse:
        """POST ``body`` to ``url`` with exactly ``headers``; the whole exchange bounded by ``timeout_s``."""
        ...

    async def aclose(self) -> None:
        """Release pooled connections."""
        ...
