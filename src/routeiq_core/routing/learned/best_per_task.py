"""Best-per-task router: classify the prompt's task, then expect each model's mean quality on that task.

Two task classifiers: nearest centroid (cosine similarity to each task's mean training embedding) and
multinomial logistic regression (``softmax``, see :mod:`.task_classifier`). Both give one logit per
task; with ``temperature > 0`` the softmax of ``logits / temperature`` mixes the task means
(``quality = P(task | prompt) @ task_means``), with ``temperature == 0`` the single most likely task is
used. Nearest centroid at temperature 0 is the classic "best model per task" baseline; by default the
classifier, its L2 penalty and the temperature are chosen on a holdout of the training data.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.evaluate import routing_score
from routeiq_core.routing.learned.router import FloatArray, TrainingData, as_matrix
from routeiq_core.routing.learned.task_classifier import fit_softmax

TEMPERATURE_GRID = (0.0, 0.01, 0.02, 0.05, 0.1)
SOFTMAX_TEMPERATURES = (0.0, 0.5, 1.0)
L2_GRID = (3e-5, 1e-4, 3e-4, 1e-3)
CLASSIFIERS = ("auto", "centroid", "softmax")


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
    """A task classifier followed by each task's mean outcome per model.

    Args:
        models: Model names.
        tasks: Task names (rows of ``centroids`` and ``task_means``).
        centroids: ``(t, dim)`` task vectors: unit-norm centroids, or softmax weights with ``bias``.
        task_means: ``(t, m)`` mean training quality of each model on each task.
        temperature: Softmax temperature of the task posterior (0: hard most likely task).
        bias: ``(t,)`` logit offsets of a softmax classifier (None: nearest centroid).
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
        bias: FloatArray | None = None,
    ) -> None:
        if centroids.shape[0] != len(tasks) or task_means.shape != (len(tasks), len(models)):
            raise ValueError("centroids and task_means must have one row per task")
        if bias is not None and np.shape(bias) != (len(tasks),):
            raise ValueError("bias must have one entry per task")
        self.models, self.tasks = models, tasks
        self.centroids = as_matrix(centroids)
        self.task_means = np.asarray(task_means, dtype=np.float64)
        self.temperature = float(temperature)
        self.bias = None if bias is None else np.asarray(bias, dtype=np.float64)
        self.classifier = "centroid" if bias is None else "softmax"

    def task_probabilities(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """``(n, t)`` posterior over :attr:`tasks`."""
        x = as_matrix(embeddings, self.centroids.shape[1])
        logits = (x @ self.centroids.T).astype(np.float64)
        if self.bias is not None:
            logits += self.bias
        return task_posterior(logits, self.temperature)

    def predict_task(self, embeddings: npt.NDArray[np.float32]) -> tuple[str, ...]:
        """The most likely task of each prompt."""
        return tuple(self.tasks[i] for i in self.task_probabilities(embeddings).argmax(axis=1))

    def predict(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """Predicted quality ``(n, m)``: the task posterior times the per-task means."""
        return self.task_probabilities(embeddings) @ self.task_means

    def hyperparameters(self) -> Mapping[str, object]:
        """The classifier, temperature and task names."""
        return {"classifier": self.classifier, "temperature": self.temperature, "tasks": list(self.tasks)}

    def arrays(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Task vectors, per-task means and (softmax) the bias."""
        out: dict[str, npt.NDArray[np.generic]] = {"centroids": self.centroids, "task_means": self.task_means}
        if self.bias is not None:
            out["bias"] = self.bias
        return out


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


def _fit_classifier(
    data: TrainingData, classifier: str, l2: float
) -> tuple[tuple[str, ...], npt.NDArray[np.float32], FloatArray, FloatArray | None]:
    """Tasks, task vectors, per-task means and (softmax) bias fitted on ``data``."""
    tasks, centroids, means = task_statistics(data)
    if classifier == "centroid":
        return tasks, centroids, means, None
    labels = np.searchsorted(np.asarray(tasks, dtype=object), np.asarray(data.tasks, dtype=object))
    weights, bias = fit_softmax(data.embeddings, labels.astype(np.int64), len(tasks), l2=l2)
    return tasks, weights.astype(np.float32), means, bias


def _candidates(
    classifier: str, temperature: float | None, l2: float | None
) -> list[tuple[str, float, float]]:
    """(classifier, l2, temperature) settings to try."""
    out: list[tuple[str, float, float]] = []
    for name in ("centroid", "softmax") if classifier == "auto" else (classifier,):
        temperatures = TEMPERATURE_GRID if name == "centroid" else SOFTMAX_TEMPERATURES
        penalties = (0.0,) if name == "centroid" else (l2,) if l2 is not None else L2_GRID
        for penalty in penalties:
            out.extend(
                (name, penalty, t) for t in ((temperature,) if temperature is not None else temperatures)
            )
    return out


def train_best_per_task(
    data: TrainingData,
    *,
    temperature: float | None = None,
    classifier: str = "auto",
    l2: float | None = None,
    seed: int = 0,
) -> BestPerTaskRouter:
    """Fit the task classifier and per-task means; settings left open are chosen on a holdout of ``data``.

    Args:
        data: Training data with task labels.
        temperature: Posterior temperature (None: tuned).
        classifier: ``centroid``, ``softmax`` or ``auto`` (whichever routes the holdout better).
        l2: The softmax classifier's L2 penalty (None: tuned).
        seed: Seeds the holdout.
    """
    if classifier not in CLASSIFIERS:
        raise ValueError(f"classifier must be one of {CLASSIFIERS}, got {classifier!r}")
    if len(set(data.tasks)) < 2 and classifier != "centroid":
        classifier = "centroid"  # one task: nothing to classify
    candidates = _candidates(classifier, temperature, l2)
    if len(candidates) > 1:
        fit, val = data.holdout(0.2, seed)
        scored: list[tuple[float, int, tuple[str, float, float]]] = []
        fitted: dict[tuple[str, float], tuple[npt.NDArray[np.float32], FloatArray, FloatArray | None]] = {}
        for name, penalty, temp in candidates:
            if (name, penalty) not in fitted:
                fitted[name, penalty] = _fit_classifier(fit, name, penalty)[1:]
            vectors, means, bias = fitted[name, penalty]
            logits = (val.embeddings @ vectors.T).astype(np.float64) + (0.0 if bias is None else bias)
            score = routing_score(task_posterior(logits, temp) @ means, val.scores, val.costs)
            scored.append((score, -len(scored), (name, penalty, temp)))
        candidates = [max(scored)[2]]
    name, penalty, temp = candidates[0]
    tasks, vectors, means, bias = _fit_classifier(data, name, penalty)
    return BestPerTaskRouter(
        models=data.models, tasks=tasks, centroids=vectors, task_means=means, temperature=temp, bias=bias
    )


def true_task_means(train: TrainingData, test: TrainingData) -> FloatArray:
    """Each test prompt's *labelled* task's mean training quality per model (the overall mean if unseen).

    Not a router (it reads the test labels): the reference for how far task-level routing can go.
    """
    tasks, _, means = task_statistics(train)
    row_of = {task: i for i, task in enumerate(tasks)}
    overall = train.scores.mean(axis=0)
    out: FloatArray = np.asarray([means[row_of[t]] if t in row_of else overall for t in test.tasks])
    return out.reshape(len(test.tasks), len(train.models))
