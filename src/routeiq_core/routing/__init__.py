"""Routing: the strategy port and its implementations."""

from routeiq_core.routing.stats import DeploymentSnapshot, DeploymentStats
from routeiq_core.routing.strategies import WeightedShuffle
from routeiq_core.routing.strategy import DeploymentStrategy, RouteContext

__all__ = ["DeploymentSnapshot", "DeploymentStats", "DeploymentStrategy", "RouteContext", "WeightedShuffle"]
