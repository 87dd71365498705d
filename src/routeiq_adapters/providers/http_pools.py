"""What the HTTP provider adapters share: keep-alive pools, and what a failed exchange becomes.

One aiohttp pool per upstream base URL; :func:`transport_error` names the deployment and what to check.
"""

from __future__ import annotations

import aiohttp

from routeiq_adapters.providers.http_errors import error_from_event, error_from_status
from routeiq_core.errors import UpstreamError, UpstreamTimeoutError


class HttpPools:
    """Keep-alive connection pools, one per base URL, opened inside the event loop on first use.

    Args:
        pool_size: Most connections open at once to one base URL (further calls wait for one).
        dns_cache_ttl_s: How long a resolved upstream address is reused.
        keepalive_s: How long an idle pooled connection stays open.
    """

    __slots__ = ("_dns_cache_ttl_s", "_keepalive_s", "_pool_size", "_sessions")

    def __init__(self, *, pool_size: int, dns_cache_ttl_s: int, keepalive_s: float) -> None:
        self._pool_size = pool_size
        self._dns_cache_ttl_s = dns_cache_ttl_s
        self._keepalive_s = keepalive_s
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    def session(self, base: str) -> aiohttp.ClientSession:
        """The pool of ``base`` (opened now if it is not open)."""
        session = self._sessions.get(base)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size,
                ttl_dns_cache=self._dns_cache_ttl_s,
                keepalive_timeout=self._keepalive_s,
            )
            session = self._sessions[base] = aiohttp.ClientSession(connector=connector)
        return session

    async def aclose(self) -> None:
        """Close every pool."""
        sessions = tuple(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            await session.close()


def transport_error(
    exc: BaseException, deployment_id: str, base: str, timeout_s: float, *, streaming: bool = False
) -> UpstreamError:
    """The upstream error a failed exchange with ``base`` (a deployment's endpoint) becomes."""
    if isinstance(exc, TimeoutError):
        return UpstreamTimeoutError(
            f"Deployment {deployment_id!r} did not answer within {timeout_s:g}s", deployment_id=deployment_id
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamError(
            f"Cannot connect to deployment {deployment_id!r} at {base}: {exc.os_error}. "
            "Check its api_base and that the upstream is running.",
            status_code=502,
            retryable=True,
            deployment_id=deployment_id,
            code="upstream_unreachable",
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return UpstreamError(
            f"Deployment {deployment_id!r} has an invalid api_base {base!r}; fix its configuration.",
            status_code=502,
            deployment_id=deployment_id,
        )
    what = "stream broke before it ended" if streaming else "connection failed"
    return UpstreamError(
        f"Deployment {deployment_id!r}: the {what} ({type(exc).__name__}: {exc}).",
        status_code=502,
        retryable=True,
        deployment_id=deployment_id,
    )


async def raise_unless_event_stream(response: aiohttp.ClientResponse, deployment_id: str) -> None:
    """Raise what a streaming request's answer says when it is an error or not an event stream."""
    if not 200 <= response.status < 300:
        raise error_from_status(response.status, await response.read(), response.headers, deployment_id)
    if response.content_type == "application/json":
        body = await response.read()
        raise error_from_event(body, deployment_id) or UpstreamError(
            f"Deployment {deployment_id!r} answered a streaming request with plain JSON; "
            "check that its upstream supports streaming.",
            status_code=502,
            deployment_id=deployment_id,
        )
