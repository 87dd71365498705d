"""``--strategy auto``: choose the router by inner cross-validation on the training table, then train it.

1. Dominated models (worse and no cheaper on the training table, see :mod:`.dominance`) are dropped.
2. Every prompt is embedded once per embedder (the hashing embedder's IDF is fitted on the training
   prompts: it reads no outcome, so the inner folds stay honest), prompt features are computed once.
3. On each inner fold, the task prior (it reads outcomes) is fitted on the fold's training part only,
   every candidate of :func:`.selection.default_grid` (or a given grid) is trained there and scored
   on the fold's held-out part with the routing metric (APGR for two models, AIQ for more).
4. :func:`.selection.choose` keeps the baseline unless a candidate beats it (see that module); the
   winner is retrained on the whole table and the :class:`.selection.SelectionReport` is saved in
   the artifact's metadata.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import msgspec
import numpy as np

from routeiq_core.routing.learned.auto_fit import (
    FEATURE_WEIGHT,
    PRIOR_WEIGHT,
    fit_candidate,
    has_tasks,
)
from routeiq_core.routing.learned.data import IntArray, RoutingTable, k_fold
from routeiq_core.routing.learned.dominance import drop_dominated
from routeiq_core.routing.learned.embedding import Embedder, F32Array, HashingEmbedder, HashingEmbedderConfig
from routeiq_core.routing.learned.evaluate import routing_score
from routeiq_core.routing.learned.features import (
    FEATURE_NAMES,
    TaskPrior,
    augment,
    block_scale,
    prompt_features,
)
from routeiq_core.routing.learned.pipeline import RoutingModel
from routeiq_core.routing.learned.progress import Progress, step
from routeiq_core.routing.learned.router import TrainingData
from routeiq_core.routing.learned.selection import (
    BASELINE,
    DEFAULT_MARGIN,
    Candidate,
    SelectionReport,
    choose,
    default_grid,
    score_candidates,
)
from routeiq_core.routing.learned.train import embed_all, train_router
from routeiq_core.routing.learned.vector_index import IndexFactory, numpy_index_factory


class _Inputs:
    """Per-embedder vectors of the whole table, the raw prompt features, built once."""

    def __init__(
        self,
        table: RoutingTable,
        embedders: Mapping[str, Embedder],
        needs_features: bool,
        report: Progress,
    ) -> None:
        self.table, self.tasks = table, has_tasks(table)
        self.vectors: dict[str, F32Array] = {}
        for name, embedder in embedders.items():
            report(f"embedding {len(table)} prompts with {name}")
            self.vectors[name] = embed_all(embedder, table.prompts, report)
        self.features = prompt_features(table.prompts) if needs_features else None

    def matrix(self, embedder: str, features: bool, train_rows: IntArray) -> F32Array:
        """The router input for every row, extra columns standardised on ``train_rows`` only."""
        vectors = self.vectors[embedder]
        if not features or self.features is None:
            return vectors
        blocks = [self.features]
        sizes = [(len(FEATURE_NAMES), FEATURE_WEIGHT)]
        if self.tasks:
            prior = TaskPrior.fit(
                vectors[train_rows],
                [self.table.tasks[i] for i in train_rows],
                self.table.scores[train_rows],
            )
            blocks.append(prior.predict(vectors))
            sizes.append((len(self.table.models), PRIOR_WEIGHT))
        extra = np.hstack(blocks)
        mean, scale = block_scale(extra[train_rows], sizes)
        return augment(vectors, extra, mean, scale)


def _data(table: RoutingTable, x: F32Array, rows: IntArray) -> TrainingData:
    return TrainingData(
        embeddings=x[rows],
        scores=table.scores[rows],
        costs=table.costs[rows],
        tasks=tuple(table.tasks[i] for i in rows),
        models=table.models,
    )


def _fit_score(
    cand: Candidate, train: TrainingData, test: TrainingData, index_factory: IndexFactory, seed: int
) -> float:
    router = train_router(cand.kind, train, index_factory=index_factory, seed=seed, **dict(cand.hyper))
    return routing_score(router.predict(test.embeddings), test.scores, test.costs)


def inner_scores(
    table: RoutingTable,
    candidates: Sequence[Candidate],
    embedders: Mapping[str, Embedder],
    *,
    folds: int = 3,
    seed: int = 0,
    index_factory: IndexFactory = numpy_index_factory,
    progress: Progress | None = None,
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Each candidate's routing metric on each of ``folds`` inner folds, and its total fitting time."""
    report = progress or (lambda _msg: None)
    inputs = _Inputs(table, embedders, any(c.features for c in candidates), report)
    scores: dict[str, list[float]] = {c.name: [] for c in candidates}
    seconds: dict[str, float] = dict.fromkeys(scores, 0.0)
    splits = k_fold(len(table), folds, seed=seed)
    total, done, started = len(splits) * len(candidates), 0, time.monotonic()
    for number, (train_rows, test_rows) in enumerate(splits, start=1):
        cache: dict[tuple[str, bool], F32Array] = {}
        for cand in candidates:
            began = time.monotonic()
            key = (cand.embedder, cand.features)
            if key not in cache:
                cache[key] = inputs.matrix(cand.embedder, cand.features, train_rows)
            x = cache[key]
            value = _fit_score(
                cand, _data(table, x, train_rows), _data(table, x, test_rows), index_factory, seed
            )
            scores[cand.name].append(value)
            seconds[cand.name] += time.monotonic() - began
            done += 1
            report(step(f"inner fold {number}/{len(splits)}: {cand.name} {value:.4f}", done, total, started))
    return scores, seconds


def select_strategy(
    table: RoutingTable,
    *,
    embedders: Mapping[str, Embedder | None] | None = None,
    embedder_config: HashingEmbedderConfig | None = None,
    candidates: Sequence[Candidate] | None = None,
    folds: int = 3,
    margin: float = DEFAULT_MARGIN,
    seed: int = 0,
    index_factory: IndexFactory = numpy_index_factory,
    progress: Progress | None = None,
    dropped: tuple[str, ...] = (),
) -> SelectionReport:
    """Run the inner cross-validation on ``table`` and choose (see the module docstring).

    Args:
        table: The training table (dominated models already dropped by the caller, named in ``dropped``).
        embedders: Name -> ready embedder (None or absent ``hashing``: a hashing embedder fitted here).
        embedder_config: Configuration of the hashing embedder.
        candidates: The grid (default :func:`.selection.default_grid` over ``embedders``); the baseline
            is added when missing.
        folds: Inner folds.
        margin: Minimum mean gain over the baseline for a candidate to replace it.
        seed: Seeds the folds and every trainer.
        index_factory: Vector index for kNN candidates.
        progress: Receives one line per fitted candidate, with an ETA.
        dropped: Dominated models removed before (recorded in the report).
    """
    ready = _ready_embedders(table, embedders, embedder_config)
    grid = list(candidates or default_grid(tuple(ready), has_tasks=has_tasks(table)))
    if BASELINE not in {c.name for c in grid}:
        grid.insert(0, default_grid(("hashing",))[0])
    skipped = tuple(
        f"{c.name}: embedder {c.embedder!r} not available" for c in grid if c.embedder not in ready
    )
    grid = [c for c in grid if c.embedder in ready]
    metric = "apgr" if len(table.models) == 2 else "aiq"
    fold_scores, seconds = inner_scores(
        table, grid, ready, folds=folds, seed=seed, index_factory=index_factory, progress=progress
    )
    scored = score_candidates(fold_scores, grid, seconds, margin)
    winner, reason = choose(scored, margin)
    return SelectionReport(
        metric=metric,
        inner_folds=folds,
        margin=margin,
        models=table.models,
        dropped_models=dropped,
        candidates=scored,
        winner=winner,
        reason=reason,
        skipped=skipped,
    )


def _ready_embedders(
    table: RoutingTable, embedders: Mapping[str, Embedder | None] | None, config: HashingEmbedderConfig | None
) -> dict[str, Embedder]:
    out: dict[str, Embedder] = {}
    for name, embedder in (embedders or {"hashing": None}).items():
        out[name] = embedder if embedder is not None else HashingEmbedder(config).fit(table.prompts)
    if "hashing" not in out:  # the baseline's embedder
        out["hashing"] = HashingEmbedder(config).fit(table.prompts)
    return out


def train_auto(
    table: RoutingTable,
    *,
    embedders: Mapping[str, Embedder | None] | None = None,
    embedder_config: HashingEmbedderConfig | None = None,
    candidates: Sequence[Candidate] | None = None,
    folds: int = 3,
    margin: float = DEFAULT_MARGIN,
    seed: int = 0,
    index_factory: IndexFactory = numpy_index_factory,
    progress: Progress | None = None,
) -> RoutingModel:
    """Drop dominated models, select by inner CV, retrain the winner on all of ``table``.

    Returns:
        A :class:`RoutingModel` over the non-dominated models; ``metadata["selection"]`` holds the
        :class:`.selection.SelectionReport` as JSON-ready values.
    """
    report = progress or (lambda _msg: None)
    original = table.content_hash()
    kept, dropped = drop_dominated(table)
    if dropped:
        report(f"dropping dominated models (worse and no cheaper on this table): {', '.join(dropped)}")
    if len(kept.models) < 2:
        selection = SelectionReport(
            metric="none",
            inner_folds=0,
            margin=margin,
            models=kept.models,
            dropped_models=dropped,
            candidates=(),
            winner=BASELINE,
            reason="one model dominates all others: nothing to select",
        )
    else:
        selection = select_strategy(
            kept,
            embedders=embedders,
            embedder_config=embedder_config,
            candidates=candidates,
            folds=folds,
            margin=margin,
            seed=seed,
            index_factory=index_factory,
            progress=report,
            dropped=dropped,
        )
    report(f"selected {selection.winner}: {selection.reason}")
    winner = selection.chosen()
    given = dict(embedders or {})
    embedder = given.get(winner.embedder) or HashingEmbedder(embedder_config).fit(kept.prompts)
    report(f"training {winner.name} on {len(kept)} prompts x {len(kept.models)} models")
    model = fit_candidate(winner, kept, embedder, index_factory=index_factory, seed=seed)
    model.metadata.update(
        {
            "training_table_hash": original,
            "training_rows": len(table),
            "seed": seed,
            "strategy": "auto",
            "selection": msgspec.to_builtins(selection),
        }
    )
    return model
