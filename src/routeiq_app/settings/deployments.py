"""Deployment settings: one ``model_list`` entry (LiteLLM's shape): its params and model info."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from routeiq_adapters.providers.mock import MockBehaviour
from routeiq_app.settings.base import (
    DeploymentMode,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    _Section,
)
from routeiq_app.settings.media import MediaPriceSettings


class LiteLLMParams(_Section, frozen=True):
    """How to reach one deployment (LiteLLM's `litellm_params` shape).

    Keys not listed here are kept and passed to LiteLLM (provider-specific parameters such as
    `api_version` or `aws_region_name`); they are an error for `openai` and `mock` deployments.
    """

    __collect_unknown__: ClassVar[str] = "extra"

    model: Annotated[
        str,
        Meta(
            description="`<provider>/<upstream model>`: `mock/...` (built-in mock), `openai/...` (native "
            "OpenAI-compatible client; also for vLLM, Ollama, Groq, Together with `api_base`), "
            "anything else goes through LiteLLM."
        ),
    ]
    adapter: Annotated[
        Literal["auto", "openai", "litellm", "mock"],
        Meta(description="Force an adapter instead of choosing by the `model` prefix."),
    ] = "auto"
    api_base: Annotated[
        str | None, Meta(description="Upstream base URL, e.g. `http://127.0.0.1:8000/v1`.")
    ] = None
    api_key: Annotated[str | None, Meta(description="Upstream API key; write `os.environ/NAME`.")] = None
    timeout: Annotated[
        PositiveFloat | None,
        Meta(description="Seconds one call may take (streams: to the first and between chunks)."),
    ] = None
    weight: Annotated[NonNegativeFloat, Meta(description="Share of traffic in the weighted shuffle.")] = 1.0
    rpm: Annotated[PositiveInt | None, Meta(description="Requests per minute this deployment allows.")] = None
    tpm: Annotated[PositiveInt | None, Meta(description="Tokens per minute this deployment allows.")] = None
    tags: Annotated[list[str], Meta(description="Tags for tag-based routing.")] = msgspec.field(
        default_factory=list
    )
    input_cost_per_token: Annotated[
        NonNegativeFloat | None, Meta(description="LiteLLM-style input price per token.")
    ] = None
    output_cost_per_token: Annotated[
        NonNegativeFloat | None, Meta(description="LiteLLM-style output price per token.")
    ] = None
    mock: Annotated[MockBehaviour, Meta(description="Behaviour of a `mock/...` deployment.")] = msgspec.field(
        default_factory=MockBehaviour
    )
    extra: Annotated[
        dict[str, Any],
        Meta(description="Provider-specific keys passed to LiteLLM (filled from unknown keys)."),
    ] = msgspec.field(default_factory=dict)


class ModelInfo(_Section, frozen=True):
    """Facts about one deployment."""

    id: Annotated[str | None, Meta(description="Deployment id (default `<model_name>-<n>`).")] = None
    max_input_tokens: Annotated[
        PositiveInt | None, Meta(description="Context window; longer prompts go to context-window fallbacks.")
    ] = None
    input_price_per_mtok: Annotated[
        NonNegativeFloat | None, Meta(description="Input price per 1M tokens.")
    ] = None
    output_price_per_mtok: Annotated[
        NonNegativeFloat | None, Meta(description="Output price per 1M tokens.")
    ] = None
    base_model: Annotated[
        str | None,
        Meta(
            description="The model the price map prices this deployment as (default: its upstream model), "
            "e.g. `azure/gpt-4o` for an Azure deployment named after its deployment."
        ),
    ] = None
    mode: Annotated[
        DeploymentMode | None,
        Meta(description="What it serves (LiteLLM's `mode`; unset: any operation). See docs/gateway.md."),
    ] = None
    supports_responses: Annotated[
        bool | None, Meta(description="Forward `/v1/responses` calls as sent (unset: on for the OpenAI API).")
    ] = None
    supports_files: Annotated[
        bool | None, Meta(description="Pass `/v1/files` and `/v1/batches` on (unset: if `mode` is).")
    ] = None
    supports_messages: Annotated[
        bool | None, Meta(description="Forward `/v1/messages` calls as sent (unset: on for `anthropic/...`).")
    ] = None
    media_prices: Annotated[
        MediaPriceSettings | None, Meta(description="Prices per image, character and second of audio.")
    ] = None


class DeploymentSettings(_Section, frozen=True):
    """One entry of `model_list` (the LiteLLM config shape)."""

    model_name: Annotated[str, Meta(description="The public model group this deployment serves.")]
    litellm_params: Annotated[LiteLLMParams, Meta(description="How to reach the deployment.")]
    model_info: Annotated[ModelInfo, Meta(description="Facts about the deployment.")] = msgspec.field(
        default_factory=ModelInfo
    )
