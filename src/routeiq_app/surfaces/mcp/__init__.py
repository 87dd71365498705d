"""The MCP surface: ``/mcp`` over Streamable HTTP, both protocol eras (see :mod:`.endpoint`)."""

from routeiq_app.surfaces.mcp.dispatch import Dispatcher
from routeiq_app.surfaces.mcp.endpoint import McpEndpoint

MCP_PATH = "/mcp"

__all__ = ["MCP_PATH", "Dispatcher", "McpEndpoint"]
