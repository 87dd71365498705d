"""Shared pieces of the settings model: bounded number types and the section base class."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

PositiveInt = Annotated[int, Meta(ge=1)]
PositiveFloat = Annotated[float, Meta(gt=0)]
NonNegativeInt = Annotated[int, Meta(ge=0)]
NonNegativeFloat = Annotated[float, Meta(ge=0)]
Port = Annotated[int, Meta(ge=1, le=65535)]
LogLevel = Literal["debug", "info", "warning", "error"]
DeploymentMode = Literal[
    "chat",
    "completion",
    "responses",
    "embedding",
    "moderation",
    "image_generation",
    "image_edit",
    "rerank",
    "audio_speech",
    "audio_transcription",
]
"""LiteLLM's ``model_info.mode`` values RouteIQ serves."""


class _Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Base of every settings section: unknown keys are errors, values are immutable."""
