"""Offline routing metrics, as defined by RouteLLM (two models) and RouterBench (many models).

Two models (strong = higher mean score on the evaluated table, weak = the other): prompts are sent to
the strong model in decreasing order of the predicted margin ``q_strong - q_weak``. Tied margins
cannot be separated by any threshold, so a tied block contributes linearly (the expected curve of a
random tie-break). The curve gives quality as a function of the share of strong calls; its area is the
AUC, ``APGR = (AUC - weak) / (strong - weak)`` and ``CPT(x)`` is the smallest strong share whose
quality recovers ``x`` of the weak-to-strong gap.

Many models: ``argmax(q - lambda * cost)`` is swept over lambda, giving (mean cost, mean quality)
points. Their non-decreasing upper convex hull (mixing two operating points at random reaches any
point between them) gives AIQ, the hull's mean height over the cost range of the single models; the
best quality reached; the cost at which the hull reaches the best single model's quality; and the
share of the best-single-to-oracle gap the router closes.

Every metric is computed for a matrix of prompt weights at once, so the point estimate (weights of
one) and a seeded bootstrap (multinomial weights: prompts resampled with replacement) share one code
path.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.router import decide_batch

FloatArray = npt.NDArray[np.float64]
_LAMBDA_POINTS = 160


def strong_weak(scores: FloatArray) -> tuple[int, int]:
    """Column indices (strong, weak) of a two-model score matrix: strong has the higher mean score."""
    means = scores.mean(axis=0)
    strong = int(np.argmax(means))
    return strong, 1 - strong


def bootstrap_weights(n: int, rounds: int, seed: int) -> FloatArray:
    """``(rounds, n)`` multinomial counts: each row resamples ``n`` prompts with replacement."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=rounds).astype(np.float64)


def two_model_curve(
    margin: FloatArray, scores: FloatArray, weights: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Vertices of the quality-vs-strong-share curve for each weight row.

    Args:
        margin: Predicted ``q_strong - q_weak`` per prompt, ``(n,)``.
        scores: True ``(n, 2)`` scores, columns (strong, weak) as given by :func:`strong_weak`.
        weights: ``(b, n)`` prompt weights.

    Returns:
        ``(x, y)``, each ``(b, blocks + 1)``: strong share and mean quality at each tie-block end.
    """
    order = np.argsort(-margin, kind="stable")
    sorted_margin = margin[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_margin[1:] != sorted_margin[:-1])))
    w = weights[:, order]
    gain = (scores[:, 0] - scores[:, 1])[order]
    total = w.sum(axis=1, keepdims=True)
    weak = (w @ scores[order, 1])[:, None] / total
    block_w = np.add.reduceat(w, starts, axis=1) / total
    block_g = np.add.reduceat(w * gain, starts, axis=1) / total
    zero = np.zeros((len(w), 1))
    x = np.concatenate([zero, np.cumsum(block_w, axis=1)], axis=1)
    y = weak + np.concatenate([zero, np.cumsum(block_g, axis=1)], axis=1)
    return x, y


def curve_auc(x: FloatArray, y: FloatArray) -> FloatArray:
    """Trapezoid area under piecewise-linear curves, row-wise."""
    return np.asarray(((y[:, 1:] + y[:, :-1]) * np.diff(x, axis=1)).sum(axis=1) / 2.0, dtype=np.float64)


def first_crossing(x: FloatArray, y: FloatArray, target: FloatArray) -> FloatArray:
    """Smallest ``x`` where the piecewise-linear ``y(x)`` reaches ``target`` (row-wise; NaN if never)."""
    reached = y >= target[:, None]
    j = reached.argmax(axis=1)
    ok = reached[np.arange(len(y)), j]
    prev = np.maximum(j - 1, 0)
    x0, x1 = np.take_along_axis(x, prev[:, None], 1)[:, 0], np.take_along_axis(x, j[:, None], 1)[:, 0]
    y0, y1 = np.take_along_axis(y, prev[:, None], 1)[:, 0], np.take_along_axis(y, j[:, None], 1)[:, 0]
    rise = y1 - y0
    frac = np.divide(target - y0, rise, out=np.zeros_like(rise), where=rise > 0)
    at = np.where(j == 0, x[:, 0], x0 + np.clip(frac, 0.0, 1.0) * (x1 - x0))
    return np.where(ok, at, np.nan)


def two_model_metrics(
    margin: FloatArray, scores: FloatArray, weights: FloatArray, cpt_levels: tuple[float, ...] = (0.5, 0.8)
) -> dict[str, FloatArray]:
    """AUC, APGR and CPT per weight row (see the module docstring); ``scores`` columns are (strong, weak)."""
    x, y = two_model_curve(margin, scores, weights)
    total = weights.sum(axis=1)
    strong_q, weak_q = weights @ scores[:, 0] / total, weights @ scores[:, 1] / total
    auc = curve_auc(x, y)
    gap = strong_q - weak_q
    safe_gap = np.where(gap != 0, gap, np.nan)
    out = {"auc": auc, "apgr": (auc - weak_q) / safe_gap, "strong_quality": strong_q, "weak_quality": weak_q}
    for level in cpt_levels:
        crossing = first_crossing(x, y, weak_q + level * gap)
        out[f"cpt{round(level * 100)}"] = np.where(gap > 0, crossing, np.nan)
    return out


def lambda_grid(predicted: FloatArray, costs: FloatArray, points: int = _LAMBDA_POINTS) -> FloatArray:
    """Cost weights at which decisions change, from 0 to past the last switch to the cheapest model.

    Quantiles of the per-prompt break-even weights ``(q_a - q_b) / (c_a - c_b)`` over model pairs.
    """
    dq = predicted[:, :, None] - predicted[:, None, :]
    dc = costs[:, :, None] - costs[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = dq / dc
    breaks = ratio[(dc > 0) & (dq > 0) & np.isfinite(ratio)]
    if breaks.size == 0:
        return np.array([0.0, 1.0])
    inner = np.quantile(breaks, np.linspace(0.0, 1.0, points))
    return np.unique(np.concatenate([[0.0], inner * 0.999, [breaks.max() * 2.0 + 1e-12]]))


def operating_points(
    predicted: FloatArray, scores: FloatArray, costs: FloatArray, lambdas: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-prompt (quality, cost) of the chosen model for each lambda: two ``(len(lambdas), n)`` arrays."""
    rows = np.arange(len(scores))
    quality = np.empty((len(lambdas), len(scores)))
    cost = np.empty_like(quality)
    for i, lam in enumerate(lambdas):
        choice = decide_batch(predicted, costs, float(lam))
        quality[i], cost[i] = scores[rows, choice], costs[rows, choice]
    return quality, cost


def upper_hull(cost: FloatArray, quality: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Vertices of the non-decreasing upper convex hull of (cost, quality) points, by increasing cost."""
    order = np.lexsort((-quality, cost))
    hull: list[tuple[float, float]] = []
    for c, q in zip(cost[order].tolist(), quality[order].tolist(), strict=True):
        if hull and c == hull[-1][0]:
            continue  # same cost, lower quality (sorted by quality descending within a cost)
        while len(hull) >= 2:
            (c1, q1), (c2, q2) = hull[-2], hull[-1]
            if (q2 - q1) * (c - c1) <= (q - q1) * (c2 - c1):
                hull.pop()
            else:
                break
        hull.append((c, q))
    points = np.array(hull)
    peak = int(np.argmax(points[:, 1]))
    return points[: peak + 1, 0], points[: peak + 1, 1]


def hull_value(hull_c: FloatArray, hull_q: FloatArray, at: FloatArray) -> FloatArray:
    """Hull quality at costs ``at``: 0 below its cheapest point, flat after its best point."""
    value = np.interp(at, hull_c, hull_q)
    return np.where(at < hull_c[0], 0.0, value)


def area_normalised(hull_c: FloatArray, hull_q: FloatArray, low: float, high: float) -> float:
    """Mean hull height over ``[low, high]`` (AIQ); the hull counts as 0 below its cheapest point."""
    if high <= low:
        return float(hull_value(hull_c, hull_q, np.array([high]))[0])
    start = max(low, float(hull_c[0]))
    if start >= high:
        return 0.0
    xs = np.concatenate([[start], hull_c[(hull_c > start) & (hull_c < high)], [high]])
    ys = np.interp(xs, hull_c, hull_q)
    return float(np.sum((ys[1:] + ys[:-1]) * np.diff(xs)) / 2.0 / (high - low))


def cost_to_reach(hull_c: FloatArray, hull_q: FloatArray, target: float) -> float:
    """Smallest cost at which the hull reaches ``target`` quality (NaN if it never does)."""
    if hull_q[-1] < target:
        return float("nan")
    j = int(np.argmax(hull_q >= target))
    if j == 0:
        return float(hull_c[0])
    frac = (target - hull_q[j - 1]) / (hull_q[j] - hull_q[j - 1])
    return float(hull_c[j - 1] + frac * (hull_c[j] - hull_c[j - 1]))


def many_model_metrics(
    predicted: FloatArray, scores: FloatArray, costs: FloatArray, weights: FloatArray
) -> dict[str, FloatArray]:
    """AIQ, best quality, cost to match the best single model and oracle gap closed, per weight row."""
    lambdas = lambda_grid(predicted, costs)
    point_q, point_c = operating_points(predicted, scores, costs, lambdas)
    total = weights.sum(axis=1)
    curve_q = (point_q @ weights.T) / total  # (lambdas, b)
    curve_c = (point_c @ weights.T) / total
    single_q = (weights @ scores) / total[:, None]  # (b, m)
    single_c = (weights @ costs) / total[:, None]
    oracle = weights @ scores.max(axis=1) / total
    keys = ("aiq", "best_quality", "cost_to_match_best", "cost_share_to_match_best", "oracle_gap_closed")
    out = {k: np.empty(len(weights)) for k in keys}
    out["quality_at_zero"], out["cost_at_zero"] = curve_q[0], curve_c[0]  # lambdas[0] == 0
    for b in range(len(weights)):
        hull_c, hull_q = upper_hull(curve_c[:, b], curve_q[:, b])
        best_single = int(np.argmax(single_q[b]))
        target = single_q[b, best_single]
        out["aiq"][b] = area_normalised(hull_c, hull_q, single_c[b].min(), single_c[b].max())
        out["best_quality"][b] = hull_q.max()
        out["cost_to_match_best"][b] = cost_to_reach(hull_c, hull_q, target)
        out["cost_share_to_match_best"][b] = out["cost_to_match_best"][b] / single_c[b, best_single]
        gap = oracle[b] - target
        out["oracle_gap_closed"][b] = (hull_q.max() - target) / gap if gap > 0 else np.nan
    return out


def singles_hull_aiq(scores: FloatArray, costs: FloatArray) -> float:
    """AIQ of the hull of the single models (mixing whole models at random)."""
    q, c = scores.mean(axis=0), costs.mean(axis=0)
    hull_c, hull_q = upper_hull(c, q)
    return area_normalised(hull_c, hull_q, float(c.min()), float(c.max()))


def routing_score(predicted: FloatArray, scores: FloatArray, costs: FloatArray) -> float:
    """One number to tune hyperparameters by: APGR for two models, AIQ for more (higher is better)."""
    ones = np.ones((1, len(scores)))
    if scores.shape[1] == 2:
        strong, weak = strong_weak(scores)
        margin = predicted[:, strong] - predicted[:, weak]
        value = two_model_metrics(margin, scores[:, [strong, weak]], ones, cpt_levels=())["apgr"][0]
    else:
        value = many_model_metrics(predicted, scores, costs, ones)["aiq"][0]
    return float(value) if np.isfinite(value) else float("-inf")
