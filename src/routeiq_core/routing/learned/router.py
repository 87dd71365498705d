"""The ``QualityRouter`` port and the shared decision rule.

A quality router predicts, for each prompt embedding, the quality every candidate model would reach.
The decision is ``argmax(predicted_quality - cost_weight * cost)``; ties go to the cheaper model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import anyio
import anyio.to_thread
import msgspec
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Batches at least this large are predicted on a worker thread by :func:`apredict`.
THREAD_BATCH_THRESHOLD = 16


class TrainingData(msgspec.Struct, frozen=True, kw_only=True):
    """What routers are trained on: embedded prompts with every model's outcome.

    Attributes:
        embeddings: ``(n, dim)`` float32 prompt embeddings.
        scores: ``(n, m)`` true quality per model.
        costs: ``(n, m)`` cost per model.
        tasks: Task name per prompt ("" when unknown).
        models: Model names (column order).
    """

    embeddings: npt.NDArray[np.float32]
    scores: FloatArray
    costs: FloatArray
    tasks: tuple[str, ...]
    models: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.scores)

    def subset(self, rows: npt.NDArray[np.int64]) -> TrainingData:
        """The rows ``rows`` only."""
        return TrainingData(
            embeddings=self.embeddings[rows],
            scores=self.scores[rows],
            costs=self.costs[rows],
            tasks=tuple(self.tasks[i] for i in rows),
            models=self.models,
        )

    def holdout(self, fraction: float, seed: int) -> tuple[TrainingData, TrainingData]:
        """A seeded (fit, validation) split of this training data, for early stopping and tuning."""
        order = np.random.default_rng(seed).permutation(len(self))
        n_val = max(1, int(len(self) * fraction))
        return self.subset(np.sort(order[n_val:])), self.subset(np.sort(order[:n_val]))


@runtime_checkable
class QualityRouter(Protocol):
    """Predicts per-model quality for prompt embeddings.

    Attributes:
        kind: Router family name (``"knn"``, ``"mlp"``, ...), as used by ``train_router`` and artifacts.
        models: Candidate model names, the column order of :meth:`predict`.
    """

    kind: str
    models: tuple[str, ...]

    def predict(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """Predicted quality ``(n, len(models))``, roughly in [0, 1], for ``(n, dim)`` embeddings."""
        ...

    def hyperparameters(self) -> Mapping[str, object]:
        """JSON-ready hyperparameters (saved in artifacts)."""
        ...

    def arrays(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """The learned state as named numeric arrays (saved in artifacts, never pickled)."""
        ...


def decide(quality_row: npt.ArrayLike, costs_row: npt.ArrayLike, cost_weight: float = 0.0) -> int:
    """Index of the model to call: ``argmax(quality - cost_weight * cost)``, ties to the cheaper model.

    Args:
        quality_row: Predicted quality per model.
        costs_row: Cost per model (same order).
        cost_weight: Lambda >= 0: how much quality one unit of cost is worth giving up.

    Raises:
        ValueError: Shapes differ, are empty, or ``cost_weight`` is negative or not finite.
    """
    quality = np.asarray(quality_row, dtype=np.float64).reshape(1, -1)
    costs = np.asarray(costs_row, dtype=np.float64).reshape(1, -1)
    return int(decide_batch(quality, costs, cost_weight)[0])


def decide_batch(
    quality: npt.ArrayLike, costs: npt.ArrayLike, cost_weight: float = 0.0
) -> npt.NDArray[np.int64]:
    """Row-wise :func:`decide` for ``(n, m)`` quality and cost matrices; returns ``(n,)`` model indices."""
    q = np.asarray(quality, dtype=np.float64)
    c = np.asarray(costs, dtype=np.float64)
    if q.ndim != 2 or q.shape != c.shape or q.shape[1] == 0:
        raise ValueError(f"quality {q.shape} and costs {c.shape} must be equal (n, m) shapes with m >= 1")
    if not np.isfinite(cost_weight) or cost_weight < 0:
        raise ValueError(f"cost_weight must be a finite number >= 0, got {cost_weight}")
    utility = np.nan_to_num(q, nan=-np.inf) - cost_weight * c
    best = utility.max(axis=1, keepdims=True)
    # Among the (near-)tied best, the cheapest; ties within float noise count as ties.
    tied = utility >= best - 1e-12 * np.maximum(1.0, np.abs(best))
    return np.asarray(np.where(tied, c, np.inf).argmin(axis=1), dtype=np.int64)


async def apredict(
    router: QualityRouter, embeddings: npt.NDArray[np.float32], limiter: anyio.CapacityLimiter | None = None
) -> FloatArray:
    """``router.predict`` that keeps the event loop responsive.

    Batches of :data:`THREAD_BATCH_THRESHOLD` rows or more run on a worker thread
    (``anyio.to_thread.run_sync``); single prompts are predicted inline, where the thread hop would cost
    more than the prediction. ``limiter`` caps the threads used at once (anyio's default pool otherwise).
    """
    if len(embeddings) >= THREAD_BATCH_THRESHOLD:
        return await anyio.to_thread.run_sync(router.predict, embeddings, limiter=limiter)
    return router.predict(embeddings)


def sigmoid(x: FloatArray) -> FloatArray:
    """Numerically stable logistic function."""
    out: FloatArray = np.empty_like(x, dtype=np.float64)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def as_matrix(embeddings: npt.ArrayLike, dim: int | None = None) -> npt.NDArray[np.float32]:
    """Validate ``embeddings`` as a 2-D ``float32`` array (of width ``dim`` when given)."""
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or (dim is not None and x.shape[1] != dim):
        raise ValueError(f"embeddings must have shape (n, {dim or 'dim'}), got {x.shape}")
    return x
