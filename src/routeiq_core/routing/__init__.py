"""Routing: the deployment-strategy port, its strategies, live statistics and composition.

Composition pieces (pipelines, affinity, A/B experiments, bandits) live in
``routeiq_core.routing.composition``; trained model routers in ``routeiq_core.routing.learned``.
"""

from routeiq_core.routing.stats import DeploymentSnapshot, DeploymentStats
from routeiq_core.routing.strategies import (
    ENTRY_POINT_GROUP,
    STRATEGY_NAMES,
    CostBased,
    LatencyBased,
    LeastBusy,
    RoundRobin,
    TagFilter,
    UsageBased,
    WeightedShuffle,
    build_strategy,
    load_custom_strategy,
)
from routeiq_core.routing.strategy import (
    DeploymentStrategy,
    LearnsOutcomes,
    LearnsQuality,
    LearnsServed,
    PreparesRoute,
    RouteContext,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "STRATEGY_NAMES",
    "CostBased",
    "DeploymentSnapshot",
    "DeploymentStats",
    "DeploymentStrategy",
    "LatencyBased",
    "LearnsOutcomes",
    "LearnsQuality",
    "LearnsServed",
    "LeastBusy",
    "PreparesRoute",
    "RoundRobin",
    "RouteContext",
    "TagFilter",
    "UsageBased",
    "WeightedShuffle",
    "build_strategy",
    "load_custom_strategy",
]
