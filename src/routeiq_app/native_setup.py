"""Which client protocols a deployment speaks natively, and the forwarders that reach them.

A deployment speaks Anthropic Messages natively when its model is ``anthropic/...`` (or it sets
``model_info.supports_messages: true``), and the Responses API when it is an ``openai/...``
deployment of the OpenAI API itself (no ``api_base``) or sets ``model_info.supports_responses:
true``; either flag set to false turns the default off. Calls in a protocol a deployment speaks are
forwarded as they are; every other deployment gets them translated to chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from routeiq_adapters.providers.anthropic_http import AnthropicForwarder
from routeiq_adapters.providers.openai_responses import OpenAIResponsesForwarder
from routeiq_app.settings.deployments import DeploymentSettings
from routeiq_core.forwarders import NativeForwarder
from routeiq_core.native import NativeProtocol

_NO_NATIVE: frozenset[NativeProtocol] = frozenset()


def native_protocols(
    entry: DeploymentSettings, adapter: str, at: str, problems: list[str]
) -> frozenset[NativeProtocol]:
    """The protocols ``entry`` (reached through ``adapter``) speaks natively; problems are appended."""
    info, params = entry.model_info, entry.litellm_params
    if adapter == "mock":
        for name in ("supports_messages", "supports_responses"):
            if getattr(info, name):
                problems.append(f"{at}.{name}: a mock deployment forwards nothing (its calls are translated)")
        return _NO_NATIVE
    native: set[NativeProtocol] = set()
    messages = info.supports_messages
    if messages or (messages is None and params.model.startswith("anthropic/")):
        native.add(NativeProtocol.MESSAGES)
    responses = info.supports_responses
    if responses and adapter != "openai":
        problems.append(
            f"{at}.supports_responses: only `openai/...` deployments forward Responses calls natively "
            f"(this one uses the {adapter!r} adapter; its Responses calls are translated to chat)"
        )
    elif responses or (responses is None and adapter == "openai" and params.api_base is None):
        native.add(NativeProtocol.RESPONSES)
    return frozenset(native) if native else _NO_NATIVE


def native_forwarders() -> dict[NativeProtocol, NativeForwarder]:
    """One forwarder per native protocol (their pools open on first use)."""
    return {
        NativeProtocol.MESSAGES: AnthropicForwarder(),
        NativeProtocol.RESPONSES: OpenAIResponsesForwarder(),
    }


async def close_forwarders(forwarders: Mapping[NativeProtocol, NativeForwarder]) -> AsyncIterator[None]:
    """Container Resource: close the forwarders' pools at shutdown."""
    try:
        yield
    finally:
        for forwarder in forwarders.values():
            await forwarder.aclose()
