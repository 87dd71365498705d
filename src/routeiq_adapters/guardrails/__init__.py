"""Guardrails that speak a vendor's HTTP API: AWS Bedrock ``ApplyGuardrail`` (SigV4), over aiohttp."""

from routeiq_adapters.guardrails.bedrock import (
    BedrockGuardrail,
    BedrockGuardrailConfig,
    BedrockResult,
    assessment_categories,
    parse_apply_response,
)
from routeiq_adapters.guardrails.http_transport import (
    AiohttpHttpTransport,
    HttpResponse,
    HttpTransport,
    HttpTransportError,
)
from routeiq_adapters.guardrails.sigv4 import sigv4_headers

__all__ = [
    "AiohttpHttpTransport",
    "BedrockGuardrail",
    "BedrockGuardrailConfig",
    "BedrockResult",
    "HttpResponse",
    "HttpTransport",
    "HttpTransportError",
    "assessment_categories",
    "parse_apply_response",
    "sigv4_headers",
]
