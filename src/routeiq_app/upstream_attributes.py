"""A deployment's telemetry attributes: the GenAI provider name and the upstream server it calls.

``gen_ai.provider.name`` uses the GenAI conventions' well-known values where one applies (LiteLLM's
``bedrock/`` is ``aws.bedrock``, ``azure/`` is ``azure.ai.openai``, ...); an OpenAI-compatible
deployment is ``openai`` (the API it speaks), the mock ``routeiq.mock``. ``server.address`` and
``server.port`` come from ``api_base`` (or the OpenAI API's own for the native client without one).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

from routeiq_adapters.providers.openai_http import DEFAULT_API_BASE
from routeiq_core import metric_names as names

LITELLM_PROVIDERS: Mapping[str, str] = MappingProxyType(
    {
        "anthropic": "anthropic",
        "azure": "azure.ai.openai",
        "azure_ai": "azure.ai.inference",
        "bedrock": "aws.bedrock",
        "cohere": "cohere",
        "cohere_chat": "cohere",
        "deepseek": "deepseek",
        "gemini": "gcp.gemini",
        "vertex_ai": "gcp.vertex_ai",
        "groq": "groq",
        "watsonx": "ibm.watsonx.ai",
        "mistral": "mistral_ai",
        "openai": "openai",
        "perplexity": "perplexity",
        "xai": "x_ai",
    }
)
"""LiteLLM's provider prefixes by their GenAI convention names (others keep LiteLLM's name)."""


def upstream_attributes(adapter: str, model: str, api_base: str | None) -> dict[str, str]:
    """The telemetry attributes of a deployment (``model``: its ``litellm_params.model``)."""
    if adapter == "mock":
        return {names.PROVIDER_NAME: "routeiq.mock"}
    if adapter == "litellm":
        prefix = model.partition("/")[0] if "/" in model else "openai"
        attributes = {names.PROVIDER_NAME: LITELLM_PROVIDERS.get(prefix, prefix)}
    else:
        attributes = {names.PROVIDER_NAME: "openai"}
        api_base = api_base or DEFAULT_API_BASE
    try:
        parts = urlsplit(api_base or "")
        host, port = parts.hostname, parts.port
    except ValueError:  # an unparsable api_base: the attributes just leave the server out
        return attributes
    if host:
        attributes[names.SERVER_ADDRESS] = host
        attributes[names.SERVER_PORT] = str(port or (443 if parts.scheme == "https" else 80))
    return attributes
