"""k-nearest-neighbour router: corrects a prior prediction by the residuals of the most similar prompts.

``quality(x) = base(x) + sum_i w_i (y_i - base(x_i)) / (sum_i w_i + prior)`` over the ``k`` nearest
training prompts ``x_i``, with weights ``w_i = max(similarity, 0) ** power``. With the constant base
(the training mean) this is the similarity-weighted mean of the neighbours' outcomes shrunk towards
the mean by ``prior`` pseudo-observations; with a best-per-task base it is a task prior refined by the
neighbourhood, so a query with no close neighbour falls back to its task's average.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.best_per_task import train_best_per_task
from routeiq_core.routing.learned.data import k_fold
from routeiq_core.routing.learned.evaluate import routing_score
from routeiq_core.routing.learned.router import FloatArray, QualityRouter, TrainingData, as_matrix
from routeiq_core.routing.learned.vector_index import IndexFactory, VectorIndex, numpy_index_factory

K_GRID = (10, 30, 100, 300)
POWER_GRID = (1.0, 4.0, 16.0)
PRIOR_GRID = (0.3, 1.0, 3.0)
BASES = ("mean", "task")


def knn_quality(
    sims: npt.NDArray[np.float32],
    neighbour_residuals: FloatArray,
    base: FloatArray,
    power: float,
    prior: float,
) -> FloatArray:
    """``base + weighted residual mean``; ``sims`` ``(n, k)``, residuals ``(n, k, m)``, base ``(n, m)``."""
    weights = np.maximum(sims.astype(np.float64), 0.0) ** power
    total = weights.sum(axis=1, keepdims=True)
    correction = np.einsum("nk,nkm->nm", weights, neighbour_residuals) / (total + prior)
    return np.asarray(base + correction, dtype=np.float64)


class KnnRouter:
    """Residual k-nearest-neighbour router (see the module docstring).

    Args:
        models: Model names (column order of ``scores``).
        exemplars: ``(n, dim)`` L2-normalised training embeddings.
        scores: ``(n, m)`` training outcomes.
        base: Prior predictor refined by the neighbours; ``None`` is the constant training mean.
        k: Neighbours per query.
        power: Similarity exponent (higher trusts the closest neighbours more).
        prior: Pseudo-observations of the base prediction.
        index_factory: Builds the vector index (default exact numpy; the app may pass faiss).
        index: An already-filled index over ``exemplars`` (for example one loaded from an artifact).
    """

    kind = "knn"

    def __init__(
        self,
        *,
        models: tuple[str, ...],
        exemplars: npt.NDArray[np.float32],
        scores: FloatArray,
        base: QualityRouter | None = None,
        k: int = 100,
        power: float = 4.0,
        prior: float = 1.0,
        index_factory: IndexFactory = numpy_index_factory,
        index: VectorIndex | None = None,
    ) -> None:
        if scores.shape != (len(exemplars), len(models)):
            raise ValueError(f"scores must have shape ({len(exemplars)}, {len(models)}), got {scores.shape}")
        if base is not None and base.models != models:
            raise ValueError("the base router must predict the same models")
        self.models, self.base = models, base
        self.exemplars = as_matrix(exemplars)
        self.scores = np.asarray(scores, dtype=np.float64)
        self.k, self.power, self.prior = int(k), float(power), float(prior)
        self.mean = self.scores.mean(axis=0)
        self.residuals = self.scores - self.base_prediction(self.exemplars)
        if index is None:
            index = index_factory(self.exemplars.shape[1])
            index.add(self.exemplars)
        elif len(index) != len(self.exemplars):
            raise ValueError(
                f"index holds {len(index)} vectors but there are {len(self.exemplars)} exemplars"
            )
        self.index = index

    def base_prediction(self, x: npt.NDArray[np.float32]) -> FloatArray:
        """The prior the neighbours correct: the base router's prediction or the training mean."""
        if self.base is None:
            return np.broadcast_to(self.mean, (len(x), len(self.models))).astype(np.float64)
        return self.base.predict(x)

    def predict(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """Predicted quality ``(n, m)``."""
        x = as_matrix(embeddings, self.exemplars.shape[1])
        sims, ids = self.index.search(x, self.k)
        return knn_quality(sims, self.residuals[ids], self.base_prediction(x), self.power, self.prior)

    def hyperparameters(self) -> Mapping[str, object]:
        """``k``, ``power``, ``prior`` and the base router (kind and hyperparameters, if any)."""
        base = None if self.base is None else {"kind": self.base.kind, **self.base.hyperparameters()}
        return {"k": self.k, "power": self.power, "prior": self.prior, "base": base}

    def arrays(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Exemplar embeddings and scores, plus the base router's arrays prefixed ``base.``."""
        own: dict[str, npt.NDArray[np.generic]] = {"exemplars": self.exemplars, "scores": self.scores}
        if self.base is not None:
            own.update({f"base.{k}": v for k, v in self.base.arrays().items()})
        return own


def _make_base(data: TrainingData, base: str, seed: int) -> QualityRouter | None:
    if base not in BASES:
        raise ValueError(f"base must be one of {BASES}, got {base!r}")
    if base == "task" and len(set(data.tasks)) > 1:
        return train_best_per_task(data, seed=seed)
    return None


def train_knn(
    data: TrainingData,
    *,
    k: int | None = None,
    power: float | None = None,
    prior: float | None = None,
    base: str = "task",
    index_factory: IndexFactory = numpy_index_factory,
    seed: int = 0,
) -> KnnRouter:
    """Build a :class:`KnnRouter`; settings left ``None`` are tuned by 3-fold CV on ``data``.

    Args:
        data: Training data.
        k: Neighbours per query.
        power: Similarity exponent.
        prior: Pseudo-observations of the base prediction.
        base: ``"task"`` (best-per-task prior; the mean when ``data`` has no tasks) or ``"mean"``.
        index_factory: Builds the vector index.
        seed: Seeds the tuning folds.
    """
    if k is None or power is None or prior is None:
        k, power, prior = _tune(data, k, power, prior, base, seed)
    return KnnRouter(
        models=data.models,
        exemplars=data.embeddings,
        scores=data.scores,
        base=_make_base(data, base, seed),
        k=k,
        power=power,
        prior=prior,
        index_factory=index_factory,
    )


def _tune(
    data: TrainingData, k: int | None, power: float | None, prior: float | None, base: str, seed: int
) -> tuple[int, float, float]:
    if len(data) < 6:
        raise ValueError("tuning needs at least 6 training prompts; pass k, power and prior explicitly")
    folds = k_fold(len(data), 3, seed=seed)
    smallest = min(len(fit) for fit, _ in folds)
    ks = (k,) if k is not None else tuple(x for x in K_GRID if x <= smallest) or (smallest,)
    powers = (power,) if power is not None else POWER_GRID
    priors = (prior,) if prior is not None else PRIOR_GRID
    grid = [(kk, pw, pr) for kk in ks for pw in powers for pr in priors]
    totals = np.zeros(len(grid))
    for fit_rows, val_rows in folds:
        fit, val = data.subset(fit_rows), data.subset(val_rows)
        probe = KnnRouter(
            models=data.models, exemplars=fit.embeddings, scores=fit.scores, base=_make_base(fit, base, seed)
        )
        sims, ids = probe.index.search(val.embeddings, max(ks))
        base_val = probe.base_prediction(val.embeddings)
        for g, (kk, pw, pr) in enumerate(grid):
            predicted = knn_quality(sims[:, :kk], probe.residuals[ids[:, :kk]], base_val, pw, pr)
            totals[g] += routing_score(predicted, val.scores, val.costs)
    return grid[int(np.argmax(totals))]
