"""Pipelines of explainable stages."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from routeiq_core.catalog import Deployment
from routeiq_core.context import CallContext
from routeiq_core.routing import DeploymentStats, DeploymentStrategy, RouteContext
from routeiq_core.routing.composition import (
    Arm,
    ContextWindowFilter,
    Experiment,
    HealthFilter,
    Pipeline,
    StrategyStage,
)
from routeiq_core.routing.strategies import LeastBusy, RoundRobin, WeightedShuffle
from tests.unit.routing.strategies.support import PROPERTY, contexts, dep, deployment_lists, group_of, ids


@PROPERTY
@given(deployment_lists(), contexts, st.sets(st.integers(0, 7)), st.randoms())
def test_never_returns_a_filtered_deployment(
    ds: list[Deployment], context: RouteContext, unhealthy: set[int], rng: random.Random
) -> None:
    down = {f"d{i}" for i in unhealthy}
    pipeline = Pipeline(
        [ContextWindowFilter(), HealthFilter(lambda d: d.id not in down), StrategyStage(WeightedShuffle(rng))]
    )
    ordered, reasons = pipeline.explain(group_of(ds), ds, context)
    tokens = context.estimated_prompt_tokens
    expected = [
        d.id
        for d in ds
        if d.id not in down and (d.max_context_tokens is None or tokens <= d.max_context_tokens)
    ]
    assert sorted(ids(ordered)) == sorted(expected)
    assert reasons


def test_explains_every_stage() -> None:
    ds = [dep(1), dep(2, max_context_tokens=8000), dep(3)]
    stats = DeploymentStats()
    stats.started("d1")
    pipeline = Pipeline(
        [
            ContextWindowFilter(),
            HealthFilter(lambda d: d.id != "d3"),
            StrategyStage(LeastBusy(stats, random.Random(0))),
        ]
    )
    ordered, reasons = pipeline.explain(group_of(ds), ds, CallContext(estimated_prompt_tokens=12_000))
    assert ids(ordered) == ["d1"]
    assert reasons == [
        "filter:context-window dropped d2 (8k < 12k tokens)",
        "filter:health dropped d3",
        "strategy:least-busy",
    ]
    # A short prompt fits d2, which is idle, so it leads; d3 stays filtered.
    assert ids(pipeline.order(group_of(ds), ds, CallContext())) == ["d2", "d1"]


def test_filters_that_keep_everything_say_so() -> None:
    ds = [dep(1), dep(2)]
    _, reasons = Pipeline([ContextWindowFilter(), HealthFilter(lambda d: True)]).explain(
        group_of(ds), ds, CallContext(estimated_prompt_tokens=8192)
    )
    assert reasons == ["filter:context-window kept all 2", "filter:health kept all 2"]


def test_fallback_orders_the_candidates_a_stage_would_have_emptied() -> None:
    ds = [dep(1), dep(2), dep(3)]
    pipeline = Pipeline(
        [HealthFilter(lambda d: False), StrategyStage(WeightedShuffle(random.Random(0)))],
        fallback=RoundRobin(),
    )
    ordered, reasons = pipeline.explain(group_of(ds), ds, CallContext())
    assert ids(ordered) == ["d1", "d2", "d3"]
    assert reasons == [
        "filter:health dropped d1, d2, d3",
        "fallback:round-robin (the stage left no candidates)",
    ]


def test_without_a_fallback_an_emptied_list_stays_empty() -> None:
    ds = [dep(1)]
    ordered, reasons = Pipeline([HealthFilter(lambda d: False)]).explain(group_of(ds), ds, CallContext())
    assert ordered == []
    assert reasons[-1] == "no candidates left and no fallback strategy"


def test_no_candidates_at_all() -> None:
    assert Pipeline([ContextWindowFilter()]).explain(group_of([]), [], CallContext()) == (
        [],
        ["no candidates"],
    )


def test_a_pipeline_is_a_deployment_strategy_and_nests() -> None:
    ds = [dep(1), dep(2)]
    inner: DeploymentStrategy = Pipeline([StrategyStage(RoundRobin())], name="inner")
    outer = Pipeline([StrategyStage(inner)], name="outer")
    ordered, reasons = outer.explain(group_of(ds), ds, CallContext())
    assert ids(ordered) == ["d1", "d2"]
    assert reasons == ["strategy:inner [strategy:round-robin]"]
    assert outer.name == "outer"


def test_strategy_stage_reports_the_experiment_arm() -> None:
    ds = [dep(1), dep(2)]
    experiment = Experiment(
        "exp", [Arm(name="only", strategy=RoundRobin())], key=lambda c: c.request_id, rng=random.Random(0)
    )
    _, reasons = Pipeline([StrategyStage(experiment)]).explain(group_of(ds), ds, CallContext(request_id="u1"))
    assert reasons == ["strategy:exp [experiment:exp arm=only strategy=round-robin]"]


def test_small_token_counts_are_printed_exactly() -> None:
    ds = [dep(1, max_context_tokens=512)]
    _, reasons = Pipeline([ContextWindowFilter()]).explain(
        group_of(ds), ds, CallContext(estimated_prompt_tokens=8192)
    )
    assert reasons[0] == "filter:context-window dropped d1 (512 < 8.2k tokens)"
