"""``/admin/mcp/servers``: each upstream MCP server as this worker sees it (``mcp.servers.read``)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import get
from litestar.di import NamedDependency

from routeiq_app.surfaces.mcp.runtime import McpRuntime
from routeiq_core.access import Principal, require


class McpServerState(msgspec.Struct, kw_only=True):
    """One upstream: its transport state, era, last error, breaker and cached tool count."""

    name: str
    transport: Literal["http", "stdio"]
    state: str
    era: str | None
    last_error: str | None
    restarts: int
    breaker: str
    tools: int | None
    """Tools it lists (None: it could not list them just now)."""


class McpServers(msgspec.Struct, kw_only=True):
    """Every configured upstream MCP server, in config order."""

    servers: list[McpServerState]


@get("/admin/mcp/servers", summary="Upstream MCP servers and their state", tags=["admin"])
async def mcp_servers(principal: NamedDependency[Principal], mcp_runtime: NamedDependency[Any]) -> McpServers:
    """State, era, last error, restarts, breaker and tool count of each upstream (this worker's view).

    Tool counts come from this worker's cache, or a fresh fail-open list (bounded by
    ``mcp.list_timeout_s``).
    """
    require(principal, "mcp.servers.read")
    runtime: McpRuntime = mcp_runtime
    dispatcher = runtime.dispatcher
    counts: dict[str, int] = {}
    if dispatcher is not None:
        listing = await dispatcher.service.catalog.list("tools")
        ok = {outcome.server for outcome in listing.outcomes if outcome.ok}
        counts = {name: 0 for name in ok}
        for server, _ in listing.items:
            counts[server] += 1
    servers = []
    for name, guarded in runtime.upstreams.items():
        status = guarded.upstream.status()
        servers.append(
            McpServerState(
                name=name,
                transport=status.transport,
                state=status.state,
                era=status.era,
                last_error=status.last_error,
                restarts=status.restarts,
                breaker=str(guarded.breaker.state),
                tools=counts.get(name),
            )
        )
    return McpServers(servers=servers)


mcp_routes = (mcp_servers,)
