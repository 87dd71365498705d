"""Routing metrics against hand-computed values on tiny tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routeiq_core.routing.learned.evaluate import (
    area_normalised,
    cost_to_reach,
    many_model_metrics,
    routing_score,
    two_model_curve,
    two_model_metrics,
    upper_hull,
)
from routeiq_core.routing.learned.report import (
    baseline_predictions,
    metric_samples,
    sample_weights,
    summarise,
)

# Columns (strong, weak): strong mean 0.75, weak mean 0.5; gains strong - weak = [1, 1, 0, -1].
SCORES = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
ONES = np.ones((1, 4))


def _metrics(margin: list[float]) -> dict[str, float]:
    return {k: float(v[0]) for k, v in two_model_metrics(np.array(margin), SCORES, ONES).items()}


def test_oracle_ordering() -> None:
    m = _metrics([1.0, 1.0, 0.0, -1.0])
    # Curve vertices (0, .5) (.5, 1) (.75, 1) (1, .75): AUC = .375 + .25 + .21875.
    assert m["auc"] == pytest.approx(0.84375)
    assert m["apgr"] == pytest.approx((0.84375 - 0.5) / 0.25)
    assert m["cpt50"] == pytest.approx(0.125)  # quality .625 reached a quarter of the way up the first block
    assert m["cpt80"] == pytest.approx(0.2)


def test_constant_prediction_is_random_in_expectation() -> None:
    m = _metrics([0.3, 0.3, 0.3, 0.3])  # one tied block: the straight line from weak to strong
    assert m["auc"] == pytest.approx(0.625)
    assert m["apgr"] == pytest.approx(0.5)
    assert m["cpt50"] == pytest.approx(0.5)
    assert m["cpt80"] == pytest.approx(0.8)


def test_reversed_ordering() -> None:
    m = _metrics([-1.0, -1.0, 0.0, 1.0])
    assert m["auc"] == pytest.approx(0.09375 + 0.0625 + 0.25)
    assert m["apgr"] == pytest.approx((0.40625 - 0.5) / 0.25)


def test_curve_vertices_follow_tie_blocks() -> None:
    x, y = two_model_curve(np.array([1.0, 1.0, 0.0, -1.0]), SCORES, ONES)
    np.testing.assert_allclose(x[0], [0.0, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(y[0], [0.5, 1.0, 1.0, 0.75])


def test_random_router_scores_about_half_on_a_large_table() -> None:
    rng = np.random.default_rng(0)
    scores = (rng.random((20_000, 2)) < [0.8, 0.6]).astype(float)
    apgr = two_model_metrics(rng.random(20_000), scores, np.ones((1, 20_000)))["apgr"][0]
    assert apgr == pytest.approx(0.5, abs=0.03)


@settings(max_examples=40, deadline=None)
@given(
    gains=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 3), st.integers(0, 2)),
        min_size=2,
        max_size=12,
    )
)
def test_weights_equal_repetition(gains: list[tuple[int, int, int, int]]) -> None:
    scores = np.array([[s, w] for s, w, _, _ in gains], dtype=float)
    margin = np.array([m for _, _, m, _ in gains], dtype=float)
    weights = np.array([c for _, _, _, c in gains], dtype=float)
    if weights.sum() == 0:
        return
    repeat = np.repeat(np.arange(len(gains)), weights.astype(int))
    weighted = two_model_metrics(margin, scores, weights[None, :])
    expanded = two_model_metrics(margin[repeat], scores[repeat], np.ones((1, len(repeat))))
    for key in ("auc", "apgr", "cpt50", "cpt80"):
        np.testing.assert_allclose(weighted[key], expanded[key], equal_nan=True)


def test_upper_hull_area_and_cost_to_reach() -> None:
    c, q = upper_hull(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 0.6, 0.9, 0.8]))
    np.testing.assert_allclose(c, [1.0, 3.0])
    np.testing.assert_allclose(q, [0.5, 0.9])
    assert area_normalised(c, q, 1.0, 4.0) == pytest.approx((2 * 0.7 + 0.9) / 3)
    assert area_normalised(c, q, 0.0, 1.0) == pytest.approx(0.0)  # nothing is reachable below cost 1
    assert cost_to_reach(c, q, 0.7) == pytest.approx(2.0)
    assert np.isnan(cost_to_reach(c, q, 0.95))


def _three_models() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    scores = (rng.random((400, 3)) < [0.5, 0.6, 0.7]).astype(float)
    costs = np.tile([1.0, 2.0, 10.0], (400, 1))
    return scores, costs


def test_oracle_and_best_single_bound_the_gap() -> None:
    scores, costs = _three_models()
    baselines = baseline_predictions(scores, costs)
    oracle = many_model_metrics(baselines["oracle"], scores, costs, np.ones((1, 400)))
    best = many_model_metrics(baselines["best_single"], scores, costs, np.ones((1, 400)))
    assert oracle["oracle_gap_closed"][0] == pytest.approx(1.0)
    assert oracle["best_quality"][0] == pytest.approx(scores.max(axis=1).mean())
    assert best["oracle_gap_closed"][0] == pytest.approx(0.0)
    assert best["cost_share_to_match_best"][0] == pytest.approx(1.0)
    assert oracle["aiq"][0] > best["aiq"][0]


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    scores, costs = _three_models()
    predicted = baseline_predictions(scores, costs)["oracle"]
    a = summarise(metric_samples(predicted, scores, costs, sample_weights(400, 200, seed=5)))
    b = summarise(metric_samples(predicted, scores, costs, sample_weights(400, 200, seed=5)))
    assert a == b
    assert a["aiq"].low <= a["aiq"].estimate <= a["aiq"].high


def test_routing_score_prefers_the_better_ranking() -> None:
    costs = np.tile([5.0, 1.0], (4, 1))
    good = routing_score(np.array([[1.0, 0.0], [1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]), SCORES, costs)
    bad = routing_score(np.array([[0.0, 1.0], [0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]), SCORES, costs)
    assert good > 1.0 > bad
