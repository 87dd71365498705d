"""Linear router: one ridge regression per model from the prompt embedding to its quality (closed form).

``quality = (x - x_mean) @ W + y_mean``. The ridge penalty is chosen on a holdout of the training data
from one eigendecomposition of the Gram matrix, so every candidate costs one matrix product.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.evaluate import routing_score
from routeiq_core.routing.learned.router import FloatArray, TrainingData, as_matrix

ALPHA_GRID = (0.1, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)


class LinearRouter:
    """Per-model ridge regression on embeddings.

    Args:
        models: Model names.
        weights: ``(dim, m)`` coefficients.
        x_mean: ``(dim,)`` training embedding mean.
        y_mean: ``(m,)`` training mean quality.
        alpha: The ridge penalty it was trained with (kept for the record).
    """

    kind = "linear"

    def __init__(
        self,
        *,
        models: tuple[str, ...],
        weights: FloatArray,
        x_mean: FloatArray,
        y_mean: FloatArray,
        alpha: float,
    ) -> None:
        if weights.shape != (len(x_mean), len(models)) or y_mean.shape != (len(models),):
            raise ValueError("weights must be (dim, m), x_mean (dim,) and y_mean (m,)")
        self.models = models
        self.weights = np.asarray(weights, dtype=np.float64)
        self.x_mean = np.asarray(x_mean, dtype=np.float64)
        self.y_mean = np.asarray(y_mean, dtype=np.float64)
        self.alpha = float(alpha)

    def predict(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """Predicted quality ``(n, m)`` (not clipped, so the ranking is kept)."""
        x = as_matrix(embeddings, len(self.x_mean)).astype(np.float64)
        return np.asarray((x - self.x_mean) @ self.weights + self.y_mean, dtype=np.float64)

    def hyperparameters(self) -> Mapping[str, object]:
        """The ridge penalty."""
        return {"alpha": self.alpha}

    def arrays(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Coefficients and centring means."""
        return {"weights": self.weights, "x_mean": self.x_mean, "y_mean": self.y_mean}


class _RidgePath:
    """Ridge solutions for many penalties from one eigendecomposition of ``X^T X``."""

    def __init__(self, x: FloatArray, y: FloatArray) -> None:
        self.x_mean, self.y_mean = x.mean(axis=0), y.mean(axis=0)
        xc = x - self.x_mean
        self.eigvals, self.eigvecs = np.linalg.eigh(xc.T @ xc)
        self.projected = self.eigvecs.T @ (xc.T @ (y - self.y_mean))

    def weights(self, alpha: float) -> FloatArray:
        return np.asarray(self.eigvecs @ (self.projected / (self.eigvals + alpha)[:, None]), dtype=np.float64)


def train_linear(data: TrainingData, *, alpha: float | None = None, seed: int = 0) -> LinearRouter:
    """Fit the ridge router; a ``None`` penalty is chosen on a holdout of ``data``."""
    if alpha is None:
        fit, val = data.holdout(0.2, seed)
        path = _RidgePath(fit.embeddings.astype(np.float64), fit.scores)
        xv = val.embeddings.astype(np.float64) - path.x_mean
        scored = [
            (routing_score(xv @ path.weights(a) + path.y_mean, val.scores, val.costs), a) for a in ALPHA_GRID
        ]
        alpha = max(scored, key=lambda pair: pair[0])[1]
    path = _RidgePath(data.embeddings.astype(np.float64), data.scores)
    return LinearRouter(
        models=data.models, weights=path.weights(alpha), x_mean=path.x_mean, y_mean=path.y_mean, alpha=alpha
    )
