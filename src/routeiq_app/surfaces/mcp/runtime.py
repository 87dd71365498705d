"""The MCP gateway of one worker, filled in when the app starts (upstream connections need the loop)."""

from __future__ import annotations

from collections.abc import Mapping

from routeiq_app.surfaces.mcp.dispatch import Dispatcher
from routeiq_core.mcp import GuardedUpstream


class McpRuntime:
    """Holds the worker's MCP dispatcher and upstreams once the lifespan opened them (None before)."""

    def __init__(self) -> None:
        self.dispatcher: Dispatcher | None = None

    @property
    def upstreams(self) -> Mapping[str, GuardedUpstream]:
        """The upstreams by slug (empty until started)."""
        return {} if self.dispatcher is None else self.dispatcher.service.upstreams
