"""Media prices of a deployment (``model_list[*].model_info.media_prices``): per image, character, second."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated

import msgspec
from msgspec import Meta

from routeiq_app.settings.base import NonNegativeFloat, _Section
from routeiq_core.media_prices import MediaPrices

LITELLM_MEDIA_PRICES: Mapping[str, str] = MappingProxyType(
    {
        "output_cost_per_image": "per_image",
        "input_cost_per_image": "per_image",
        "input_cost_per_pixel": "per_pixel",
        "input_cost_per_character": "per_character",
        "input_cost_per_second": "per_second",
    }
)
"""LiteLLM's per-unit prices (``model_info`` keys, and price map fields) by the field they fill."""
SizeKey = Annotated[str, Meta(pattern=r"^([a-z]{1,16}/)?[0-9]{1,5}x[0-9]{1,5}$")]


class MediaPriceSettings(_Section, frozen=True):
    """What images, speech and transcriptions cost beyond their tokens (LiteLLM's unit prices map here)."""

    per_image: Annotated[
        NonNegativeFloat,
        Meta(description="Per image generated or edited (LiteLLM: `output_cost_per_image`)."),
    ] = 0.0
    per_image_by_size: Annotated[
        dict[SizeKey, NonNegativeFloat],
        Meta(
            description="Per image by `<quality>/<width>x<height>` (e.g. `hd/1024x1792`) or "
            "`<width>x<height>`, as the request's `quality` and `size` say (tried before `per_pixel`)."
        ),
    ] = msgspec.field(default_factory=dict)
    per_pixel: Annotated[
        NonNegativeFloat, Meta(description="Per pixel generated (LiteLLM: `input_cost_per_pixel`).")
    ] = 0.0
    per_character: Annotated[
        NonNegativeFloat,
        Meta(description="Per character of `/v1/audio/speech` input (LiteLLM: `input_cost_per_character`)."),
    ] = 0.0
    per_second: Annotated[
        NonNegativeFloat,
        Meta(
            description="Per second of transcribed audio (LiteLLM: `input_cost_per_second`); the answer's "
            "reported duration, else the file's size at 16 kB a second."
        ),
    ] = 0.0

    def prices(self) -> MediaPrices:
        """These prices as the catalog holds them."""
        return MediaPrices(
            per_image=self.per_image,
            per_image_by_size=dict(self.per_image_by_size),
            per_pixel=self.per_pixel,
            per_character=self.per_character,
            per_second=self.per_second,
        )
