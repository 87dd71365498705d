"""Deployment strategies."""

from __future__ import annotations

import random
from collections import Counter

from routeiq_core.catalog import ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.routing import WeightedShuffle
from tests.support.providers import deployment


def test_weighted_shuffle_first_pick_follows_weights() -> None:
    ds = (deployment("g", 0, weight=3.0), deployment("g", 1, weight=1.0), deployment("g", 2, weight=0.0))
    group = ModelGroup(name="g", deployments=ds)
    strategy = WeightedShuffle(random.Random(42))
    firsts = Counter(strategy.order(group, ds, CallContext())[0].id for _ in range(20_000))
    share = firsts["g-0"] / 20_000
    assert 0.72 < share < 0.78  # expected 0.75
    assert firsts["g-2"] == 0  # zero weight is never first while others exist


def test_weighted_shuffle_returns_every_candidate_once() -> None:
    ds = tuple(deployment("g", i) for i in range(5))
    order = WeightedShuffle(random.Random(1)).order(ModelGroup(name="g", deployments=ds), ds, CallContext())
    assert sorted(d.id for d in order) == [d.id for d in ds]
