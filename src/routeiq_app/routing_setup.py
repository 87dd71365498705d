"""Composing the deployment strategy the container builds from the routing settings."""

from __future__ import annotations

import random

from routeiq_app.settings import Settings
from routeiq_core.errors import ConfigurationError
from routeiq_core.routing import DeploymentStats, DeploymentStrategy, RouteContext, build_strategy
from routeiq_core.routing.composition import (
    AffinityStage,
    Arm,
    Experiment,
    InMemoryAffinityStore,
    Pipeline,
    SharedAffinityStore,
    StrategyBandit,
    StrategyStage,
)


def select_strategy(
    strategy: DeploymentStrategy, settings: Settings, rng: random.Random, stats: DeploymentStats
) -> DeploymentStrategy:
    """The configured strategy, or an experiment / bandit over strategies when one is configured."""
    routing = settings.routing
    if routing.experiment.arms and routing.bandit.strategies:
        raise ConfigurationError(["routing: configure an experiment or a bandit, not both"])
    if routing.experiment.arms:
        strategy = _experiment(settings, rng, stats)
    elif routing.bandit.strategies:
        bandit = routing.bandit
        strategy = StrategyBandit(
            [build_strategy(name, rng=rng, stats=stats) for name in bandit.strategies],
            rng=rng,
            policy=bandit.policy,
            epsilon=bandit.epsilon,
            latency_target_s=bandit.latency_target_s,
            quality_weight=bandit.quality_weight,
        )
    return strategy


def with_affinity(
    strategy: DeploymentStrategy, settings: Settings, shared: SharedAffinityStore | None = None
) -> DeploymentStrategy:
    """``strategy`` followed by conversation affinity when ``routing.affinity`` is on.

    ``shared`` (Redis, when ``state.redis_url`` is set) keeps a conversation on one deployment across
    workers and nodes; without it each worker pins on its own.
    """
    routing = settings.routing
    if not routing.affinity:
        return strategy
    affinity = AffinityStage(InMemoryAffinityStore(), ttl_s=routing.affinity_ttl_s, shared=shared)
    return Pipeline([StrategyStage(strategy), affinity], fallback=strategy, name=f"{strategy.name}+affinity")


def _experiment(settings: Settings, rng: random.Random, stats: DeploymentStats) -> Experiment:
    experiment = settings.routing.experiment
    arms = [
        Arm(name=arm.name, strategy=build_strategy(arm.strategy, rng=rng, stats=stats), weight=arm.weight)
        for arm in experiment.arms
    ]

    def key(context: RouteContext) -> str | None:
        if experiment.key == "user":
            return context.user
        if experiment.key == "conversation":
            return context.conversation_id
        return context.key_id

    return Experiment(experiment.name, arms, key=key, rng=rng)
