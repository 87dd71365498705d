"""The softmax task classifier and the best-per-task router built on it; the crossval additions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from routeiq_core.routing.learned import (
    HashingEmbedder,
    HashingEmbedderConfig,
    TrainingData,
    evaluate_kinds,
    train_best_per_task,
    training_data,
)
from routeiq_core.routing.learned.best_per_task import true_task_means
from routeiq_core.routing.learned.task_classifier import fit_softmax, softmax_rows
from tests.unit.routing.learned.synthetic import MODELS, TOPICS, synthetic_table


def clusters(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs in 8 dimensions whose means share a large common component."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    means = np.zeros((3, 8))
    means[:, 0] = 5.0  # common to every class: useless for telling them apart
    means[[0, 1, 2], [1, 2, 3]] = 1.0
    return means[labels] + rng.normal(0.0, 0.3, size=(n, 8)), labels.astype(np.int64)


def test_softmax_separates_classes_and_is_deterministic() -> None:
    x, y = clusters(300, seed=0)
    weights, bias = fit_softmax(x, y, 3, l2=1e-3)
    assert weights.shape == (3, 8)
    assert bias.shape == (3,)
    test_x, test_y = clusters(150, seed=1)
    probabilities = softmax_rows(test_x @ weights.T + bias)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities.argmax(axis=1) == test_y).mean() >= 0.95
    again, _ = fit_softmax(x, y, 3, l2=1e-3)
    np.testing.assert_array_equal(weights, again)


def test_a_stronger_penalty_shrinks_the_weights() -> None:
    x, y = clusters(300, seed=0)
    loose, _ = fit_softmax(x, y, 3, l2=1e-4)
    tight, _ = fit_softmax(x, y, 3, l2=1.0)
    assert np.linalg.norm(tight) < np.linalg.norm(loose) / 2


def test_softmax_rejects_mismatched_labels() -> None:
    with pytest.raises(ValueError, match="as many labels as rows"):
        fit_softmax(np.zeros((3, 2)), np.zeros(2, np.int64), 2, l2=0.0)


@pytest.fixture(scope="module")
def split() -> tuple[TrainingData, TrainingData]:
    table = synthetic_table(360)
    train, test = table.subset(np.arange(240)), table.subset(np.arange(240, 360))
    embedder = HashingEmbedder(HashingEmbedderConfig(dim=256)).fit(train.prompts)
    return training_data(train, embedder), training_data(test, embedder)


def test_softmax_best_per_task_router_classifies_and_saves_its_bias(
    split: tuple[TrainingData, TrainingData],
) -> None:
    train, test = split
    router = train_best_per_task(train, classifier="softmax", l2=1e-3, temperature=0.0)
    assert router.classifier == "softmax"
    assert router.hyperparameters()["classifier"] == "softmax"
    assert set(router.arrays()) == {"centroids", "task_means", "bias"}
    accuracy = np.mean(np.asarray(router.predict_task(test.embeddings)) == np.asarray(test.tasks))
    assert accuracy >= 0.95
    # Hard assignment: each prediction row is exactly one task's training means.
    assert all(any(np.allclose(row, m) for m in router.task_means) for row in router.predict(test.embeddings))


def test_auto_choice_is_made_on_training_data_and_recorded(split: tuple[TrainingData, TrainingData]) -> None:
    train, _ = split
    router = train_best_per_task(train, seed=0)
    assert router.classifier in ("centroid", "softmax")
    assert router.hyperparameters()["classifier"] == router.classifier
    assert train_best_per_task(train, seed=0).temperature == router.temperature  # deterministic


def test_unknown_classifier_is_refused(split: tuple[TrainingData, TrainingData]) -> None:
    with pytest.raises(ValueError, match="classifier must be one of"):
        train_best_per_task(split[0], classifier="forest")


def test_true_task_means_read_the_labels(split: tuple[TrainingData, TrainingData]) -> None:
    train, test = split
    predicted = true_task_means(train, test)
    good = {task: MODELS.index(model) for task, model, _ in TOPICS}
    assert [good[t] for t in test.tasks] == predicted.argmax(axis=1).tolist()


class CountingEmbedder:
    """Wraps a fitted hashing embedder and records every call."""

    def __init__(self, prompts: Sequence[str]) -> None:
        self.inner = HashingEmbedder(HashingEmbedderConfig(dim=128)).fit(prompts)
        self.calls: list[int] = []

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return self.inner.embed(texts)


def test_a_ready_embedder_embeds_the_table_once_for_all_folds() -> None:
    table = synthetic_table(150)
    embedder = CountingEmbedder(table.prompts)
    report = evaluate_kinds(table, ["best_per_task"], folds=3, embedder=embedder, bootstrap_rounds=20)
    assert embedder.calls == [150]
    names = {r.name for r in report.routers}
    assert {"router:best_per_task", "best_per_task", "true_task", "oracle"} <= names
    assert report.folds == 3
    assert report.prompts == 150
