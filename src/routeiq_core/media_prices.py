"""Prices of what is not metered in tokens: images made, characters spoken, seconds of audio heard.

Image generation is priced per image (by its size and quality when the deployment prices them
apart, else per pixel, else one price), speech per character of its input, transcription per
second of audio. A call's units are measured from its request (the OpenAI shape: ``n``, ``size``,
``quality``, ``input``) and, for a transcription, from its answer (``usage.seconds`` or
``duration``); :meth:`~routeiq_core.catalog.Deployment.cost` adds their price to the tokens'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec

from routeiq_core.operations import Operation, UploadedFile

__all__ = ["AUDIO_BYTES_PER_SECOND", "MediaPrices", "MediaUnits", "media_units", "size_key"]

AUDIO_BYTES_PER_SECOND = 16_000
"""The audio rate a transcription whose answer reports no duration is estimated at (128 kbit/s)."""
_MAX_IMAGES = 128
_MAX_SIDE = 16_384
IMAGE_OPERATIONS = frozenset({Operation.IMAGES, Operation.IMAGE_EDITS})


class MediaPrices(msgspec.Struct, frozen=True, kw_only=True):
    """A deployment's prices per unit besides tokens, in the price unit (normally USD).

    Attributes:
        per_image: Per image generated or edited, when no size-specific price applies.
        per_image_by_size: Per image by ``<quality>/<width>x<height>`` or ``<width>x<height>``.
        per_pixel: Per pixel generated (LiteLLM's DALL-E prices), when no per-size price applies.
        per_character: Per character of speech input.
        per_second: Per second of transcribed audio.
    """

    per_image: float = 0.0
    per_image_by_size: Mapping[str, float] = msgspec.field(default_factory=dict)
    per_pixel: float = 0.0
    per_character: float = 0.0
    per_second: float = 0.0

    def cost(self, units: MediaUnits) -> float:
        """The price of ``units``."""
        total = units.characters * self.per_character + units.seconds * self.per_second
        if units.images:
            total += units.images * self._image_price(units.size, units.quality)
        return total

    def _image_price(self, size: str | None, quality: str | None) -> float:
        by_size = self.per_image_by_size
        if size is not None and by_size:
            for key in (f"{quality}/{size}" if quality else None, size):
                if key is not None and key in by_size:
                    return by_size[key]
        if self.per_pixel and size is not None:
            width, _, height = size.partition("x")
            return int(width) * int(height) * self.per_pixel
        return self.per_image


class MediaUnits(msgspec.Struct, frozen=True, kw_only=True):
    """What a call made or read besides tokens."""

    images: int = 0
    size: str | None = None
    """``<width>x<height>`` of the images (None: not said, or not a plain size such as ``auto``)."""
    quality: str | None = None
    characters: int = 0
    seconds: float = 0.0


class _Transcript(msgspec.Struct):
    """What a JSON transcription says of its audio's length."""

    duration: float | None = None
    usage: dict[str, Any] | None = None


_TRANSCRIPT = msgspec.json.Decoder(_Transcript)


def size_key(size: object) -> str | None:
    """A size as prices key it: ``1024x1024`` (LiteLLM's ``1024-x-1024`` too); None if it is no size."""
    if not isinstance(size, str):
        return None
    width, sep, height = size.replace("-x-", "x").partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        return None
    if not (0 < int(width) <= _MAX_SIDE and 0 < int(height) <= _MAX_SIDE):
        return None
    return f"{int(width)}x{int(height)}"


def media_units(operation: Operation, payload: Mapping[str, Any], body: bytes | None) -> MediaUnits | None:
    """The units of a call of ``operation`` (None for an operation metered in tokens only)."""
    if operation in IMAGE_OPERATIONS:
        n = payload.get("n")
        count = n if type(n) is int and 0 < n <= _MAX_IMAGES else 1
        quality = payload.get("quality")
        return MediaUnits(
            images=count,
            size=size_key(payload.get("size")),
            quality=quality if isinstance(quality, str) and len(quality) <= 32 else None,
        )
    if operation is Operation.AUDIO_SPEECH:
        text = payload.get("input")
        return MediaUnits(characters=len(text) if isinstance(text, str) else 0)
    if operation is Operation.AUDIO_TRANSCRIPTION:
        return MediaUnits(seconds=_seconds(payload, body))
    return None


def _seconds(payload: Mapping[str, Any], body: bytes | None) -> float:
    """The audio's length as the answer reports it, else estimated from the uploaded file's size."""
    if body is not None and body.lstrip().startswith(b"{"):
        try:
            answer = _TRANSCRIPT.decode(body)
        except msgspec.DecodeError:
            answer = _Transcript()
        reported = (answer.usage or {}).get("seconds", answer.duration)
        if isinstance(reported, int | float) and not isinstance(reported, bool) and 0 <= reported < math.inf:
            return float(reported)
    upload = payload.get("file")
    return len(upload.data) / AUDIO_BYTES_PER_SECOND if isinstance(upload, UploadedFile) else 0.0
