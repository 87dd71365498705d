"""The Anthropic Messages API surface: messages (JSON and SSE) and token counts, translated to chat."""

from routeiq_app.surfaces.anthropic.calls import COUNT_TOKENS_PATH, MESSAGES_PATH, anthropic_routes
from routeiq_app.surfaces.anthropic.spec import anthropic_descriptions

__all__ = ["COUNT_TOKENS_PATH", "MESSAGES_PATH", "anthropic_descriptions", "anthropic_routes"]
