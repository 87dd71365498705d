"""The HTTP transport of guardrails that speak an HTTP API (Bedrock): the port and its aiohttp adapter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import aiohttp
import msgspec

from routeiq_core.errors import RouteIQError


class HttpTransportError(RouteIQError):
    """An HTTP transport could not complete a call (connection refused, timeout, broken response)."""

    status_code = 502
    default_code = "http_transport_error"


class HttpResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A complete HTTP response: status and body."""

    status: int
    body: bytes


class HttpTransport(Protocol):
    """Sends one HTTP request and reads the whole answer.

    Implementations raise :class:`HttpTransportError` when no response
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


_MAX_BODY = 8 * 1024 * 1024


class AiohttpHttpTransport:
    """POSTs over a pooled ``aiohttp`` session, every exchange bounded by its ``timeout_s``.

    Sends exactly the headers given (no ``Content-Type`` or ``Host`` rewriting that would break a
    signature). The session is created on first use, in the running event loop.

    Args:
        max_connections: Size of the connection pool.
        session: A session to use instead (not closed by :meth:`aclose`).
    """

    def __init__(self, *, max_connections: int = 32, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owns_session = session is None
        self._max_connections = max_connections

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                skip_auto_headers=("User-Agent", "Content-Type"),
            )
        return self._session

    async def post(
        self, url: str, *, headers: Mapping[str, str], body: bytes, timeout_s: float
    ) -> HttpResponse:
        """POST ``body``; any status is returned, only a failed exchange raises.

        Raises:
            HttpTransportError: Connection failure, timeout, or a body over 8 MiB.
        """
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        try:
            async with self._client().post(
                url, data=body, headers=dict(headers), timeout=timeout
            ) as response:
                data = await response.content.read(_MAX_BODY + 1)
                if len(data) > _MAX_BODY:
                    raise HttpTransportError(
                        f"POST {response.url.host}: response body over {_MAX_BODY} bytes"
                    )
                return HttpResponse(status=response.status, body=data)
        except TimeoutError as exc:
            raise HttpTransportError(f"POST to {_host(url)} timed out after {timeout_s:g}s") from exc
        except aiohttp.ClientError as exc:
            raise HttpTransportError(f"POST to {_host(url)} failed: {exc}") from exc

    async def aclose(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]
