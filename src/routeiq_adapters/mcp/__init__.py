"""MCP upstream adapters: the :class:`~routeiq_core.mcp.McpUpstream` port over Streamable HTTP and stdio."""

from routeiq_adapters.mcp.http_upstream import HttpMcpUpstream
from routeiq_adapters.mcp.stdio_upstream import StdioMcpUpstream

__all__ = ["HttpMcpUpstream", "StdioMcpUpstream"]
