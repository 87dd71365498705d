"""`routeiq eval --plot`: every element the chart must show, for two and for many models."""

from __future__ import annotations

from pathlib import Path

import pytest

from routeiq_app.cli_plot import plot_report, random_line
from routeiq_core.routing.learned.report import EvaluationReport, Interval, RouterReport, SingleModel

pytest.importorskip("matplotlib")


def report(
    models: tuple[str, ...], singles: tuple[SingleModel, ...], routers: tuple[RouterReport, ...]
) -> EvaluationReport:
    return EvaluationReport(
        table="/data/math-2model.jsonl",
        prompts=100,
        models=models,
        singles=singles,
        oracle_quality=0.9,
        singles_hull_aiq=0.5,
        bootstrap_rounds=10,
        folds=5,
        routers=routers,
    )


def test_two_models_show_router_baselines_random_singles_and_oracle(tmp_path: Path) -> None:
    curve = ((0.0, 0.5), (0.5, 0.75), (1.0, 0.8))
    found = report(
        ("weak", "strong"),
        (
            SingleModel(model="weak", quality=0.5, cost=0.001),
            SingleModel(model="strong", quality=0.8, cost=0.01),
        ),
        (
            RouterReport(
                name="knn",
                metrics={"apgr": Interval(estimate=0.6, low=0.5, high=0.7)},
                strong_share_curve=curve,
            ),
            RouterReport(name="best_single", metrics={}, strong_share_curve=((0.0, 0.8), (1.0, 0.8))),
        ),
    )
    labels = plot_report(found, tmp_path / "plot.png", "knn")
    assert labels == ["knn", "best_single", "random", "oracle quality"]
    assert (tmp_path / "plot.png").stat().st_size > 10_000
    assert random_line(found) == [(0.0, 0.5), (1.0, 0.8)]


def test_many_models_draw_the_singles_upper_hull_as_the_random_line(tmp_path: Path) -> None:
    singles = (
        SingleModel(model="a", quality=0.4, cost=0.001),
        SingleModel(model="b", quality=0.5, cost=0.01),  # under the a-c segment: off the hull
        SingleModel(model="c", quality=0.8, cost=0.02),
        SingleModel(model="d", quality=0.7, cost=0.05),  # dominated by c
    )
    found = report(
        ("a", "b", "c", "d"),
        singles,
        (RouterReport(name="mlp", metrics={}, cost_quality_curve=((0.001, 0.4), (0.01, 0.7), (0.02, 0.85))),),
    )
    assert random_line(found) == [(0.001, 0.4), (0.02, 0.8)]
    assert plot_report(found, tmp_path / "p.png", "mlp") == ["mlp", "random", "oracle quality"]
