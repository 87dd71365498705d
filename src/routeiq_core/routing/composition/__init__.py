"""Composing strategies: explainable pipelines, affinity, A/B experiments and bandits."""

from routeiq_core.routing.composition.affinity import (
    AffinityKey,
    AffinityStage,
    AffinityStore,
    InMemoryAffinityStore,
    SharedAffinityStore,
    conversation_key,
)
from routeiq_core.routing.composition.bandit import BanditArmStats, BanditPolicy, StrategyBandit
from routeiq_core.routing.composition.experiment import Arm, ArmStats, Experiment, ExperimentKey
from routeiq_core.routing.composition.pipeline import (
    CommitsServed,
    ContextWindowFilter,
    Explains,
    HealthFilter,
    Pipeline,
    Stage,
    StrategyStage,
)

__all__ = [
    "AffinityKey",
    "AffinityStage",
    "AffinityStore",
    "Arm",
    "ArmStats",
    "BanditArmStats",
    "BanditPolicy",
    "CommitsServed",
    "ContextWindowFilter",
    "Experiment",
    "ExperimentKey",
    "Explains",
    "HealthFilter",
    "InMemoryAffinityStore",
    "Pipeline",
    "SharedAffinityStore",
    "Stage",
    "StrategyBandit",
    "StrategyStage",
    "conversation_key",
]
