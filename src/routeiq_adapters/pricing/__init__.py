"""Model price maps: deployment prices and context windows that the configuration leaves out."""

from routeiq_adapters.pricing.litellm_map import LiteLLMPriceMap, ModelPrice, open_price_map

__all__ = ["LiteLLMPriceMap", "ModelPrice", "open_price_map"]
