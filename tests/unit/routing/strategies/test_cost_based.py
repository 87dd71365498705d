"""Cost based."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given

from routeiq_core.catalog import Deployment
from routeiq_core.context import CallContext
from routeiq_core.routing import RouteContext
from routeiq_core.routing.strategies import CostBased
from tests.unit.routing.strategies.support import PROPERTY, contexts, dep, deployment_lists, group_of, ids


@PROPERTY
@given(deployment_lists(), contexts)
def test_order_is_a_permutation_cheapest_first(ds: list[Deployment], context: RouteContext) -> None:
    ordered = CostBased(random.Random(0)).order(group_of(ds), ds, context)
    assert sorted(ids(ordered)) == sorted(ids(ds))
    costs = [d.cost(context.estimated_prompt_tokens, 256) for d in ordered]
    assert costs == sorted(costs)


def test_cheapest_for_the_request_comes_first() -> None:
    cheap_in = dep(0, input_price_per_mtok=0.5, output_price_per_mtok=10.0)
    cheap_out = dep(1, input_price_per_mtok=3.0, output_price_per_mtok=1.0)
    ds = [cheap_in, cheap_out]
    strategy = CostBased(random.Random(0), expected_completion_tokens=100)
    long_prompt = CallContext(estimated_prompt_tokens=100_000)
    assert ids(strategy.order(group_of(ds), ds, long_prompt)) == ["d0", "d1"]
    short_prompt = CallContext(estimated_prompt_tokens=10)
    assert ids(strategy.order(group_of(ds), ds, short_prompt)) == ["d1", "d0"]


def test_equal_prices_share_by_weight_and_zero_weight_goes_last() -> None:
    ds = [
        dep(0, input_price_per_mtok=1.0, weight=3.0),
        dep(1, input_price_per_mtok=1.0, weight=1.0),
        dep(2, input_price_per_mtok=1.0, weight=0.0),
        dep(3, input_price_per_mtok=2.0, weight=100.0),
    ]
    strategy = CostBased(random.Random(5))
    orders = [
        ids(strategy.order(group_of(ds), ds, CallContext(estimated_prompt_tokens=500))) for _ in range(4000)
    ]
    firsts = Counter(order[0] for order in orders)
    assert 0.72 < firsts["d0"] / 4000 < 0.78
    assert all(order[2:] == ["d2", "d3"] for order in orders)
