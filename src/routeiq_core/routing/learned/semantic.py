"""Semantic router: routes named by example utterances, each sending matching prompts to one model.

Not trained from a table but built from configuration. A prompt matches a route when its cosine
similarity to the route's closest utterance reaches the threshold; the best match wins, otherwise the
default model is used. As a :class:`~routeiq_core.routing.learned.router.QualityRouter` the "quality"
of a route's model is the similarity of its best utterance, and the default model's is the threshold,
so ``decide`` with ``cost_weight=0`` reproduces the rule above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.embedding import Embedder
from routeiq_core.routing.learned.router import FloatArray, as_matrix


class SemanticRoute(msgspec.Struct, frozen=True, kw_only=True):
    """One route: prompts like ``utterances`` go to ``model``."""

    name: str
    model: str
    utterances: tuple[str, ...]


class SemanticRouter:
    """Nearest-utterance routing with a similarity threshold and a default model.

    Args:
        models: Candidate models (column order).
        route_names: One name per route.
        route_models: ``(r,)`` column index of each route's model.
        utterance_vectors: ``(u, dim)`` unit-norm utterance embeddings.
        utterance_routes: ``(u,)`` route index of each utterance.
        threshold: Minimum similarity for a route to match.
        default_model: Column index used when no route matches.
    """

    kind = "semantic"

    def __init__(
        self,
        *,
        models: tuple[str, ...],
        route_names: tuple[str, ...],
        route_models: npt.NDArray[np.int64],
        utterance_vectors: npt.NDArray[np.float32],
        utterance_routes: npt.NDArray[np.int64],
        threshold: float,
        default_model: int,
    ) -> None:
        if len(route_models) != len(route_names) or len(utterance_routes) != len(utterance_vectors):
            raise ValueError("one model per route and one route per utterance are required")
        if not 0 <= default_model < len(models) or np.any(route_models >= len(models)):
            raise ValueError("model indices must be columns of models")
        self.models, self.route_names = models, route_names
        self.route_models = np.asarray(route_models, dtype=np.int64)
        self.utterance_vectors = as_matrix(utterance_vectors)
        self.utterance_routes = np.asarray(utterance_routes, dtype=np.int64)
        self.threshold, self.default_model = float(threshold), int(default_model)

    def route_similarity(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """``(n, r)`` similarity of each prompt to each route's closest utterance."""
        x = as_matrix(embeddings, self.utterance_vectors.shape[1])
        sims = (x @ self.utterance_vectors.T).astype(np.float64)
        out = np.full((len(x), len(self.route_names)), -1.0)
        for r in range(len(self.route_names)):
            members = self.utterance_routes == r
            if members.any():
                out[:, r] = sims[:, members].max(axis=1)
        return out

    def match(self, embeddings: npt.NDArray[np.float32]) -> tuple[str | None, ...]:
        """The matching route's name per prompt, ``None`` when no route reaches the threshold."""
        sims = self.route_similarity(embeddings)
        best = sims.argmax(axis=1) if sims.shape[1] else np.zeros(len(sims), dtype=np.int64)
        return tuple(
            self.route_names[b] if sims.shape[1] and sims[i, b] >= self.threshold else None
            for i, b in enumerate(best)
        )

    def predict(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """Per-model "quality": best route similarity per model, the threshold for the default model."""
        sims = self.route_similarity(embeddings)
        out = np.zeros((len(sims), len(self.models)))
        for r, column in enumerate(self.route_models):
            out[:, column] = np.maximum(out[:, column], sims[:, r])
        out[:, self.default_model] = np.maximum(out[:, self.default_model], self.threshold)
        return out

    def hyperparameters(self) -> Mapping[str, object]:
        """Threshold, default model and route names."""
        return {
            "threshold": self.threshold,
            "default_model": self.default_model,
            "route_names": list(self.route_names),
        }

    def arrays(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Utterance vectors, their routes and each route's model."""
        return {
            "utterance_vectors": self.utterance_vectors,
            "utterance_routes": self.utterance_routes,
            "route_models": self.route_models,
        }


def build_semantic_router(
    routes: Sequence[SemanticRoute],
    embedder: Embedder,
    *,
    default_model: str,
    models: Sequence[str] | None = None,
    threshold: float = 0.5,
) -> SemanticRouter:
    """Embed every route's utterances and build a :class:`SemanticRouter`.

    Args:
        routes: The routes; every route needs at least one utterance.
        embedder: Embeds the utterances (and, later, the prompts).
        default_model: Model for prompts that match no route.
        models: Candidate models (default: the routes' models plus the default, sorted).
        threshold: Minimum cosine similarity to match a route.

    Raises:
        ValueError: A route has no utterance or names a model outside ``models``.
    """
    names = tuple(sorted({r.model for r in routes} | {default_model})) if models is None else tuple(models)
    column = {m: i for i, m in enumerate(names)}
    for route in routes:
        if not route.utterances:
            raise ValueError(f"route {route.name!r} has no utterances")
        if route.model not in column:
            raise ValueError(
                f"route {route.name!r} targets {route.model!r}, which is not among {list(names)}"
            )
    if default_model not in column:
        raise ValueError(f"default model {default_model!r} is not among {list(names)}")
    texts = [u for r in routes for u in r.utterances]
    owners = np.array([i for i, r in enumerate(routes) for _ in r.utterances], dtype=np.int64)
    vectors = embedder.embed(texts) if texts else np.zeros((0, embedder.dim), dtype=np.float32)
    return SemanticRouter(
        models=names,
        route_names=tuple(r.name for r in routes),
        route_models=np.array([column[r.model] for r in routes], dtype=np.int64),
        utterance_vectors=vectors,
        utterance_routes=owners,
        threshold=threshold,
        default_model=column[default_model],
    )
