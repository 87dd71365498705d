"""Two-model threshold router: call the strong model when the predicted margin clears a threshold.

Wraps any two-model quality predictor. The threshold on ``q_strong - q_weak`` is calibrated on
training prompts so that a target share of them would go to the strong model (RouteLLM's
"calibrated threshold"). As a :class:`~routeiq_core.routing.learned.router.QualityRouter` it shifts the
weak model's predicted quality by the threshold, so ``decide`` with ``cost_weight=0`` applies it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.router import FloatArray, QualityRouter, TrainingData


class ThresholdRouter:
    """Strong model iff ``q_strong - q_weak > threshold`` under a base two-model predictor.

    Args:
        base: Any quality router over exactly two models.
        strong: Column of the strong model.
        threshold: Margin above which the strong model is called.
        target_strong_share: The share of training prompts the threshold was calibrated to (for the record).
    """

    kind = "threshold"

    def __init__(
        self, *, base: QualityRouter, strong: int, threshold: float, target_strong_share: float | None = None
    ) -> None:
        if len(base.models) != 2 or strong not in (0, 1):
            raise ValueError("the threshold router needs a base router over exactly two models")
        self.base = base
        self.models: tuple[str, ...] = base.models
        self.strong, self.weak = strong, 1 - strong
        self.threshold = float(threshold)
        self.target_strong_share = target_strong_share

    def margin(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """Predicted ``q_strong - q_weak`` per prompt."""
        q = self.base.predict(embeddings)
        return np.asarray(q[:, self.strong] - q[:, self.weak], dtype=np.float64)

    def strong_calls(self, embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
        """True where the strong model is called."""
        return self.margin(embeddings) > self.threshold

    def predict(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """The base predictions with the weak model's quality raised by the threshold."""
        q = np.array(self.base.predict(embeddings), dtype=np.float64)
        q[:, self.weak] += self.threshold
        return q

    def hyperparameters(self) -> Mapping[str, object]:
        """Threshold, strong column, target share and the base router's kind and hyperparameters."""
        return {
            "threshold": self.threshold,
            "strong": self.strong,
            "target_strong_share": self.target_strong_share,
            "base": {"kind": self.base.kind, **self.base.hyperparameters()},
        }

    def arrays(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """The base router's arrays, prefixed ``base.``."""
        return {f"base.{k}": v for k, v in self.base.arrays().items()}


def calibrate_threshold(
    base: QualityRouter, data: TrainingData, target_strong_share: float
) -> ThresholdRouter:
    """Wrap ``base`` with the threshold that sends ``target_strong_share`` of ``data`` to the strong model.

    The strong model is the one with the higher mean score in ``data``.

    Raises:
        ValueError: The share is outside [0, 1] or ``base`` is not a two-model router.
    """
    if not 0.0 <= target_strong_share <= 1.0:
        raise ValueError(f"target_strong_share must be in [0, 1], got {target_strong_share}")
    if len(base.models) != 2:
        raise ValueError("the threshold router needs a base router over exactly two models")
    strong = int(np.argmax(data.scores.mean(axis=0)))
    q = base.predict(data.embeddings)
    margin = q[:, strong] - q[:, 1 - strong]
    if target_strong_share >= 1.0:
        threshold = float(margin.min()) - 1.0
    elif target_strong_share <= 0.0:
        threshold = float(margin.max())
    else:
        threshold = float(np.quantile(margin, 1.0 - target_strong_share, method="higher"))
    return ThresholdRouter(
        base=base, strong=strong, threshold=threshold, target_strong_share=target_strong_share
    )
