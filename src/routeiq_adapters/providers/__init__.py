"""Provider adapters: one module per technology.

``LiteLLMProvider`` imports litellm only when constructed, so importing this package stays cheap.
"""

from routeiq_adapters.providers.litellm import LiteLLMProvider
from routeiq_adapters.providers.mock import MockBehaviour, MockProvider
from routeiq_adapters.providers.openai_http import OpenAICompatibleProvider

__all__ = ["LiteLLMProvider", "MockBehaviour", "MockProvider", "OpenAICompatibleProvider"]
