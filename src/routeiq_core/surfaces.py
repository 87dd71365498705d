"""The protocols calls arrive in, by name: policy rules match them, the call's context records them."""

LIBRARY_SURFACE = "library"
"""The surface of a call made from Python (no wire protocol in between)."""

OPENAI_SURFACE = "openai"
"""The OpenAI API (chat completions, completions, embeddings)."""

ANTHROPIC_SURFACE = "anthropic"
"""Anthropic's Messages API (messages, token counting), translated to chat."""

RESPONSES_SURFACE = "responses"
"""OpenAI's Responses API, translated to chat."""

MCP_SURFACE = "mcp"
"""The Model Context Protocol gateway (``/mcp``): tool calls to upstream MCP servers."""

SURFACES = frozenset({OPENAI_SURFACE, ANTHROPIC_SURFACE, RESPONSES_SURFACE, LIBRARY_SURFACE, MCP_SURFACE})
"""Every surface RouteIQ serves; a policy rule naming another is a configuration error."""
