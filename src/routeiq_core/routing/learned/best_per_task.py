"""Best-per-task router: classify the prompt's task, then expect each model's mean quality on that task.

The task classifier is a nearest-centroid one (cosine similarity to each task's mean training
embedding). With ``temperature > 0`` its softmax posterior mixes the task means
(``quality = P(task | prompt) @ task_means``); with ``temperature == 0`` the single nearest task is used,
which is the classic "best model per task" baseline.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.evaluate import routing_score
from routeiq_core.routing.learned.router import FloatArray, TrainingData, as_matrix

TEMPERATURE_GRID = (0.0, 0.01, 0.02, 0.05, 0.1)


def softmax(logits: FloatArray) -> FloatArray:
    """Row-wise softmax."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: FloatArray = e / e.sum(axis=1, keepdims=True)
    return out


def task_posterior(similarities: FloatArray, temperature: float) -> FloatArray:
    """Posterior over tasks from centroid similarities: one-hot argmax at temperature 0, else softmax."""
    if temperature <= 0:
        hard: FloatArray = np.eye(similarities.shape[1])[similarities.argmax(axis=1)]
        return hard
    return softmax(similarities / temperature)


class BestPerTaskRouter:
    """Nearest-centroid task classifier followed by each task's mean outcome per model.

    Args:
        models: Model names.
        tasks: Task names (rows of ``centroids`` and ``task_means``).
        centroids: ``(t, dim)`` unit-norm task centroids.
        task_means: ``(t, m)`` mean training quality of each model on each task.
        temperature: Softmax temperature of the task posterior (0: hard nearest task).
    """

    kind = "best_per_task"

    def __init__(
        self,
        *,
        models: tuple[str, ...],
        tasks: tuple[str, ...],
        centroids: npt.NDArray[np.float32],
        task_means: FloatArray,
        temperature: float = 0.0,
    ) -> None:
        if centroids.shape[0] != len(tasks) or task_means.shape != (len(tasks), len(models)):
            raise ValueError("centroids and task_means must have one row per task")
        self.models, self.tasks = models, tasks
        self.centroids = as_matrix(centroids)
        self.task_means = np.asarray(task_means, dtype=np.float64)
        self.temperature = float(temperature)

    def task_probabilities(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """``(n, t)`` posterior over :attr:`tasks`."""
        x = as_matrix(embeddings, self.centroids.shape[1])
        return task_posterior((x @ self.centroids.T).astype(np.float64), self.temperature)

    def predict_task(self, embeddings: npt.NDArray[np.float32]) -> tuple[str, ...]:
        """The most likely task of each prompt."""
        return tuple(self.tasks[i] for i in self.task_probabilities(embeddings).argmax(axis=1))

    def predict(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """Predicted quality ``(n, m)``: the task posterior times the per-task means."""
        return self.task_probabilities(embeddings) @ self.task_means

    def hyperparameters(self) -> Mapping[str, object]:
        """The temperature and task names."""
        return {"temperature": self.temperature, "tasks": list(self.tasks)}

    def arrays(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Centroids and per-task means."""
        return {"centroids": self.centroids, "task_means": self.task_means}


def task_statistics(data: TrainingData) -> tuple[tuple[str, ...], npt.NDArray[np.float32], FloatArray]:
    """Task names, unit-norm centroids ``(t, dim)`` and per-task mean scores ``(t, m)`` of ``data``."""
    names, index = np.unique(np.asarray(data.tasks, dtype=object), return_inverse=True)
    one_hot = np.eye(len(names))[index]
    counts = one_hot.sum(axis=0)[:, None]
    sums = one_hot.T @ data.embeddings.astype(np.float64)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    centroids = np.asarray(sums / np.where(norms > 0, norms, 1.0), dtype=np.float32)
    means: FloatArray = (one_hot.T @ data.scores) / counts
    return tuple(str(n) for n in names), centroids, means


def train_best_per_task(
    data: TrainingData, *, temperature: float | None = None, seed: int = 0
) -> BestPerTaskRouter:
    """Fit centroids and per-task means; a ``None`` temperature is tuned on a holdout of ``data``."""
    if temperature is None:
        fit, val = data.holdout(0.2, seed)
        tasks, centroids, means = task_statistics(fit)
        sims = (val.embeddings @ centroids.T).astype(np.float64)
        scored = [
            (routing_score(task_posterior(sims, t) @ means, val.scores, val.costs), t)
            for t in TEMPERATURE_GRID
        ]
        temperature = max(scored, key=lambda pair: pair[0])[1]
    tasks, centroids, means = task_statistics(data)
    return BestPerTaskRouter(
        models=data.models, tasks=tasks, centroids=centroids, task_means=means, temperature=temperature
    )
