"""Multinomial logistic regression (softmax) task classifier in numpy, for the best-per-task router.

Full-batch Adam on the mean cross-entropy plus an L2 penalty on the weights, a fixed number of steps
from zero weights: deterministic, no random state, a few seconds for thousands of prompts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.router import FloatArray

IntArray = npt.NDArray[np.int64]


def softmax_rows(logits: FloatArray) -> FloatArray:
    """Row-wise softmax."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: FloatArray = e / e.sum(axis=1, keepdims=True)
    return out


def fit_softmax(
    x: npt.NDArray[np.floating],
    labels: IntArray,
    classes: int,
    *,
    l2: float,
    steps: int = 300,
    lr: float = 0.05,
) -> tuple[FloatArray, FloatArray]:
    """Fit ``softmax(x @ W.T + b)`` to ``labels``.

    Args:
        x: ``(n, dim)`` features.
        labels: ``(n,)`` class indices in ``[0, classes)``.
        classes: Number of classes.
        l2: Weight of ``0.5 * ||W||^2`` against the mean cross-entropy.
        steps: Adam steps over the full batch.
        lr: Adam step size.

    Returns:
        ``W`` of shape ``(classes, dim)`` and ``b`` of shape ``(classes,)``.
    """
    if len(x) != len(labels) or len(x) == 0:
        raise ValueError("fit_softmax needs as many labels as rows, and at least one row")
    features = np.asarray(x, dtype=np.float64)
    target = np.eye(classes)[labels]
    weights = np.zeros((classes, features.shape[1]))
    bias = np.log(target.mean(axis=0) + 1e-9)
    moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros_like(bias), np.zeros_like(bias)]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        error = (softmax_rows(features @ weights.T + bias) - target) / len(features)
        grads = (error.T @ features + l2 * weights, error.sum(axis=0))
        for i, (param, grad) in enumerate(zip((weights, bias), grads, strict=True)):
            first, second = moments[2 * i], moments[2 * i + 1]
            first *= beta1
            first += (1 - beta1) * grad
            second *= beta2
            second += (1 - beta2) * grad * grad
            param -= lr * (first / (1 - beta1**step)) / (np.sqrt(second / (1 - beta2**step)) + eps)
    return weights, bias
