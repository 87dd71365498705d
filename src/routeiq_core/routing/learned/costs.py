"""Per-model cost estimates for new prompts, fitted on a routing table.

Tables price a call as ``input_price * prompt_tokens + output_price * assumed_output_tokens`` with
``prompt_tokens = ceil(len(prompt) / 4)``, so each model's cost is linear in that token estimate:
``cost = intercept + slope * tokens``, fitted by least squares per model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def prompt_tokens(prompts: Sequence[str]) -> FloatArray:
    """The tables' token estimate ``ceil(len(prompt) / 4)`` per prompt."""
    return np.ceil(np.array([len(p) for p in prompts], dtype=np.float64) / 4.0)


class CostModel:
    """Linear per-model cost in the prompt's token estimate.

    Args:
        models: Model names (column order).
        intercept: ``(m,)`` cost of an empty prompt.
        slope: ``(m,)`` cost per prompt token.
    """

    def __init__(self, *, models: tuple[str, ...], intercept: FloatArray, slope: FloatArray) -> None:
        if intercept.shape != (len(models),) or slope.shape != (len(models),):
            raise ValueError("intercept and slope must have one value per model")
        self.models = models
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.slope = np.asarray(slope, dtype=np.float64)

    def estimate(self, prompts: Sequence[str]) -> FloatArray:
        """Estimated ``(n, m)`` cost of sending each prompt to each model (never negative)."""
        tokens = prompt_tokens(prompts)[:, None]
        return np.asarray(np.maximum(self.intercept + tokens * self.slope, 0.0), dtype=np.float64)

    @classmethod
    def fit(cls, models: tuple[str, ...], prompts: Sequence[str], costs: FloatArray) -> CostModel:
        """Least-squares fit of ``costs`` ``(n, m)`` on the prompts' token estimates."""
        tokens = prompt_tokens(prompts)
        design = np.stack([np.ones_like(tokens), tokens], axis=1)
        coef, *_ = np.linalg.lstsq(design, costs, rcond=None)
        return cls(models=models, intercept=coef[0], slope=coef[1])
