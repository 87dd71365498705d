"""Deployment strategies, one module each, and the factory that builds them from configuration."""

from routeiq_core.routing.strategies.cost_based import CostBased
from routeiq_core.routing.strategies.factory import (
    ENTRY_POINT_GROUP,
    STRATEGY_NAMES,
    build_strategy,
    load_custom_strategy,
)
from routeiq_core.routing.strategies.latency_based import LatencyBased
from routeiq_core.routing.strategies.least_busy import LeastBusy
from routeiq_core.routing.strategies.round_robin import RoundRobin
from routeiq_core.routing.strategies.tag_filter import TagFilter
from routeiq_core.routing.strategies.usage_based import UsageBased
from routeiq_core.routing.strategies.weighted_shuffle import WeightedShuffle

__all__ = [
    "ENTRY_POINT_GROUP",
    "STRATEGY_NAMES",
    "CostBased",
    "LatencyBased",
    "LeastBusy",
    "RoundRobin",
    "TagFilter",
    "UsageBased",
    "WeightedShuffle",
    "build_strategy",
    "load_custom_strategy",
]
