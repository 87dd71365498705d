"""A/B experiments."""

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
from routeiq_core.routing.composition import Arm, ArmStats, Experiment
from routeiq_core.routing.strategies import CostBased, RoundRobin, WeightedShuffle
from tests.unit.routing.strategies.support import PROPERTY, contexts, dep, deployment_lists, group_of, ids


class Reverse:
    name = "reverse"

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        return list(reversed(candidates))


def by_request_id(context: RouteContext) -> str | None:
    return context.request_id


def _experiment(weights: tuple[float, float] = (0.7, 0.3), seed: int = 0) -> Experiment:
    arms = [
        Arm(name="control", strategy=RoundRobin(), weight=weights[0]),
        Arm(name="treatment", strategy=Reverse(), weight=weights[1]),
    ]
    return Experiment("exp-1", arms, key=by_request_id, rng=random.Random(seed))


@PROPERTY
@given(deployment_lists(), contexts)
def test_order_is_a_permutation(ds: list[Deployment], context: RouteContext) -> None:
    ordered = _experiment().order(group_of(ds), ds, context)
    assert sorted(ids(ordered)) == sorted(ids(ds))


def test_assignment_is_sticky_and_stable_across_instances() -> None:
    experiment = _experiment()
    for i in range(200):
        context = CallContext(request_id=f"user-{i}")
        arm = experiment.assign(context).name
        assert all(experiment.assign(context).name == arm for _ in range(5))
        assert _experiment(seed=99).assign(context).name == arm
    # SHA-256 based, so the same in every process and release (Python's hash() is salted per process).
    assert experiment.bucket("user-1") == pytest.approx(0.651821, abs=1e-6)


def test_shares_follow_weights_over_many_keys() -> None:
    experiment = _experiment()
    shares = Counter(experiment.assign(CallContext(request_id=f"user-{i}")).name for i in range(20_000))
    assert abs(shares["control"] / 20_000 - 0.7) < 0.015


def test_experiments_split_users_independently() -> None:
    a = _experiment((0.5, 0.5))
    b = Experiment(
        "exp-2",
        [Arm(name="control", strategy=RoundRobin()), Arm(name="treatment", strategy=Reverse())],
        key=by_request_id,
        rng=random.Random(0),
    )
    same = sum(
        a.assign(CallContext(request_id=f"u{i}")).name == b.assign(CallContext(request_id=f"u{i}")).name
        for i in range(4000)
    )
    assert 0.45 < same / 4000 < 0.55


def test_unkeyed_requests_are_assigned_at_random_by_weight() -> None:
    experiment = _experiment((0.8, 0.2))
    shares = Counter(experiment.assign(CallContext()).name for _ in range(5000))
    assert abs(shares["control"] / 5000 - 0.8) < 0.03


def test_routes_with_the_assigned_arm_and_counts() -> None:
    experiment = _experiment((0.5, 0.5))
    ds = [dep(1), dep(2), dep(3)]
    for i in range(100):
        context = CallContext(request_id=f"req-{i}")
        ordered, reasons = experiment.explain(group_of(ds), ds, context)
        arm = experiment.arm_for_request(f"req-{i}")
        assert reasons == [
            f"experiment:exp-1 arm={arm} strategy={'reverse' if arm == 'treatment' else 'round-robin'}"
        ]
        if arm == "treatment":
            assert ids(ordered) == ["d3", "d2", "d1"]
        experiment.record_outcome(arm or "", ok=i % 4 != 0)
    stats = experiment.stats()
    assert stats["control"].assignments + stats["treatment"].assignments == 100
    assert sum(s.failures for s in stats.values()) == 25
    assert sum(s.successes for s in stats.values()) == 75
    assert experiment.arm_for_request("unknown") is None


def test_unknown_arm_outcome_is_an_error() -> None:
    with pytest.raises(KeyError, match="no arm 'nope'"):
        _experiment().record_outcome("nope", ok=True)


def test_fresh_stats_are_zero() -> None:
    assert _experiment().stats() == {"control": ArmStats(), "treatment": ArmStats()}


@pytest.mark.parametrize(
    ("arms", "expected"),
    [
        ([], "at least one arm"),
        (
            [Arm(name="a", strategy=RoundRobin()), Arm(name="a", strategy=CostBased(random.Random(0)))],
            "repeated: a",
        ),
        ([Arm(name="a", strategy=WeightedShuffle(random.Random(0)), weight=0)], "weights must be positive"),
    ],
)
def test_invalid_arms_are_configuration_errors(arms: list[Arm], expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        Experiment("bad", arms, key=by_request_id, rng=random.Random(0))
