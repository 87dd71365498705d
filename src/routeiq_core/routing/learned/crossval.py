"""Evaluate router kinds against the baselines on held-out prompts: k-fold CV or one seeded split.

Per fold, the hashing embedder (IDF) and every router are fitted on the fold's training part only
(hyperparameters are tuned inside it), then all routers and baselines are scored on the fold's test
part with the same bootstrap resamples. A ready embedder that learns nothing from the table (a
sentence-transformers model, an embeddings API) embeds the whole table once instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from routeiq_core.routing.learned.best_per_task import train_best_per_task, true_task_means
from routeiq_core.routing.learned.data import IntArray, RoutingTable, k_fold, train_test_split
from routeiq_core.routing.learned.embedding import Embedder, F32Array, HashingEmbedder, HashingEmbedderConfig
from routeiq_core.routing.learned.evaluate import FloatArray
from routeiq_core.routing.learned.progress import Progress, step
from routeiq_core.routing.learned.report import (
    EvaluationReport,
    RouterReport,
    Samples,
    baseline_predictions,
    mean_samples,
    metric_samples,
    router_report,
    sample_weights,
    summarise,
    table_summary,
)
from routeiq_core.routing.learned.router import TrainingData
from routeiq_core.routing.learned.train import canonical_kind, embed_all, train_router, training_data
from routeiq_core.routing.learned.vector_index import IndexFactory, numpy_index_factory

PredictionSink = Callable[[str, IntArray, FloatArray], None]


def _fold_data(
    table: RoutingTable,
    rows: tuple[IntArray, IntArray],
    embedder_config: HashingEmbedderConfig | None,
    embedded: F32Array | None,
) -> tuple[TrainingData, TrainingData]:
    """The fold's training and test data: sliced from ``embedded``, or with a hashing embedder fitted here."""
    if embedded is not None:
        whole = TrainingData(
            embeddings=embedded,
            scores=table.scores,
            costs=table.costs,
            tasks=table.tasks,
            models=table.models,
        )
        return whole.subset(rows[0]), whole.subset(rows[1])
    train, test = table.subset(rows[0]), table.subset(rows[1])
    embedder = HashingEmbedder(embedder_config).fit(train.prompts)
    return training_data(train, embedder), training_data(test, embedder)


def _fold_predictions(
    train_data: TrainingData,
    test_data: TrainingData,
    kinds: Sequence[str],
    index_factory: IndexFactory,
    seed: int,
    report: Progress,
) -> dict[str, FloatArray]:
    predictions = dict(baseline_predictions(test_data.scores, test_data.costs, seed))
    if len(set(train_data.tasks)) > 1:
        bpt = train_best_per_task(train_data, temperature=0.0, classifier="centroid")
        predictions["best_per_task"] = bpt.predict(test_data.embeddings)
        predictions["true_task"] = true_task_means(train_data, test_data)
    for kind in kinds:
        report(f"training {kind} on {len(train_data)} prompts")
        router = train_router(kind, train_data, index_factory=index_factory, seed=seed)
        predictions[f"router:{kind}"] = router.predict(test_data.embeddings)
    return predictions


def evaluate_kinds(
    table: RoutingTable,
    kinds: Sequence[str],
    *,
    folds: int | None = 5,
    test_fraction: float = 0.2,
    seed: int = 0,
    bootstrap_rounds: int = 1000,
    embedder_config: HashingEmbedderConfig | None = None,
    embedder: Embedder | None = None,
    index_factory: IndexFactory = numpy_index_factory,
    source: str = "<table>",
    progress: Progress | None = None,
    on_predictions: PredictionSink | None = None,
) -> EvaluationReport:
    """Cross-validate (``folds``) or hold out ``test_fraction`` (``folds=None``) every router kind.

    Returns:
        Reports for each ``router:<kind>`` and the baselines ``random``, ``cheapest``, ``best_single``,
        ``best_per_task`` (when the table has tasks) and ``oracle``; metrics are fold means with
        bootstrap intervals. ``on_predictions(name, test_rows, predicted)`` receives every fold's
        held-out predictions. With ``embedder`` (one that learns nothing from the table), every
        prompt is embedded once with it; otherwise a hashing embedder (``embedder_config``) is fitted
        per fold on that fold's training prompts.
    """
    report = progress or (lambda _msg: None)
    kinds = [canonical_kind(k) for k in kinds]
    splits = (
        k_fold(len(table), folds, seed=seed)
        if folds
        else [train_test_split(len(table), test_fraction=test_fraction, seed=seed)]
    )
    embedded = None
    if embedder is not None:
        report(f"embedding {len(table)} prompts")
        embedded = embed_all(embedder, table.prompts, progress)
    per_fold: dict[str, list[Samples]] = {}
    pooled: dict[str, list[FloatArray]] = {}
    test_order: list[IntArray] = []
    began = time.monotonic()
    for number, (train_rows, test_rows) in enumerate(splits, start=1):
        report(
            step(
                f"fold {number}: {len(train_rows)} training, {len(test_rows)} test prompts",
                number - 1,
                len(splits),
                began,
            )
        )
        train_data, test_data = _fold_data(table, (train_rows, test_rows), embedder_config, embedded)
        predictions = _fold_predictions(train_data, test_data, kinds, index_factory, seed, report)
        scores, costs = table.scores[test_rows], table.costs[test_rows]
        weights = sample_weights(len(test_rows), bootstrap_rounds, seed + number)
        for name, predicted in predictions.items():
            per_fold.setdefault(name, []).append(metric_samples(predicted, scores, costs, weights))
            pooled.setdefault(name, []).append(predicted)
            if on_predictions is not None:
                on_predictions(name, test_rows, predicted)
        test_order.append(test_rows)
    rows = np.concatenate(test_order)
    scores, costs = table.scores[rows], table.costs[rows]
    merged = {name: mean_samples(samples) for name, samples in per_fold.items()}
    reference = ("best_per_task", merged["best_per_task"]) if "best_per_task" in merged else None
    routers = [
        router_report(
            name,
            np.concatenate(pooled[name]),
            scores,
            costs,
            samples,
            reference if name.startswith("router:") else None,
        )
        for name, samples in merged.items()
    ]
    singles, oracle, hull = table_summary(table.models, scores, costs)
    return EvaluationReport(
        table=source,
        prompts=len(rows),
        models=table.models,
        singles=singles,
        oracle_quality=oracle,
        singles_hull_aiq=hull,
        bootstrap_rounds=bootstrap_rounds,
        folds=len(splits),
        routers=tuple(routers),
    )


def evaluate_predictions(
    name: str, predicted: FloatArray, table: RoutingTable, *, bootstrap_rounds: int = 1000, seed: int = 0
) -> RouterReport:
    """Report one router's predictions on ``table`` (for an already trained router)."""
    weights = sample_weights(len(table), bootstrap_rounds, seed)
    samples = metric_samples(predicted, table.scores, table.costs, weights)
    return router_report(name, predicted, table.scores, table.costs, samples)


def evaluate_with_baselines(
    name: str,
    predicted: FloatArray,
    table: RoutingTable,
    *,
    bootstrap_rounds: int = 1000,
    seed: int = 0,
    source: str = "",
) -> EvaluationReport:
    """:func:`evaluate_predictions` plus the baselines that need no training, on the same resamples."""
    weights = sample_weights(len(table), bootstrap_rounds, seed)
    predictions = {name: predicted, **baseline_predictions(table.scores, table.costs, seed)}
    routers = tuple(
        RouterReport(name=n, metrics=summarise(metric_samples(p, table.scores, table.costs, weights)))
        if n != name
        else router_report(
            n, p, table.scores, table.costs, metric_samples(p, table.scores, table.costs, weights)
        )
        for n, p in predictions.items()
    )
    singles, oracle, hull = table_summary(table.models, table.scores, table.costs)
    return EvaluationReport(
        table=source or "<table>",
        prompts=len(table),
        models=table.models,
        singles=singles,
        oracle_quality=oracle,
        singles_hull_aiq=hull,
        bootstrap_rounds=bootstrap_rounds,
        folds=1,
        routers=routers,
    )
