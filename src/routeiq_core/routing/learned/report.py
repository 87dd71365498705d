"""Evaluation reports: every metric with a seeded bootstrap 95% interval, baselines, curves, CV folds.

Metric samples are arrays whose row 0 is the point estimate and rows 1.. are bootstrap replicates
(prompts resampled with replacement, the same resamples for every router so comparisons are paired).
Cross-validation averages the folds' samples row by row: the interval is that of the fold mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
import numpy as np

from routeiq_core.routing.learned.evaluate import (
    FloatArray,
    bootstrap_weights,
    lambda_grid,
    many_model_metrics,
    operating_points,
    singles_hull_aiq,
    strong_weak,
    two_model_curve,
    two_model_metrics,
    upper_hull,
)

Samples = dict[str, FloatArray]


class Interval(msgspec.Struct, frozen=True, kw_only=True):
    """A point estimate with its bootstrap 95% interval (NaN when undefined)."""

    estimate: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.estimate:.4g} [{self.low:.4g}, {self.high:.4g}]"


class RouterReport(msgspec.Struct, frozen=True, kw_only=True):
    """Metrics of one router (or baseline) on one table.

    Attributes:
        name: Router or baseline name.
        metrics: Metric name -> interval (two-model metrics only for two-model tables).
        strong_share_curve: ``(strong share, quality)`` at 0%, 1%, ..., 100% (two-model tables).
        cost_quality_curve: ``(mean cost, mean quality)`` hull vertices of the lambda sweep.
        versus_baseline: Paired difference ``this - baseline`` per metric over the same bootstrap
            resamples (trained routers in a cross-validation or holdout run, against ``best_per_task``).
        baseline: The baseline of :attr:`versus_baseline` (empty when there is none).
    """

    name: str
    metrics: dict[str, Interval]
    strong_share_curve: tuple[tuple[float, float], ...] = ()
    cost_quality_curve: tuple[tuple[float, float], ...] = ()
    versus_baseline: dict[str, Interval] = msgspec.field(default_factory=dict)
    baseline: str = ""


class SingleModel(msgspec.Struct, frozen=True, kw_only=True):
    """One model called for every prompt."""

    model: str
    quality: float
    cost: float


class EvaluationReport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything ``routeiq eval`` reports.

    Attributes:
        table: Source of the evaluated table.
        prompts: Rows evaluated (over all folds for cross-validation).
        models: Model names.
        singles: Each model alone.
        oracle_quality: Quality of always picking the best model per prompt.
        singles_hull_aiq: AIQ of mixing whole models at random (the singles' hull).
        bootstrap_rounds: Bootstrap resamples behind every interval.
        folds: Cross-validation folds (1: a single evaluation).
        routers: One report per router and baseline.
    """

    table: str
    prompts: int
    models: tuple[str, ...]
    singles: tuple[SingleModel, ...]
    oracle_quality: float
    singles_hull_aiq: float
    bootstrap_rounds: int
    folds: int
    routers: tuple[RouterReport, ...]


def metric_samples(
    predicted: FloatArray, scores: FloatArray, costs: FloatArray, weights: FloatArray
) -> Samples:
    """Every metric for each weight row (row 0 should be all ones: the point estimate)."""
    out: Samples = dict(many_model_metrics(predicted, scores, costs, weights))
    if scores.shape[1] == 2:
        strong, weak = strong_weak(scores)
        margin = predicted[:, strong] - predicted[:, weak]
        out.update(two_model_metrics(margin, scores[:, [strong, weak]], weights))
    return out


def sample_weights(n: int, rounds: int, seed: int) -> FloatArray:
    """Row of ones followed by ``rounds`` bootstrap resamples."""
    return (
        np.concatenate([np.ones((1, n)), bootstrap_weights(n, rounds, seed)]) if rounds else np.ones((1, n))
    )


def summarise(samples: Samples) -> dict[str, Interval]:
    """Point estimate (row 0) and the 2.5th/97.5th percentiles of the replicates per metric."""
    out = {}
    for name, values in samples.items():
        replicates = values[1:][np.isfinite(values[1:])]
        low, high = np.percentile(replicates, [2.5, 97.5]) if len(replicates) else (np.nan, np.nan)
        out[name] = Interval(estimate=float(values[0]), low=float(low), high=float(high))
    return out


def mean_samples(folds: Sequence[Samples]) -> Samples:
    """Row-wise mean over folds of each metric's samples."""
    return {name: np.mean([f[name] for f in folds], axis=0) for name in folds[0]}


def curves(
    predicted: FloatArray, scores: FloatArray, costs: FloatArray
) -> tuple[tuple[tuple[float, float], ...], tuple[tuple[float, float], ...]]:
    """Point-estimate curves: (strong share, quality) for two models and the (cost, quality) hull."""
    ones = np.ones((1, len(scores)))
    share_curve: tuple[tuple[float, float], ...] = ()
    if scores.shape[1] == 2:
        strong, weak = strong_weak(scores)
        x, y = two_model_curve(predicted[:, strong] - predicted[:, weak], scores[:, [strong, weak]], ones)
        grid = np.linspace(0.0, 1.0, 101)
        share_curve = tuple(zip(grid.tolist(), np.interp(grid, x[0], y[0]).tolist(), strict=True))
    point_q, point_c = operating_points(predicted, scores, costs, lambda_grid(predicted, costs))
    hull_c, hull_q = upper_hull(point_c.mean(axis=1), point_q.mean(axis=1))
    return share_curve, tuple(zip(hull_c.tolist(), hull_q.tolist(), strict=True))


def router_report(
    name: str,
    predicted: FloatArray,
    scores: FloatArray,
    costs: FloatArray,
    samples: Samples,
    baseline: tuple[str, Samples] | None = None,
) -> RouterReport:
    """Assemble a :class:`RouterReport` from samples plus the point-estimate curves.

    With ``baseline`` (name, samples on the same resamples), also the paired differences.
    """
    share_curve, cost_curve = curves(predicted, scores, costs)
    versus: dict[str, Interval] = {}
    if baseline is not None:
        versus = summarise({k: samples[k] - baseline[1][k] for k in samples if k in baseline[1]})
    return RouterReport(
        name=name,
        metrics=summarise(samples),
        strong_share_curve=share_curve,
        cost_quality_curve=cost_curve,
        versus_baseline=versus,
        baseline=baseline[0] if baseline is not None else "",
    )


def baseline_predictions(scores: FloatArray, costs: FloatArray, seed: int = 0) -> Mapping[str, FloatArray]:
    """Prediction matrices whose routing reproduces the standard baselines on this table.

    ``random`` (uniform noise: a random model at lambda 0, cheaper ones as lambda grows), ``cheapest``
    (constant: every decision falls to the cheaper model), ``best_single`` (the model with the highest
    mean score, always) and ``oracle`` (the true scores).
    """
    n, m = scores.shape
    best = np.zeros((n, m))
    best[:, int(np.argmax(scores.mean(axis=0)))] = 1.0
    return {
        "random": np.random.default_rng(seed).random((n, m)),
        "cheapest": np.zeros((n, m)),
        "best_single": best,
        "oracle": scores.astype(np.float64),
    }


def table_summary(
    models: tuple[str, ...], scores: FloatArray, costs: FloatArray
) -> tuple[tuple[SingleModel, ...], float, float]:
    """Each model alone, the oracle quality and the AIQ of the singles' hull."""
    singles = tuple(
        SingleModel(model=m, quality=float(scores[:, j].mean()), cost=float(costs[:, j].mean()))
        for j, m in enumerate(models)
    )
    return singles, float(scores.max(axis=1).mean()), singles_hull_aiq(scores, costs)
