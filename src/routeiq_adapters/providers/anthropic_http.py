"""Native Anthropic Messages forwarding over aiohttp: ``POST {api_base}/v1/messages`` as the client wrote it.

The :class:`~routeiq_core.forwarders.NativeForwarder` of the Messages protocol. Deployments whose
upstream speaks Messages (``anthropic/...``, or any that sets ``model_info.supports_messages``) get
``/v1/messages`` calls forwarded here, byte for byte both ways; their chat completions still go
through their provider adapter (LiteLLM for ``anthropic/...``), so this forwarder serves nothing
but Messages. Credentials go as ``x-api-key``; ``anthropic-version`` is the client's (forwarded by
the surface with ``anthropic-beta``), else :data:`ANTHROPIC_VERSION`.
"""

from __future__ import annotations

import msgspec

from routeiq_adapters.providers.native_http import NativeHttpForwarder, event_data
from routeiq_core.catalog import Deployment
from routeiq_core.forwarders import merge_usage
from routeiq_core.providers import Usage

DEFAULT_API_BASE = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
"""The API version sent when the client named none."""
_PREFIX = "anthropic/"


class _MessagesUsage(msgspec.Struct):
    """Anthropic's usage: ``input_tokens`` excludes what was written to or read from the prompt cache."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None

    def as_usage(self) -> Usage:
        prompt = (
            self.input_tokens + (self.cache_creation_input_tokens or 0) + (self.cache_read_input_tokens or 0)
        )
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=self.output_tokens,
            total_tokens=prompt + self.output_tokens,
        )


class _WithUsage(msgspec.Struct):
    usage: _MessagesUsage | None = None


class _Event(msgspec.Struct):
    """A stream event: ``message_start`` carries the message (its usage), ``message_delta`` the usage."""

    type: str = ""
    message: _WithUsage | None = None
    usage: _MessagesUsage | None = None


_ANSWER = msgspec.json.Decoder(_WithUsage)
_EVENT = msgspec.json.Decoder(_Event)


class AnthropicForwarder(NativeHttpForwarder):
    """The ``messages`` forwarder: Anthropic's API, or any server speaking it at ``api_base``.

    ``api_base`` may end in ``/v1`` or not (``https://api.anthropic.com`` and
    ``https://api.anthropic.com/v1`` both call ``.../v1/messages``).
    """

    def url(self, deployment: Deployment) -> str:
        """``{api_base}/v1/messages``."""
        base = (deployment.api_base or DEFAULT_API_BASE).rstrip("/")
        return base + ("/messages" if base.endswith("/v1") else "/v1/messages")

    def auth_headers(self, deployment: Deployment) -> dict[str, str]:
        """``anthropic-version`` (the client's replaces it) and ``x-api-key`` (when there is a key)."""
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if deployment.api_key:
            headers["x-api-key"] = deployment.api_key
        return headers

    def upstream_model(self, deployment: Deployment) -> str:
        """The model without LiteLLM's ``anthropic/`` prefix (such deployments keep it for LiteLLM)."""
        return deployment.upstream_model.removeprefix(_PREFIX)

    def answer_usage(self, body: bytes) -> Usage | None:
        """A message's ``usage`` (prompt tokens include the cached ones)."""
        found = _decode(_ANSWER, body).usage
        return found.as_usage() if found is not None else None

    def stream_usage(self, chunk: bytes) -> Usage | None:
        """``message_start``'s input tokens and ``message_delta``'s (cumulative) output tokens."""
        usage: Usage | None = None
        for event in chunk.split(b"\n\n"):
            if b'"usage"' not in event:
                continue
            try:
                decoded = _EVENT.decode(event_data(event))
            except msgspec.DecodeError:
                continue
            found = decoded.message.usage if decoded.message is not None else decoded.usage
            if found is None:
                continue
            usage = merge_usage(usage, found.as_usage())
        return usage


def _decode(decoder: msgspec.json.Decoder[_WithUsage], body: bytes) -> _WithUsage:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError:
        return _WithUsage()  # JSON with an unusual usage shape: relay it, count nothing
