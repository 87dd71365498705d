"""Tag filter."""

from __future__ import annotations

import random

from hypothesis import given

from routeiq_core.catalog import Deployment
from routeiq_core.context import CallContext
from routeiq_core.routing import RouteContext
from routeiq_core.routing.strategies import RoundRobin, TagFilter, WeightedShuffle
from tests.unit.routing.strategies.support import PROPERTY, contexts, dep, deployment_lists, group_of, ids


@PROPERTY
@given(deployment_lists(), contexts)
def test_keeps_exactly_the_deployments_with_every_requested_tag(
    ds: list[Deployment], context: RouteContext
) -> None:
    ordered = TagFilter(WeightedShuffle(random.Random(0))).order(group_of(ds), ds, context)
    expected = [d.id for d in ds if set(context.tags) <= set(d.tags)]
    assert sorted(ids(ordered)) == sorted(expected)


def test_delegates_the_order_of_the_matching_ones() -> None:
    ds = [dep(0, tags=("eu",)), dep(1, tags=("us",)), dep(2, tags=("eu", "gpu")), dep(3, tags=("eu",))]
    strategy = TagFilter(RoundRobin())
    eu = CallContext(tags=("eu",))
    assert ids(strategy.order(group_of(ds), ds, eu)) == ["d0", "d2", "d3"]
    assert ids(strategy.order(group_of(ds), ds, eu)) == ["d2", "d3", "d0"]
    assert ids(strategy.order(group_of(ds), ds, CallContext(tags=("eu", "gpu")))) == ["d2"]


def test_no_requested_tags_keeps_everything() -> None:
    ds = [dep(0, tags=("eu",)), dep(1)]
    assert ids(TagFilter(RoundRobin()).order(group_of(ds), ds, CallContext())) == ["d0", "d1"]


def test_no_match_returns_nothing() -> None:
    ds = [dep(0, tags=("eu",)), dep(1, tags=("us",))]
    assert TagFilter(RoundRobin()).order(group_of(ds), ds, CallContext(tags=("apac",))) == []


def test_name_shows_the_inner_strategy() -> None:
    strategy = TagFilter(RoundRobin())
    assert strategy.name == "tag-filter(round-robin)"
    assert strategy.inner.name == "round-robin"
