"""Prompt features, the per-task difficulty prior and the feature embedder (saved and reloaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routeiq_core.routing.learned import (
    FEATURE_NAMES,
    FeatureEmbedder,
    HashingEmbedder,
    HashingEmbedderConfig,
    TaskPrior,
    load_router,
    prompt_features,
    save_router,
)
from routeiq_core.routing.learned.auto_fit import fit_candidate
from routeiq_core.routing.learned.selection import Candidate
from tests.unit.routing.learned.synthetic import synthetic_table


def column(name: str) -> int:
    return FEATURE_NAMES.index(name)


def test_features_measure_length_numbers_code_question_and_script() -> None:
    texts = [
        "hi",
        "Compute 12 + 7 * 3 = ? and 4.5 / 9",
        "```python\ndef f(x):\n    return {x: [1]}\n```",
        "Why is the sky blue?",
        "日本語の質問です",
        "Which one?\nA) red\nB) blue\nC) green",
    ]
    f = prompt_features(texts)
    assert f.shape == (len(texts), len(FEATURE_NAMES))
    assert f[1, column("log_chars")] > f[0, column("log_chars")]
    assert f[1, column("digit_share")] > 0.1
    assert f[1, column("log_numbers")] == pytest.approx(np.log1p(5))
    assert f[1, column("math_share")] > f[3, column("math_share")]
    assert f[2, column("code_fences")] == pytest.approx(np.log1p(2))
    assert f[2, column("code_keywords")] > 0
    assert f[2, column("log_lines")] > 0
    assert f[3, column("question_words")] > 0
    assert f[3, column("ends_question")] == 1.0
    assert f[0, column("ends_question")] == 0.0
    assert f[4, column("non_ascii_share")] == pytest.approx(1.0)
    assert f[0, column("non_ascii_share")] == 0.0
    assert f[5, column("choice_markers")] == pytest.approx(np.log1p(3))
    assert prompt_features([]).shape == (0, len(FEATURE_NAMES))


def test_task_prior_smooths_small_tasks_towards_the_global_mean() -> None:
    embeddings = np.eye(3, dtype=np.float32)[[0] * 50 + [1] * 50 + [2]]
    scores = np.zeros((101, 2))
    scores[:50, 0] = 1.0  # task a: model 0 always right
    scores[100, :] = 1.0  # task c: one prompt, both right
    tasks = ["a"] * 50 + ["b"] * 50 + ["c"]
    prior = TaskPrior.fit(embeddings, tasks, scores, smoothing=20.0, temperature=0.01)
    overall = scores.mean(axis=0)
    predicted = prior.predict(np.eye(3, dtype=np.float32))
    assert predicted[0, 0] == pytest.approx((50 + 20 * overall[0]) / 70, abs=1e-6)
    assert predicted[1, 0] == pytest.approx((20 * overall[0]) / 70, abs=1e-6)
    # The one-prompt task is pulled most of the way to the global mean, not reported as 1.0.
    assert predicted[2, 1] == pytest.approx((1 + 20 * overall[1]) / 21, abs=1e-6)
    assert predicted[2, 1] < 0.1
    # A prompt unlike every task (orthogonal to all centroids) gets the mix of the known ones.
    far = prior.predict(np.zeros((1, 3), dtype=np.float32))
    assert far[0, 0] == pytest.approx(prior.means[:, 0].mean())


def test_feature_embedder_rows_are_unit_and_wider_than_the_base() -> None:
    table = synthetic_table(120)
    base = HashingEmbedder(HashingEmbedderConfig(dim=64)).fit(table.prompts)
    prior = TaskPrior.fit(base.embed(table.prompts), table.tasks, table.scores)
    embedder = FeatureEmbedder.fit(base, table.prompts, prior=prior)
    assert embedder.dim == 64 + len(FEATURE_NAMES) + len(table.models)
    x = embedder.embed(table.prompts[:10])
    assert x.shape == (10, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    # The extra columns carry information: the prior block differs between tasks.
    prior_block = x[:, 64 + len(FEATURE_NAMES) :]
    assert np.ptp(prior_block, axis=0).max() > 0.01


def test_features_router_round_trips_through_an_artifact(tmp_path: Path) -> None:
    table = synthetic_table(150)
    base = HashingEmbedder(HashingEmbedderConfig(dim=64)).fit(table.prompts)
    model = fit_candidate(Candidate(name="lf", kind="linear", features=True), table, base)
    assert isinstance(model.embedder, FeatureEmbedder)
    loaded = load_router(save_router(model, tmp_path / "art"))
    assert isinstance(loaded.embedder, FeatureEmbedder)
    prompts = [*table.prompts[:20], "an unseen prompt with 42 numbers?"]
    np.testing.assert_allclose(loaded.predict(prompts), model.predict(prompts), rtol=1e-5, atol=1e-6)
