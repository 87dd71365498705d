"""LiteLLM's model price map: prices and context windows by model name, read from its JSON file.

The file is LiteLLM's ``model_prices_and_context_window`` format: a top-level object from model name
to ``{input_cost_per_token, output_cost_per_token, max_input_tokens, litellm_provider, mode, ...}``.
LiteLLM ships a copy inside its package; it is found without importing litellm (which takes seconds).
"""

from __future__ import annotations

import functools
import importlib.util
import math
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec

from routeiq_core.errors import ConfigurationError
from routeiq_core.media_prices import MediaPrices, size_key

BUNDLED_FILE = "model_prices_and_context_window_backup.json"
SKIPPED_KEYS = frozenset({"sample_spec"})
_QUALITIES = frozenset({"standard", "hd", "low", "medium", "high", "auto"})


class ModelPrice(msgspec.Struct, frozen=True, kw_only=True):
    """What the map knows about one model.

    Attributes:
        input_per_mtok: Price of one million prompt tokens (USD in LiteLLM's map).
        output_per_mtok: Price of one million completion tokens.
        max_input_tokens: The model's context window, when the map gives one.
        media: Its prices per image, character or second of audio, when the map gives any (images
            by size and quality from entries such as ``hd/1024-x-1792/dall-e-3``).
    """

    input_per_mtok: float
    output_per_mtok: float
    max_input_tokens: int | None = None
    media: MediaPrices | None = None


class _Entry(msgspec.Struct):
    """The fields read from one entry; the many others are ignored."""

    input_cost_per_token: Any = None
    output_cost_per_token: Any = None
    max_input_tokens: Any = None
    output_cost_per_image: Any = None
    input_cost_per_image: Any = None
    input_cost_per_pixel: Any = None
    input_cost_per_character: Any = None
    input_cost_per_second: Any = None

    def media(self) -> MediaPrices | None:
        """The entry's per-unit prices (None when it has none)."""
        image = (
            self.output_cost_per_image if _is_price(self.output_cost_per_image) else self.input_cost_per_image
        )
        media = MediaPrices(
            per_image=_unit_price(image),
            per_pixel=_unit_price(self.input_cost_per_pixel),
            per_character=_unit_price(self.input_cost_per_character),
            per_second=_unit_price(self.input_cost_per_second),
        )
        return media if media != MediaPrices() else None


class LiteLLMPriceMap:
    """Prices and context windows by model name, in LiteLLM's price map format."""

    def __init__(self, prices: Mapping[str, ModelPrice]) -> None:
        self._prices = MappingProxyType(dict(prices))

    @classmethod
    def from_file(cls, path: str | Path) -> LiteLLMPriceMap:
        """Load a price map file; parsed once per process while the file is unchanged.

        Entries that are not objects, lack a numeric input or output price, or have a context window
        that is not a positive integer are skipped, as is LiteLLM's ``sample_spec``.

        Raises:
            ConfigurationError: the file is missing, unreadable or not a JSON object (names the path).
        """
        try:
            stat = Path(path).stat()
        except OSError as exc:
            raise ConfigurationError([f"cannot read the price map {str(path)!r}: {exc.strerror}"]) from None
        return _parse(str(path), stat.st_mtime_ns, stat.st_size)

    @classmethod
    def bundled(cls) -> LiteLLMPriceMap | None:
        """LiteLLM's own copy of the map; None when litellm is not installed (or ships none)."""
        path = bundled_path()
        return cls.from_file(path) if path is not None else None

    def __len__(self) -> int:
        """How many models the map prices."""
        return len(self._prices)

    def lookup(self, model: str) -> ModelPrice | None:
        """The entry of a deployment's ``litellm_params.model``.

        The whole string is tried first (``mistral/mistral-large-latest`` is a key as is), then the
        part after the first ``/`` (``openai/gpt-4o`` is priced as ``gpt-4o``).
        """
        found = self._prices.get(model)
        if found is None and "/" in model:
            found = self._prices.get(model.partition("/")[2])
        return found


def open_price_map(source: str) -> LiteLLMPriceMap | None:
    """The map the ``routing.price_map`` setting names.

    Args:
        source: ``litellm`` (LiteLLM's bundled map, None when litellm is not installed), ``none``
            (None), or the path of a JSON file in LiteLLM's format.

    Raises:
        ConfigurationError: the file is missing, unreadable or invalid.
    """
    if source == "none":
        return None
    if source == "litellm":
        return LiteLLMPriceMap.bundled()
    return LiteLLMPriceMap.from_file(source)


def bundled_path() -> Path | None:
    """Where the installed litellm keeps its price map, found without importing litellm."""
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    for directory in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(directory) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=8)
def _parse(path: str, mtime_ns: int, size: int) -> LiteLLMPriceMap:
    """Parse ``path``; the modification time and size in the cache key make an edited file reload."""
    del mtime_ns, size
    try:
        raw = msgspec.json.decode(Path(path).read_bytes(), type=dict[str, msgspec.Raw])
    except OSError as exc:
        raise ConfigurationError([f"cannot read the price map {path!r}: {exc.strerror}"]) from None
    except msgspec.DecodeError as exc:
        raise ConfigurationError(
            [f"the price map {path!r} is not a JSON object of model entries: {exc}"]
        ) from None
    prices: dict[str, ModelPrice] = {}
    sized: dict[str, dict[str, float]] = {}  # image prices by model, then by "<quality>/<size>"
    for name, text in raw.items():
        price = None if name in SKIPPED_KEYS else _price(text)
        if price is None:
            continue
        where = _sized(name)
        if where is None:
            prices[name] = price
        elif price.media is not None and (per_image := _per_image(price.media, where[1])) is not None:
            sized.setdefault(where[0], {})[where[1]] = per_image
    for model, by_size in sized.items():
        known = prices.get(model) or ModelPrice(input_per_mtok=0.0, output_per_mtok=0.0)
        media = known.media or MediaPrices()
        merged = msgspec.structs.replace(media, per_image_by_size={**by_size, **media.per_image_by_size})
        prices[model] = msgspec.structs.replace(known, media=merged)
    return LiteLLMPriceMap(prices)


def _sized(name: str) -> tuple[str, str] | None:
    """``(model, "<quality>/<size>" or "<size>")`` of a size-specific entry (``hd/1024-x-1792/dall-e-3``)."""
    parts = name.split("/")
    at = next((i for i, part in enumerate(parts[:-1]) if size_key(part) is not None), None)
    if at is None:
        return None
    size = size_key(parts[at])
    quality = parts[at - 1] if at > 0 and parts[at - 1] in _QUALITIES else None
    model = "/".join(parts[: at - 1 if quality else at] + parts[at + 1 :])
    return model, f"{quality}/{size}" if quality else f"{size}"


def _per_image(media: MediaPrices, size: str) -> float | None:
    """One image's price at ``size`` from a size-specific entry (its per-image or per-pixel price)."""
    if media.per_image:
        return media.per_image
    if media.per_pixel:
        width, _, height = size.rpartition("/")[2].partition("x")
        return int(width) * int(height) * media.per_pixel
    return None


def _price(text: msgspec.Raw) -> ModelPrice | None:
    try:
        entry = msgspec.json.decode(text, type=_Entry)
    except msgspec.DecodeError:
        return None
    window = entry.max_input_tokens
    media = entry.media()
    tokens = _is_price(entry.input_cost_per_token) and _is_price(entry.output_cost_per_token)
    if not (tokens or media is not None):
        return None
    if window is not None and not (isinstance(window, int) and not isinstance(window, bool) and window > 0):
        return None
    return ModelPrice(
        input_per_mtok=entry.input_cost_per_token * 1e6 if tokens else 0.0,
        output_per_mtok=entry.output_cost_per_token * 1e6 if tokens else 0.0,
        max_input_tokens=window,
        media=media,
    )


def _unit_price(value: object) -> float:
    return float(value) if _is_price(value) else 0.0  # type: ignore[arg-type]  # _is_price checked it


def _is_price(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    )
