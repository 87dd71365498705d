"""Native forwarding: a client's own protocol sent as is to a deployment that speaks it.

A surface whose protocol is not the canonical chat one (Anthropic Messages, the Responses API)
hands the use case both shapes of a request: the canonical chat payload (every deployment can take
it, translated) and the client's own body (:class:`NativeRequest`, opaque here). Routing picks the
deployment after that, so the choice is made per attempt: when the chosen deployment declares the
client's protocol (:attr:`~routeiq_core.catalog.Deployment.native`), the gateway forwards the
client's body through that protocol's :class:`~routeiq_core.forwarders.NativeForwarder`, and the
answer is already in the client's protocol (:attr:`~routeiq_core.context.CallContext.served_natively`
says so); otherwise it sends the chat payload and the surface translates the answer back. A
fallback may cross kinds.

Calls with plugins enabled are always translated: plugins (guardrails, caches) read and rewrite the
canonical shape, and a native body would bypass them.

The core knows the protocols by name only; their wire formats are the forwarders' and surfaces'.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["NativeProtocol", "NativeRequest"]


class NativeProtocol(enum.StrEnum):
    """The client protocols a deployment may speak natively besides chat completions."""

    MESSAGES = "messages"
    """Anthropic's Messages API."""
    RESPONSES = "responses"
    """OpenAI's Responses API."""


class NativeRequest(msgspec.Struct, kw_only=True):
    """The client's own request body, for a deployment that speaks its protocol.

    Attributes:
        protocol: The protocol the body is in.
        body: The client's JSON object as decoded (fields the gateway does not model included);
            ``model`` is replaced by the deployment's upstream model when forwarded.
        continued_on: The deployment that holds the conversation's previous turn upstream (a
            Responses ``previous_response_id`` it can resolve itself); None: none does.
        continuation: The body to forward to ``continued_on`` instead of ``body`` (one naming the
            previous turn rather than repeating it).
        headers: The client's protocol headers the upstream should see too (the surface chose
            them: Anthropic's ``anthropic-version`` and ``anthropic-beta``, say).
    """

    protocol: NativeProtocol
    body: dict[str, Any]
    continued_on: str | None = None
    continuation: dict[str, Any] | None = None
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)

    def body_for(self, deployment_id: str, upstream_model: str) -> dict[str, Any]:
        """The body to forward to the deployment ``deployment_id``, naming its ``upstream_model``."""
        if self.continuation is not None and deployment_id == self.continued_on:
            return {**self.continuation, "model": upstream_model}
        return {**self.body, "model": upstream_model}
