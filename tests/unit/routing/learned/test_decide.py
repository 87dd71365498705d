"""Invariants of the shared decision rule argmax(quality - lambda * cost)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from routeiq_core.routing.learned import decide, decide_batch

rows = st.integers(2, 8).flatmap(
    lambda m: st.tuples(
        arrays(np.float64, m, elements=st.floats(0, 1)),
        arrays(np.float64, m, elements=st.floats(1e-6, 1.0)),
    )
)


@given(rows, st.floats(0, 1e6))
def test_decision_is_a_valid_index(row: tuple[np.ndarray, np.ndarray], weight: float) -> None:
    quality, costs = row
    assert 0 <= decide(quality, costs, weight) < len(quality)


@given(rows)
def test_zero_weight_picks_the_best_predicted_then_the_cheapest(row: tuple[np.ndarray, np.ndarray]) -> None:
    quality, costs = row
    chosen = decide(quality, costs, 0.0)
    tied = quality >= quality.max() - 1e-12  # differences below float noise count as ties
    assert tied[chosen]
    assert costs[chosen] == costs[tied].min()


@given(rows)
def test_huge_weight_picks_the_cheapest(row: tuple[np.ndarray, np.ndarray]) -> None:
    quality, costs = row
    # Qualities differ by at most 1, so at weight 1e12 any cost difference above 1e-12 decides;
    # costs closer than that (a few ulps apart) may still go to the better model.
    assert costs[decide(quality, costs, 1e12)] - costs.min() <= 1e-12


@given(rows, st.floats(0, 100))
def test_batch_agrees_with_rows(row: tuple[np.ndarray, np.ndarray], weight: float) -> None:
    quality, costs = row
    batch = decide_batch(np.stack([quality, quality[::-1]]), np.stack([costs, costs[::-1]]), weight)
    assert batch[0] == decide(quality, costs, weight)
    assert batch[1] == decide(quality[::-1], costs[::-1], weight)


def test_ties_go_to_the_cheaper_model() -> None:
    assert decide([0.5, 0.5, 0.2], [3.0, 1.0, 0.1]) == 1
    assert decide([0.9, 0.5], [0.2, 0.1], cost_weight=2.0) == 0  # 0.9 - 0.4 > 0.5 - 0.2
    assert decide([0.9, 0.5], [0.2, 0.1], cost_weight=4.0) == 1  # 0.9 - 0.8 == 0.5 - 0.4 (within float noise)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="cost_weight"):
        decide([0.1, 0.2], [1.0, 2.0], -1.0)
    with pytest.raises(ValueError, match="shapes"):
        decide([0.1, 0.2], [1.0, 2.0, 3.0])
