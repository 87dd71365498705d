"""The strategy bandit."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.errors import ConfigurationError
from routeiq_core.routing import RouteContext
from routeiq_core.routing.composition import BanditPolicy, StrategyBandit
from tests.unit.routing.strategies.support import PROPERTY, contexts, dep, deployment_lists, group_of, ids


class Named:
    def __init__(self, name: str) -> None:
        self.name = name

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        return list(candidates)


def _simulate(
    bandit: StrategyBandit, success: dict[str, float], latency: dict[str, float], rounds: int, seed: int
) -> list[str]:
    world = random.Random(seed)
    ds = [dep(1), dep(2)]
    chosen = []
    for i in range(rounds):
        bandit.order(group_of(ds), ds, CallContext(request_id=f"r{i}"))
        name = bandit.strategy_for_request(f"r{i}")
        assert name is not None
        chosen.append(name)
        bandit.record_outcome(name, ok=world.random() < success[name], latency_s=latency[name])
    return chosen


@pytest.mark.parametrize("policy", ["thompson", "epsilon-greedy"])
def test_converges_to_the_more_reliable_strategy(policy: BanditPolicy) -> None:
    bandit = StrategyBandit([Named("good"), Named("bad")], rng=random.Random(1), policy=policy, epsilon=0.1)
    chosen = _simulate(bandit, {"good": 0.9, "bad": 0.6}, {"good": 0.5, "bad": 0.5}, rounds=2000, seed=2)
    assert Counter(chosen[-500:])["good"] / 500 > 0.9
    stats = bandit.stats()
    assert stats["good"].mean_reward > stats["bad"].mean_reward
    assert stats["good"].pulls + stats["bad"].pulls == 2000


def test_latency_target_steers_towards_the_faster_strategy() -> None:
    bandit = StrategyBandit([Named("slow"), Named("fast")], rng=random.Random(3), latency_target_s=0.2)
    chosen = _simulate(bandit, {"slow": 1.0, "fast": 1.0}, {"slow": 1.0, "fast": 0.1}, rounds=1000, seed=4)
    assert Counter(chosen[-300:])["fast"] / 300 > 0.9
    assert bandit.stats()["slow"].latency_ewma_s == pytest.approx(1.0)


def test_explore_everything_with_epsilon_one() -> None:
    bandit = StrategyBandit(
        [Named("a"), Named("b")], rng=random.Random(0), policy="epsilon-greedy", epsilon=1.0
    )
    bandit.record_outcome("a", ok=True)
    chosen = Counter(bandit.choose().name for _ in range(2000))
    assert 0.45 < chosen["a"] / 2000 < 0.55


def test_seeded_runs_repeat() -> None:
    def run() -> list[str]:
        bandit = StrategyBandit([Named("a"), Named("b")], rng=random.Random(11))
        return _simulate(bandit, {"a": 0.7, "b": 0.5}, {"a": 0.1, "b": 0.1}, rounds=200, seed=12)

    assert run() == run()


@PROPERTY
@given(deployment_lists(), contexts)
def test_order_is_a_permutation(ds: list[Deployment], context: RouteContext) -> None:
    bandit = StrategyBandit([Named("a"), Named("b")], rng=random.Random(0))
    assert sorted(ids(bandit.order(group_of(ds), ds, context))) == sorted(ids(ds))


def test_explains_its_choice() -> None:
    bandit = StrategyBandit([Named("only")], rng=random.Random(0), name="b1")
    ds = [dep(1)]
    assert bandit.explain(group_of(ds), ds, CallContext()) == (ds, ["bandit:b1 (thompson) chose only"])


def test_unknown_strategy_outcome_is_an_error() -> None:
    with pytest.raises(KeyError, match="no strategy 'nope'"):
        StrategyBandit([Named("a")], rng=random.Random(0)).record_outcome("nope", ok=True)


@pytest.mark.parametrize(
    ("strategies", "kwargs", "expected"),
    [
        ([], {}, "at least one strategy"),
        ([Named("a"), Named("a")], {}, "must be unique"),
        ([Named("a")], {"epsilon": 1.5}, "epsilon must be within"),
        ([Named("a")], {"policy": "ucb"}, "policy must be"),
        ([Named("a")], {"quality_weight": -1.0}, "quality_weight must be"),
    ],
)
def test_invalid_configuration(strategies: list[Named], kwargs: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        StrategyBandit(strategies, rng=random.Random(0), **kwargs)  # type: ignore[arg-type]


def test_quality_scores_fold_into_the_strategy_that_routed_the_request() -> None:
    bandit = StrategyBandit([Named("only")], rng=random.Random(0), quality_weight=2.0)
    ds = [dep(1)]
    bandit.order(group_of(ds), ds, CallContext(request_id="r1"))
    bandit.on_quality("r1", 0.75)
    bandit.on_quality("r1", 7.0)  # clipped to 1
    bandit.on_quality("unknown", 0.0)  # never routed here: ignored
    arm = bandit.stats()["only"]
    assert (arm.alpha, arm.beta) == pytest.approx((1 + 1.5 + 2.0, 1 + 0.5))
    assert bandit.quality_reports == 2


def test_quality_scores_are_ignored_without_a_weight() -> None:
    bandit = StrategyBandit([Named("only")], rng=random.Random(0))
    ds = [dep(1)]
    bandit.order(group_of(ds), ds, CallContext(request_id="r1"))
    bandit.on_quality("r1", 1.0)
    assert (bandit.stats()["only"].alpha, bandit.quality_reports) == (1.0, 0)


def test_a_pipeline_forwards_quality_to_its_bandit() -> None:
    from routeiq_core.routing.composition import Pipeline, StrategyStage

    bandit = StrategyBandit([Named("only")], rng=random.Random(0), quality_weight=1.0)
    pipeline = Pipeline([StrategyStage(bandit)])
    ds = [dep(1)]
    pipeline.order(group_of(ds), ds, CallContext(request_id="r1"))
    pipeline.on_quality("r1", 0.5)
    assert bandit.stats()["only"].alpha == pytest.approx(1.5)
