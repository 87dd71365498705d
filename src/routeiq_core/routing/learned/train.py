"""Train any router kind from a routing table: ``train_router`` and ``train_routing_model``."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from routeiq_core.routing.learned.best_per_task import train_best_per_task
from routeiq_core.routing.learned.costs import CostModel
from routeiq_core.routing.learned.data import RoutingTable
from routeiq_core.routing.learned.elo import train_elo
from routeiq_core.routing.learned.embedding import Embedder, F32Array, HashingEmbedder, HashingEmbedderConfig
from routeiq_core.routing.learned.knn import train_knn
from routeiq_core.routing.learned.linear import train_linear
from routeiq_core.routing.learned.matrix_factorization import train_matrix_factorization
from routeiq_core.routing.learned.mlp import train_mlp
from routeiq_core.routing.learned.pipeline import RoutingModel
from routeiq_core.routing.learned.progress import Progress, step
from routeiq_core.routing.learned.router import QualityRouter, TrainingData
from routeiq_core.routing.learned.threshold import calibrate_threshold
from routeiq_core.routing.learned.vector_index import IndexFactory, numpy_index_factory

Trainer = Callable[..., QualityRouter]
TRAINABLE_KINDS = ("best_per_task", "elo", "knn", "linear", "matrix_factorization", "mlp", "threshold")
ALIASES = MappingProxyType({"mf": "matrix_factorization", "bpt": "best_per_task"})


def _threshold(
    data: TrainingData, *, base: str = "knn", strong_share: float = 0.5, **hyper: Any
) -> QualityRouter:
    if base == "threshold":
        raise ValueError("the threshold router's base must be another router kind")
    return calibrate_threshold(trainers()[canonical_kind(base)](data, **hyper), data, strong_share)


def trainers() -> Mapping[str, Trainer]:
    """Router kind -> training function ``(data, **hyperparameters) -> QualityRouter`` (read-only)."""
    return MappingProxyType(
        {
            "best_per_task": train_best_per_task,
            "elo": train_elo,
            "knn": train_knn,
            "linear": train_linear,
            "matrix_factorization": train_matrix_factorization,
            "mlp": train_mlp,
            "threshold": _threshold,
        }
    )


def canonical_kind(kind: str) -> str:
    """Resolve aliases (``mf``, ``bpt``) and validate ``kind``.

    Raises:
        ValueError: Unknown kind, or ``semantic`` (built from routes, not trained).
    """
    name = ALIASES.get(kind, kind)
    if name == "semantic":
        raise ValueError("semantic routers are built from example utterances: use build_semantic_router")
    if name not in TRAINABLE_KINDS:
        raise ValueError(f"unknown router kind {kind!r}; choose one of: {', '.join(TRAINABLE_KINDS)}")
    return name


def embed_all(
    embedder: Embedder, texts: Sequence[str], progress: Progress | None = None, *, chunk: int = 512
) -> F32Array:
    """``embedder.embed(texts)`` in chunks, reporting ``done/total`` to ``progress`` after each."""
    if progress is None or len(texts) <= chunk:
        return embedder.embed(texts)
    parts = []
    began = time.monotonic()
    for start in range(0, len(texts), chunk):
        parts.append(embedder.embed(texts[start : start + chunk]))
        progress(step("embedding prompts", min(start + chunk, len(texts)), len(texts), began))
    return np.vstack(parts)


def training_data(table: RoutingTable, embedder: Embedder, progress: Progress | None = None) -> TrainingData:
    """Embed ``table``'s prompts with ``embedder`` (reporting progress by chunk when asked)."""
    return TrainingData(
        embeddings=embed_all(embedder, table.prompts, progress),
        scores=table.scores,
        costs=table.costs,
        tasks=table.tasks,
        models=table.models,
    )


def train_router(
    kind: str,
    table: RoutingTable | TrainingData,
    embedder: Embedder | None = None,
    *,
    index_factory: IndexFactory = numpy_index_factory,
    seed: int = 0,
    **hyper: Any,
) -> QualityRouter:
    """Train a quality router of ``kind`` on ``table`` (embedded with ``embedder``) or on ``TrainingData``.

    Args:
        kind: One of :data:`TRAINABLE_KINDS` or an alias.
        table: A routing table, or training data that is already embedded.
        embedder: Required with a table; used as is (fit it first if it learns, e.g. IDF).
        index_factory: Vector index for the neighbour-based kinds (``knn``, ``elo``).
        seed: Seeds every random choice (holdouts, initialisation, batch order).
        **hyper: Hyperparameters of the kind's trainer; omitted ones take defaults or are tuned.
    """
    name = canonical_kind(kind)
    if isinstance(table, RoutingTable):
        if embedder is None:
            raise ValueError("train_router needs an embedder to train on a routing table")
        data = training_data(table, embedder)
    else:
        data = table
    if name in ("knn", "elo") or (name == "threshold" and hyper.get("base", "knn") in ("knn", "elo")):
        hyper["index_factory"] = index_factory
    return trainers()[name](data, seed=seed, **hyper)


def train_routing_model(
    kind: str,
    table: RoutingTable,
    *,
    embedder: Embedder | None = None,
    embedder_config: HashingEmbedderConfig | None = None,
    index_factory: IndexFactory = numpy_index_factory,
    seed: int = 0,
    progress: Progress | None = None,
    **hyper: Any,
) -> RoutingModel:
    """Fit a hashing embedder (unless one is given), train the router and fit the cost model.

    Returns:
        A :class:`RoutingModel` ready to route prompts or to be saved with ``save_router``.
    """
    report = progress or (lambda _msg: None)
    canonical_kind(kind)
    if embedder is None:
        report(f"fitting the hashing embedder on {len(table)} prompts")
        embedder = HashingEmbedder(embedder_config).fit(table.prompts)
    report(f"embedding {len(table)} prompts")
    data = training_data(table, embedder, progress)
    report(f"training a {kind} router on {len(table)} prompts x {len(table.models)} models")
    router = train_router(kind, data, index_factory=index_factory, seed=seed, **hyper)
    costs = CostModel.fit(table.models, table.prompts, table.costs)
    metadata: dict[str, object] = {
        "training_table_hash": table.content_hash(),
        "training_rows": len(table),
        "seed": seed,
    }
    return RoutingModel(embedder=embedder, router=router, costs=costs, metadata=metadata)
