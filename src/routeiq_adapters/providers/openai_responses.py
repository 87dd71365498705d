"""Native Responses API forwarding over aiohttp: ``POST {api_base}/responses`` as the client wrote it.

The :class:`~routeiq_core.forwarders.NativeForwarder` of the Responses protocol, for deployments
whose upstream serves the Responses API (the OpenAI API itself, and servers that declare it with
``model_info.supports_responses``). Credentials as for chat: ``Authorization: Bearer`` and the
deployment's configured headers (``organization``, ``extra_headers``).
"""

from __future__ import annotations

import msgspec

from routeiq_adapters.providers.native_http import NativeHttpForwarder, event_data
from routeiq_adapters.providers.openai_http import DEFAULT_API_BASE
from routeiq_core.catalog import Deployment
from routeiq_core.providers import Usage

_FINAL_EVENTS = (b"response.completed", b"response.incomplete", b"response.failed")


class _ResponseUsage(msgspec.Struct):
    input_tokens: int = 0
    output_tokens: int = 0

    def as_usage(self) -> Usage:
        total = self.input_tokens + self.output_tokens
        return Usage(
            prompt_tokens=self.input_tokens, completion_tokens=self.output_tokens, total_tokens=total
        )


class _WithUsage(msgspec.Struct):
    usage: _ResponseUsage | None = None


class _FinalEvent(msgspec.Struct):
    """``response.completed`` (and ``.incomplete``, ``.failed``): the whole response, its usage in it."""

    response: _WithUsage | None = None


_ANSWER = msgspec.json.Decoder(_WithUsage)
_EVENT = msgspec.json.Decoder(_FinalEvent)


class OpenAIResponsesForwarder(NativeHttpForwarder):
    """The ``responses`` forwarder: ``{api_base}/responses`` (the OpenAI API's by default)."""

    def url(self, deployment: Deployment) -> str:
        """``{api_base}/responses``."""
        return (deployment.api_base or DEFAULT_API_BASE).rstrip("/") + "/responses"

    def auth_headers(self, deployment: Deployment) -> dict[str, str]:
        """``Authorization: Bearer`` (when the deployment has a key)."""
        return {"Authorization": f"Bearer {deployment.api_key}"} if deployment.api_key else {}

    def answer_usage(self, body: bytes) -> Usage | None:
        """The response's ``usage``."""
        try:
            found = _ANSWER.decode(body).usage
        except msgspec.ValidationError:
            return None  # an unusual usage shape: relay it, count nothing
        return found.as_usage() if found is not None else None

    def stream_usage(self, chunk: bytes) -> Usage | None:
        """The usage of the final event (``response.completed``, ``.incomplete`` or ``.failed``)."""
        if not any(name in chunk for name in _FINAL_EVENTS):
            return None
        usage = None
        for event in chunk.split(b"\n\n"):
            if b'"usage"' in event and any(name in event for name in _FINAL_EVENTS):
                try:
                    found = _EVENT.decode(event_data(event)).response
                except msgspec.DecodeError:
                    continue
                if found is not None and found.usage is not None:
                    usage = found.usage.as_usage()
        return usage
