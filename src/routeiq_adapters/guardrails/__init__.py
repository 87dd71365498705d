"""Guardrail adapters: the HTTP transport used by the Bedrock Guardrails client."""

from routeiq_adapters.guardrails.bedrock_http import AiohttpHttpTransport

__all__ = ["AiohttpHttpTransport"]
