"""Deployment strategies, one module each."""

from routeiq_core.routing.strategies.weighted_shuffle import WeightedShuffle

__all__ = ["WeightedShuffle"]
