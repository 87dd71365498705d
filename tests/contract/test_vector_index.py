"""One contract for the VectorIndex port, run against every adapter (numpy exact, faiss flat and HNSW)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from routeiq_adapters.vector import FaissVectorIndex
from routeiq_core.routing.learned import NumpyExactIndex, PersistentVectorIndex, VectorIndex

DIM = 32
ADAPTERS: dict[str, Callable[[int], VectorIndex]] = {
    "numpy-exact": NumpyExactIndex,
    "faiss-flat": lambda d: FaissVectorIndex(d, kind="flat"),
    "faiss-hnsw": lambda d: FaissVectorIndex(d, kind="hnsw"),
    "faiss-auto": FaissVectorIndex,
}


@pytest.fixture(params=sorted(ADAPTERS))
def make_index(request: pytest.FixtureRequest) -> Callable[[int], VectorIndex]:
    return ADAPTERS[request.param]


def unit_vectors(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_is_a_vector_index(make_index: Callable[[int], VectorIndex]) -> None:
    index = make_index(DIM)
    assert isinstance(index, VectorIndex)
    assert index.dim == DIM
    assert len(index) == 0


def test_each_vector_finds_itself_first(make_index: Callable[[int], VectorIndex]) -> None:
    index = make_index(DIM)
    data = unit_vectors(500)
    index.add(data)
    scores, ids = index.search(data[:50], 5)
    assert scores.shape == ids.shape == (50, 5)
    assert scores.dtype == np.float32
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids[:, 0], np.arange(50))
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first


def test_scores_are_inner_products(make_index: Callable[[int], VectorIndex]) -> None:
    index = make_index(DIM)
    data, queries = unit_vectors(200), unit_vectors(10, seed=1)
    index.add(data)
    scores, ids = index.search(queries, 3)
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", queries, data[ids]), atol=1e-5)


def test_ids_continue_across_adds(make_index: Callable[[int], VectorIndex]) -> None:
    index = make_index(DIM)
    data = unit_vectors(60)
    index.add(data[:30])
    index.add(data[30:])
    assert len(index) == 60
    _, ids = index.search(data[45:46], 1)
    assert ids[0, 0] == 45


def test_k_larger_than_the_index_is_clamped(make_index: Callable[[int], VectorIndex]) -> None:
    index = make_index(DIM)
    index.add(unit_vectors(3))
    scores, ids = index.search(unit_vectors(2, seed=3), 10)
    assert scores.shape == ids.shape == (2, 3)
    assert sorted(ids[0].tolist()) == [0, 1, 2]


def test_empty_index_returns_nothing(make_index: Callable[[int], VectorIndex]) -> None:
    scores, ids = make_index(DIM).search(unit_vectors(2), 4)
    assert scores.shape == ids.shape == (2, 0)


def test_bad_shapes_are_refused(make_index: Callable[[int], VectorIndex]) -> None:
    index = make_index(DIM)
    with pytest.raises(ValueError, match="shape"):
        index.add(unit_vectors(3, dim=DIM + 1))
    index.add(unit_vectors(3))
    with pytest.raises(ValueError, match="shape"):
        index.search(unit_vectors(1, dim=DIM - 1), 1)
    with pytest.raises(ValueError, match="k must be"):
        index.search(unit_vectors(1), 0)


def test_recall_against_exact_search(make_index: Callable[[int], VectorIndex]) -> None:
    data, queries = unit_vectors(2000, seed=5), unit_vectors(100, seed=6)
    exact = NumpyExactIndex(DIM)
    exact.add(data)
    index = make_index(DIM)
    index.add(data)
    _, truth = exact.search(queries, 10)
    _, found = index.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth.tolist(), found.tolist(), strict=True)])
    assert recall >= 0.95


# Capability subset: indexes that persist themselves to a file.
PERSISTENT = {"faiss-flat": ADAPTERS["faiss-flat"], "faiss-hnsw": ADAPTERS["faiss-hnsw"]}


@pytest.mark.parametrize("name", sorted(PERSISTENT))
def test_save_and_load(name: str, tmp_path: Path) -> None:
    index = PERSISTENT[name](DIM)
    assert isinstance(index, PersistentVectorIndex)
    data = unit_vectors(300)
    index.add(data)
    index.save(tmp_path / "index.faiss")
    loaded = FaissVectorIndex.load(tmp_path / "index.faiss")
    assert len(loaded) == 300
    assert loaded.dim == DIM
    np.testing.assert_array_equal(loaded.search(data[:20], 5)[1], index.search(data[:20], 5)[1])


def test_numpy_index_is_not_persistent() -> None:
    assert not isinstance(NumpyExactIndex(DIM), PersistentVectorIndex)


def test_auto_switches_to_hnsw_when_large(monkeypatch: pytest.MonkeyPatch) -> None:
    import routeiq_adapters.vector.faiss_index as module

    monkeypatch.setattr(module, "EXACT_LIMIT", 100)
    index = FaissVectorIndex(DIM)
    data = unit_vectors(150)
    index.add(data[:80])
    assert index.is_exact
    index.add(data[80:])
    assert not index.is_exact
    assert len(index) == 150
    _, ids = index.search(data[:10], 1)
    np.testing.assert_array_equal(ids[:, 0], np.arange(10))
