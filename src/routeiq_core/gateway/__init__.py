"""The gateway use case and its request/response values."""

from routeiq_core.gateway.service import Gateway
from routeiq_core.gateway.types import (
    GatewayRequest,
    GatewayResponse,
    GatewayStream,
    RouteDecision,
    estimate_prompt_tokens,
)

__all__ = [
    "Gateway",
    "GatewayRequest",
    "GatewayResponse",
    "GatewayStream",
    "RouteDecision",
    "estimate_prompt_tokens",
]
