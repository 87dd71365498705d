"""Matrix-factorisation router (bilinear, as in RouteLLM's and LLMRouter's MF routers).

Each model has a learned embedding ``v_m``; the prompt is projected by a learned ``W``; the predicted
quality is ``sigmoid(v_m . (W x) + b_m)``. Trained with Adam on cross-entropy, early-stopped on a
holdout slice of the training data.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned._adam import AdamSettings, Params, bce_output_gradient, train_adam
from routeiq_core.routing.learned.router import FloatArray, TrainingData, as_matrix, sigmoid


class MatrixFactorizationRouter:
    """Bilinear scorer ``sigmoid(model_vectors @ (projection @ x) + bias)``.

    Args:
        models: Model names.
        projection: ``(rank, dim)`` prompt projection ``W``.
        model_vectors: ``(m, rank)`` model embeddings ``v``.
        bias: ``(m,)`` per-model bias.
        hyper: Training hyperparameters (kept for the record).
    """

    kind = "matrix_factorization"

    def __init__(
        self,
        *,
        models: tuple[str, ...],
        projection: FloatArray,
        model_vectors: FloatArray,
        bias: FloatArray,
        hyper: Mapping[str, object] | None = None,
    ) -> None:
        rank = projection.shape[0]
        if model_vectors.shape != (len(models), rank) or bias.shape != (len(models),):
            raise ValueError("model_vectors must be (m, rank) and bias (m,)")
        self.models = models
        self.params: Params = {"projection": projection, "model_vectors": model_vectors, "bias": bias}
        self._hyper = dict(hyper or {})

    def predict(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """Predicted quality ``(n, m)`` in (0, 1)."""
        x = as_matrix(embeddings, self.params["projection"].shape[1]).astype(np.float64)
        return _quality(self.params, x)

    def hyperparameters(self) -> Mapping[str, object]:
        """Rank and optimiser settings."""
        return self._hyper

    def arrays(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Projection, model vectors and biases."""
        return dict(self.params)


def _logits(params: Params, x: FloatArray) -> FloatArray:
    return np.asarray(
        (x @ params["projection"].T) @ params["model_vectors"].T + params["bias"], dtype=np.float64
    )


def _quality(params: Params, x: FloatArray) -> FloatArray:
    return sigmoid(_logits(params, x))


def _gradients(params: Params, x: FloatArray, y: FloatArray) -> Params:
    projected = x @ params["projection"].T
    _, d_logits = bce_output_gradient(projected @ params["model_vectors"].T + params["bias"], y)
    d_projected = d_logits @ params["model_vectors"]
    return {
        "projection": d_projected.T @ x,
        "model_vectors": d_logits.T @ projected,
        "bias": d_logits.sum(axis=0),
    }


def train_matrix_factorization(
    data: TrainingData,
    *,
    rank: int = 64,
    learning_rate: float = 2e-3,
    weight_decay: float = 1e-4,
    epochs: int = 40,
    batch_size: int = 128,
    patience: int = 5,
    holdout: float = 0.15,
    seed: int = 0,
) -> MatrixFactorizationRouter:
    """Train a :class:`MatrixFactorizationRouter` with early stopping on a holdout slice of ``data``."""
    rng = np.random.default_rng(seed)
    dim, m = data.embeddings.shape[1], len(data.models)
    mean = np.clip(data.scores.mean(axis=0), 1e-3, 1 - 1e-3)
    params: Params = {
        "projection": rng.normal(0.0, np.sqrt(1.0 / dim), (rank, dim)),
        "model_vectors": rng.normal(0.0, 0.1 / np.sqrt(rank), (m, rank)),
        "bias": np.log(mean / (1 - mean)),
    }
    settings = AdamSettings(
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        epochs=epochs,
        batch_size=batch_size,
        patience=patience,
        seed=seed,
    )
    fit, val = data.holdout(holdout, seed)
    params, best_epoch = train_adam(params, _gradients, _quality, fit, val, settings)
    hyper = {
        "rank": rank,
        "learning_rate": learning_rate,
        "weight_decay": weight_decay,
        "batch_size": batch_size,
        "epochs_trained": best_epoch,
        "holdout": holdout,
        "seed": seed,
    }
    return MatrixFactorizationRouter(models=data.models, hyper=hyper, **params)
