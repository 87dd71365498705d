"""Values passed in and out of the gateway use case."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec

from routeiq_core.context import RouteDecision
from routeiq_core.providers import Operation, Usage


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
    events: int = 0
    """How many SSE events were relayed so far (a cut stream's usage is estimated from it)."""


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
    """Characters of text in a content value: strings, lists of parts, ``{"text": ...}`` parts.

    Iterative, so any nesting depth a JSON body can carry is counted without recursion.
    """
    if isinstance(value, str):  # the common case: plain text content
        return len(value)
    total = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.append(item.get("text"))
    return total
