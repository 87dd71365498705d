"""Routing and calling: order a group's deployments, try them with retries, fallbacks and breakers.

The request use case (:mod:`routeiq_core.calls`) hands the gateway a call's context once access,
quota and plugins have had their say.
"""

from routeiq_core.context import RouteDecision
from routeiq_core.gateway.attempts import BeforeCall
from routeiq_core.gateway.service import Gateway
from routeiq_core.gateway.types import GatewayResponse, GatewayStream, estimate_prompt_tokens

__all__ = [
    "BeforeCall",
    "Gateway",
    "GatewayResponse",
    "GatewayStream",
    "RouteDecision",
    "estimate_prompt_tokens",
]
