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

BUNDLED_FILE = "model_prices_and_context_window_backup.json"
SKIPPED_KEYS = frozenset({"sample_spec"})


class ModelPrice(msgspec.Struct, frozen=True, kw_only=True):
    """What the map knows about one model.

    Attributes:
        input_per_mtok: Price of one million prompt tokens (USD in LiteLLM's map).
        output_per_mtok: Price of one million completion tokens.
        max_input_tokens: The model's context window, when the map gives one.
    """

    input_per_mtok: float
    output_per_mtok: float
    max_input_tokens: int | None = None


class _Entry(msgspec.Struct):
    """The fields read from one entry; the many others are ignored."""

    input_cost_per_token: Any = None
    output_cost_per_token: Any = None
    max_input_tokens: Any = None


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
    prices = {}
    for name, text in raw.items():
        price = None if name in SKIPPED_KEYS else _price(text)
        if price is not None:
            prices[name] = price
    return LiteLLMPriceMap(prices)


def _price(text: msgspec.Raw) -> ModelPrice | None:
    try:
        entry = msgspec.json.decode(text, type=_Entry)
    except msgspec.DecodeError:
        return None
    window = entry.max_input_tokens
    if not (_is_price(entry.input_cost_per_token) and _is_price(entry.output_cost_per_token)):
        return None
    if window is not None and not (isinstance(window, int) and not isinstance(window, bool) and window > 0):
        return None
    return ModelPrice(
        input_per_mtok=entry.input_cost_per_token * 1e6,
        output_per_mtok=entry.output_cost_per_token * 1e6,
        max_input_tokens=window,
    )


def _is_price(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    )
