"""Train one candidate configuration of :mod:`.selection` on a whole table (the last step of ``auto``)."""

from __future__ import annotations

from routeiq_core.routing.learned.costs import CostModel
from routeiq_core.routing.learned.data import RoutingTable
from routeiq_core.routing.learned.dominance import expand_predictions
from routeiq_core.routing.learned.embedding import Embedder
from routeiq_core.routing.learned.features import FeatureEmbedder, TaskPrior
from routeiq_core.routing.learned.pipeline import RoutingModel
from routeiq_core.routing.learned.router import FloatArray, TrainingData
from routeiq_core.routing.learned.selection import Candidate
from routeiq_core.routing.learned.train import embed_all, train_router
from routeiq_core.routing.learned.vector_index import IndexFactory, numpy_index_factory

# Weights of the prompt-feature and task-prior blocks next to the unit-norm embedding (chosen on
# inner folds of both shared tables; 1.0/1.0 beat 0.5/0.5 and the lopsided settings there).
FEATURE_WEIGHT = 1.0
PRIOR_WEIGHT = 1.0


def has_tasks(table: RoutingTable) -> bool:
    """True when the table names at least two distinct non-empty tasks."""
    return len({t for t in table.tasks if t}) >= 2


def fit_candidate(
    cand: Candidate,
    table: RoutingTable,
    embedder: Embedder,
    *,
    index_factory: IndexFactory = numpy_index_factory,
    seed: int = 0,
) -> RoutingModel:
    """Train ``cand`` on the whole ``table`` with a ready ``embedder`` (fitted if it learns)."""
    vectors = embed_all(embedder, table.prompts)
    final: Embedder = embedder
    if cand.features:
        prior = TaskPrior.fit(vectors, table.tasks, table.scores) if has_tasks(table) else None
        feats = FeatureEmbedder.fit(
            embedder,
            table.prompts,
            base_vectors=vectors,
            prior=prior,
            feature_weight=FEATURE_WEIGHT,
            prior_weight=PRIOR_WEIGHT,
        )
        vectors, final = feats.embed_with(table.prompts, vectors), feats
    data = TrainingData(
        embeddings=vectors, scores=table.scores, costs=table.costs, tasks=table.tasks, models=table.models
    )
    router = train_router(cand.kind, data, index_factory=index_factory, seed=seed, **dict(cand.hyper))
    costs = CostModel.fit(table.models, table.prompts, table.costs)
    return RoutingModel(embedder=final, router=router, costs=costs)


def predict_table(model: RoutingModel, table: RoutingTable) -> FloatArray:
    """``model``'s predictions on ``table``'s prompts, over ``table``'s models (dropped ones ``-inf``)."""
    return expand_predictions(model.predict(table.prompts), model.models, table.models)
