"""MLP router: one hidden ReLU layer, one sigmoid output per model, trained with Adam on cross-entropy.

Early stopping watches the routing score on a seeded holdout slice of the *training* data; the
evaluation data is never seen.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned._adam import AdamSettings, Params, bce_output_gradient, train_adam
from routeiq_core.routing.learned.router import FloatArray, TrainingData, as_matrix, sigmoid


class MlpRouter:
    """``quality = sigmoid(relu(x @ w1 + b1) @ w2 + b2)``.

    Args:
        models: Model names.
        w1: ``(dim, hidden)``.
        b1: ``(hidden,)``.
        w2: ``(hidden, m)``.
        b2: ``(m,)``.
        hyper: Training hyperparameters (kept for the record).
    """

    kind = "mlp"

    def __init__(
        self,
        *,
        models: tuple[str, ...],
        w1: FloatArray,
        b1: FloatArray,
        w2: FloatArray,
        b2: FloatArray,
        hyper: Mapping[str, object] | None = None,
    ) -> None:
        if w1.shape[1] != len(b1) or w2.shape != (len(b1), len(models)) or b2.shape != (len(models),):
            raise ValueError("inconsistent MLP weight shapes")
        self.models = models
        self.params: Params = {"w1": w1, "b1": b1, "w2": w2, "b2": b2}
        self._hyper = dict(hyper or {})

    def predict(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """Predicted quality ``(n, m)`` in (0, 1)."""
        x = as_matrix(embeddings, self.params["w1"].shape[0]).astype(np.float64)
        return sigmoid(mlp_logits(self.params, x))

    def hyperparameters(self) -> Mapping[str, object]:
        """Hidden size and optimiser settings."""
        return self._hyper

    def arrays(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """The four weight arrays."""
        return dict(self.params)


def mlp_logits(params: Params, x: FloatArray) -> FloatArray:
    """Output logits ``(n, m)``."""
    hidden = np.maximum(x @ params["w1"] + params["b1"], 0.0)
    return np.asarray(hidden @ params["w2"] + params["b2"], dtype=np.float64)


def _quality(params: Params, x: FloatArray) -> FloatArray:
    return sigmoid(mlp_logits(params, x))


def _gradients(params: Params, x: FloatArray, y: FloatArray) -> Params:
    pre = x @ params["w1"] + params["b1"]
    hidden = np.maximum(pre, 0.0)
    _, d_logits = bce_output_gradient(hidden @ params["w2"] + params["b2"], y)
    d_hidden = (d_logits @ params["w2"].T) * (pre > 0)
    return {
        "w1": x.T @ d_hidden,
        "b1": d_hidden.sum(axis=0),
        "w2": hidden.T @ d_logits,
        "b2": d_logits.sum(axis=0),
    }


def train_mlp(
    data: TrainingData,
    *,
    hidden: int = 128,
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-4,
    epochs: int = 40,
    batch_size: int = 128,
    patience: int = 5,
    holdout: float = 0.15,
    seed: int = 0,
) -> MlpRouter:
    """Train an :class:`MlpRouter` with early stopping on a holdout slice of ``data``."""
    rng = np.random.default_rng(seed)
    dim, m = data.embeddings.shape[1], len(data.models)
    mean = np.clip(data.scores.mean(axis=0), 1e-3, 1 - 1e-3)
    params: Params = {
        "w1": rng.normal(0.0, np.sqrt(2.0 / dim), (dim, hidden)),
        "b1": np.zeros(hidden),
        "w2": rng.normal(0.0, np.sqrt(1.0 / hidden), (hidden, m)) * 0.1,
        "b2": np.log(mean / (1 - mean)),
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
        "hidden": hidden,
        "learning_rate": learning_rate,
        "weight_decay": weight_decay,
        "batch_size": batch_size,
        "epochs_trained": best_epoch,
        "holdout": holdout,
        "seed": seed,
    }
    return MlpRouter(models=data.models, hyper=hyper, **params)
