"""Mini-batch Adam with early stopping, shared by the numpy MLP and matrix-factorisation routers."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec
import numpy as np

from routeiq_core.routing.learned.evaluate import routing_score
from routeiq_core.routing.learned.router import FloatArray, TrainingData

Params = dict[str, FloatArray]
GradFn = Callable[[Params, FloatArray, FloatArray], Params]
PredictFn = Callable[[Params, FloatArray], FloatArray]


class AdamSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Optimiser settings.

    Attributes:
        learning_rate: Adam step size.
        weight_decay: L2 penalty added to every gradient of a weight matrix.
        epochs: Maximum passes over the fit data.
        batch_size: Rows per step.
        patience: Epochs without a better validation score before stopping.
        seed: Seeds the batch order.
    """

    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    epochs: int = 40
    batch_size: int = 128
    patience: int = 5
    seed: int = 0


def bce_output_gradient(logits: FloatArray, targets: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Sigmoid outputs and the mean binary-cross-entropy gradient with respect to the logits."""
    probs = 1.0 / (1.0 + np.exp(-np.clip(logits, -40.0, 40.0)))
    return probs, (probs - targets) / len(targets)


def train_adam(
    params: Params,
    grad_fn: GradFn,
    predict_fn: PredictFn,
    fit: TrainingData,
    val: TrainingData,
    settings: AdamSettings,
) -> tuple[Params, int]:
    """Train ``params`` on ``fit``; keep the epoch with the best routing score on ``val``.

    Returns:
        The best parameters and the number of epochs they were trained for.
    """
    rng = np.random.default_rng(settings.seed)
    x, y = fit.embeddings.astype(np.float64), fit.scores
    xv = val.embeddings.astype(np.float64)
    first = {k: np.zeros_like(v) for k, v in params.items()}
    second = {k: np.zeros_like(v) for k, v in params.items()}
    best, best_score, best_epoch, step = _copy(params), float("-inf"), 0, 0
    for epoch in range(1, settings.epochs + 1):
        order = rng.permutation(len(x))
        for start in range(0, len(x), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            grads = grad_fn(params, x[batch], y[batch])
            step += 1
            _adam_step(params, grads, first, second, step, settings)
        score = routing_score(predict_fn(params, xv), val.scores, val.costs)
        if score > best_score:
            best, best_score, best_epoch = _copy(params), score, epoch
        elif epoch - best_epoch >= settings.patience:
            break
    return best, best_epoch


def _adam_step(
    params: Params, grads: Mapping[str, FloatArray], first: Params, second: Params, step: int, s: AdamSettings
) -> None:
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for name, grad in grads.items():
        if params[name].ndim == 2:
            grad = grad + s.weight_decay * params[name]
        first[name] = beta1 * first[name] + (1 - beta1) * grad
        second[name] = beta2 * second[name] + (1 - beta2) * grad * grad
        m_hat = first[name] / (1 - beta1**step)
        v_hat = second[name] / (1 - beta2**step)
        params[name] -= s.learning_rate * m_hat / (np.sqrt(v_hat) + eps)


def _copy(params: Params) -> Params:
    return {k: v.copy() for k, v in params.items()}
