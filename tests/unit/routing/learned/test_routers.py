"""Every router learns the synthetic table's obvious rule: each topic has one good model."""

from __future__ import annotations

import numpy as np
import pytest

from routeiq_core.routing.learned import (
    TRAINABLE_KINDS,
    EloRouter,
    HashingEmbedder,
    HashingEmbedderConfig,
    KnnRouter,
    QualityRouter,
    SemanticRoute,
    TrainingData,
    build_semantic_router,
    calibrate_threshold,
    decide_batch,
    train_best_per_task,
    train_elo,
    train_knn,
    train_linear,
    train_router,
    training_data,
)
from tests.unit.routing.learned.synthetic import MODELS, best_model_per_row, synthetic_table


@pytest.fixture(scope="module")
def split() -> tuple[TrainingData, TrainingData, np.ndarray]:
    table = synthetic_table(360)
    train, test = table.subset(np.arange(240)), table.subset(np.arange(240, 360))
    embedder = HashingEmbedder(HashingEmbedderConfig(dim=256)).fit(train.prompts)
    return training_data(train, embedder), training_data(test, embedder), best_model_per_row(test)


def _accuracy(router: QualityRouter, test: TrainingData, good: np.ndarray) -> float:
    predicted = router.predict(test.embeddings)
    assert predicted.shape == (len(test), len(MODELS))
    assert np.isfinite(predicted).all()
    return float((decide_batch(predicted, np.zeros_like(predicted)) == good).mean())


@pytest.mark.parametrize("kind", [k for k in TRAINABLE_KINDS if k != "threshold"])
def test_every_kind_learns_the_topic_rule(
    kind: str, split: tuple[TrainingData, TrainingData, np.ndarray]
) -> None:
    train, test, good = split
    hyper = (
        {"epochs": 60, "patience": 15, "learning_rate": 5e-3}
        if kind in ("mlp", "matrix_factorization")
        else {}
    )
    router = train_router(kind, train, seed=0, **hyper)
    assert router.models == MODELS
    assert _accuracy(router, test, good) >= 0.9


def test_training_is_deterministic(split: tuple[TrainingData, TrainingData, np.ndarray]) -> None:
    train, test, _ = split
    for kind, hyper in (("mlp", {"epochs": 3}), ("matrix_factorization", {"epochs": 3}), ("knn", {"k": 5})):
        a = train_router(kind, train, seed=3, **hyper).predict(test.embeddings)
        b = train_router(kind, train, seed=3, **hyper).predict(test.embeddings)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", ["global", "task", "similarity"])
def test_elo_modes(mode: str, split: tuple[TrainingData, TrainingData, np.ndarray]) -> None:
    train, test, good = split
    router = train_elo(train, mode=mode)
    rates = router.predict(test.embeddings)
    assert ((rates >= 0) & (rates <= 1)).all()
    if mode == "global":
        assert (rates == rates[0]).all()  # prompt independent
    else:
        assert _accuracy(router, test, good) >= 0.9


def test_elo_rejects_unknown_mode(split: tuple[TrainingData, TrainingData, np.ndarray]) -> None:
    with pytest.raises(ValueError, match="mode"):
        EloRouter(
            models=MODELS, mode="nope", centroids=np.ones((1, 4), np.float32), strengths=np.ones((1, 3))
        )


def test_knn_with_mean_base_is_the_shrunk_neighbour_mean(
    split: tuple[TrainingData, TrainingData, np.ndarray],
) -> None:
    train, test, _ = split
    router = train_knn(train, k=5, power=0.0, prior=1.0, base="mean")
    assert isinstance(router, KnnRouter)
    assert router.base is None
    sims, ids = router.index.search(test.embeddings[:3], 5)
    weights = (sims > 0).astype(float)  # power 0: every positive-similarity neighbour counts once
    expected = (np.einsum("nk,nkm->nm", weights, train.scores[ids]) + train.scores.mean(0)) / (
        weights.sum(1, keepdims=True) + 1.0
    )
    np.testing.assert_allclose(router.predict(test.embeddings[:3]), expected, rtol=1e-6)


def test_best_per_task_predicts_tasks(split: tuple[TrainingData, TrainingData, np.ndarray]) -> None:
    train, test, _ = split
    router = train_best_per_task(train, temperature=0.0)
    assert np.mean(np.array(router.predict_task(test.embeddings)) == np.array(test.tasks)) >= 0.9
    assert router.predict(test.embeddings).max() <= 1.0


def test_linear_router_tunes_alpha_on_training_data(
    split: tuple[TrainingData, TrainingData, np.ndarray],
) -> None:
    train, _, _ = split
    assert train_linear(train).alpha > 0


def test_threshold_router_hits_the_target_share() -> None:
    table = synthetic_table(300)
    two = table.subset(np.arange(300))
    two = type(two)(
        ids=two.ids, prompts=two.prompts, tasks=two.tasks, models=MODELS[:2],
        scores=two.scores[:, :2], costs=two.costs[:, :2],
    )  # fmt: skip
    embedder = HashingEmbedder(HashingEmbedderConfig(dim=128)).fit(two.prompts)
    data = training_data(two, embedder)
    base = train_linear(data)
    for share in (0.0, 0.25, 0.5, 1.0):
        router = calibrate_threshold(base, data, share)
        strong_calls = router.strong_calls(data.embeddings).mean()
        assert abs(strong_calls - share) <= 0.02
        decisions = decide_batch(router.predict(data.embeddings), np.zeros((300, 2)))
        assert abs((decisions == router.strong).mean() - strong_calls) <= 0.01
    with pytest.raises(ValueError, match="target_strong_share"):
        calibrate_threshold(base, data, 1.5)


def test_threshold_needs_two_models(split: tuple[TrainingData, TrainingData, np.ndarray]) -> None:
    train, _, _ = split
    with pytest.raises(ValueError, match="two models"):
        calibrate_threshold(train_linear(train), train, 0.5)


def test_semantic_router_routes_by_utterance() -> None:
    embedder = HashingEmbedder(HashingEmbedderConfig(dim=256))
    routes = (
        SemanticRoute(
            name="code", model="coder", utterances=("write a python function", "fix this bug in my code")
        ),
        SemanticRoute(name="chitchat", model="small", utterances=("hello how are you", "tell me a joke")),
    )
    router = build_semantic_router(routes, embedder, default_model="big", threshold=0.3)
    prompts = [
        "please write a python function to sort a list",
        "hello, how are you today?",
        "quantum gravity",
    ]
    x = embedder.embed(prompts)
    assert router.match(x) == ("code", "chitchat", None)
    chosen = decide_batch(router.predict(x), np.zeros((3, 3)))
    assert [router.models[i] for i in chosen] == ["coder", "small", "big"]
    with pytest.raises(ValueError, match="not among"):
        build_semantic_router(routes, embedder, default_model="big", models=("big",))


def test_semantic_is_not_trainable() -> None:
    with pytest.raises(ValueError, match="build_semantic_router"):
        train_router("semantic", synthetic_table(30), HashingEmbedder())
