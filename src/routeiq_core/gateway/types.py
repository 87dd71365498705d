"""Values passed in and out of the gateway use case."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.providers import Operation, Usage


class GatewayRequest(msgspec.Struct, kw_only=True):
    """One client call, decoded once by the delivery layer.

    ``payload`` is the client's JSON object; fields the gateway does not model pass through.
    """

    operation: Operation
    model: str
    payload: dict[str, Any]
    stream: bool = False
    client_wants_usage: bool = False
    estimated_prompt_tokens: int = 0
    request_id: str | None = None
    tags: tuple[str, ...] = ()
    conversation_id: str | None = None
    user: str | None = None
    key_id: str | None = None
    before_call: Callable[[Deployment], Awaitable[None]] | None = None


class RouteDecision(msgspec.Struct, kw_only=True):
    """Where a request went and how many attempts it took (also sent as ``x-routeiq-*`` headers)."""

    model_group: str
    deployment_id: str
    strategy: str
    attempts: int


class GatewayResponse(msgspec.Struct, kw_only=True):
    """A complete answer in OpenAI JSON, passed to the client as is."""

    body: bytes
    route: RouteDecision
    usage: Usage | None = None


class GatewayStream(msgspec.Struct, kw_only=True):
    """An answer that streams: SSE frames, ending in ``[DONE]`` or, after a failure, an error frame.

    ``aclose`` must be awaited when the caller is done (also if it never iterated): it closes the
    upstream stream and releases the deployment's in-flight slot, once.
    """

    route: RouteDecision
    frames: AsyncIterator[bytes]
    aclose: Callable[[], Awaitable[None]]
    usage: Usage | None = None


def estimate_prompt_tokens(operation: Operation, payload: dict[str, Any]) -> int:
    """A cheap upper-ish estimate (about 4 characters a token) for context-window checks."""
    if operation is Operation.CHAT:
        messages = payload.get("messages")
        if not isinstance(messages, list):
            return 0
        return sum(4 + _chars(m.get("content")) // 4 for m in messages if isinstance(m, dict))
    key = "prompt" if operation is Operation.COMPLETIONS else "input"
    return _chars(payload.get(key)) // 4


def _chars(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_chars(v) for v in value)
    if isinstance(value, dict):
        return _chars(value.get("text"))
    return 0
