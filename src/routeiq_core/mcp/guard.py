"""One upstream behind its circuit breaker and concurrency limit: how every request reaches it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio

from routeiq_core.errors import UpstreamError
from routeiq_core.mcp.upstream import (
    McpUpstream,
    OnUpstreamMessage,
    UpstreamCall,
    UpstreamReply,
    UpstreamSession,
)
from routeiq_core.resilience import CircuitBreaker

__all__ = ["GuardedUpstream"]


class GuardedUpstream:
    """Wraps an :class:`McpUpstream`: refuses while its breaker is open, bounds requests in flight.

    A transport failure (:class:`UpstreamError`: unreachable, not JSON-RPC, timed out) counts against
    the breaker; a JSON-RPC error the upstream answered with does not (the upstream is up).

    Args:
        upstream: The upstream.
        breaker: Its circuit breaker.
        max_concurrency: Requests sent to it at once by this worker; others wait their turn.
    """

    def __init__(self, upstream: McpUpstream, breaker: CircuitBreaker, max_concurrency: int) -> None:
        self.upstream = upstream
        self._breaker = breaker
        self._limit = anyio.CapacityLimiter(max_concurrency)

    @property
    def name(self) -> str:
        """The upstream's slug."""
        return self.upstream.name

    @property
    def breaker(self) -> CircuitBreaker:
        """The upstream's breaker (``/admin/mcp/servers`` shows its state)."""
        return self._breaker

    def _admit(self) -> None:
        if not self._breaker.allow():
            wait = self._breaker.retry_after_s()
            raise UpstreamError(
                f"The MCP server {self.name!r} is failing; retry in {wait:.0f} s.",
                status_code=503,
                retryable=True,
                retry_after_s=wait,
                deployment_id=self.name,
            )

    async def request(self, call: UpstreamCall, on_message: OnUpstreamMessage | None = None) -> UpstreamReply:
        """Send ``call`` upstream (see :meth:`McpUpstream.request`)."""
        self._admit()
        async with self._limit:
            try:
                reply = await self.upstream.request(call, on_message)
            except UpstreamError:
                self._breaker.record_failure()
                raise
            except BaseException:
                self._breaker.release_probe()
                raise
        self._breaker.record_success()
        return reply

    async def open_session(
        self, *, client_info: Mapping[str, Any], capabilities: Mapping[str, Any]
    ) -> UpstreamSession:
        """Open an upstream session (see :meth:`McpUpstream.open_session`)."""
        self._admit()
        async with self._limit:
            try:
                opened = await self.upstream.open_session(client_info=client_info, capabilities=capabilities)
            except UpstreamError:
                self._breaker.record_failure()
                raise
            except BaseException:
                self._breaker.release_probe()
                raise
        self._breaker.record_success()
        return opened
