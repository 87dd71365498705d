"""Nearest-neighbour search by inner product: the ``VectorIndex`` port and an exact numpy adapter.

Embeddings are L2-normalised, so inner product is cosine similarity. The app may pass a faiss-backed
index (``routeiq_adapters.vector.FaissVectorIndex``) wherever a :data:`IndexFactory` is accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

F32Array = npt.NDArray[np.float32]
I64Array = npt.NDArray[np.int64]
_QUERY_BLOCK = 256


@runtime_checkable
class VectorIndex(Protocol):
    """Stores vectors and returns the ``k`` with the largest inner product with each query."""

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def __len__(self) -> int:
        """Number of stored vectors."""
        ...

    def add(self, vectors: F32Array) -> None:
        """Append ``(n, dim)`` vectors; their ids continue from ``len(self)``."""
        ...

    def search(self, queries: F32Array, k: int) -> tuple[F32Array, I64Array]:
        """Top-``k`` inner products and ids, each ``(n_queries, min(k, len(self)))``, best first."""
        ...


@runtime_checkable
class PersistentVectorIndex(VectorIndex, Protocol):
    """A vector index that saves itself to one file (for example a faiss index)."""

    index_kind: str

    def save(self, path: Path) -> None:
        """Write the index to ``path``."""
        ...


IndexFactory = Callable[[int], VectorIndex]
"""Builds an empty index for vectors of the given dimension."""


class NumpyExactIndex:
    """Exact inner-product search with numpy (a matrix product per block of queries).

    Args:
        dim: Vector dimension.
    """

    index_kind = "numpy-exact"

    def __init__(self, dim: int) -> None:
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self._dim = dim
        self._vectors = np.zeros((0, dim), dtype=np.float32)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._dim

    def __len__(self) -> int:
        return len(self._vectors)

    def add(self, vectors: F32Array) -> None:
        """Append ``(n, dim)`` vectors."""
        block = np.asarray(vectors, dtype=np.float32)
        if block.ndim != 2 or block.shape[1] != self._dim:
            raise ValueError(f"vectors must have shape (n, {self._dim}), got {block.shape}")
        self._vectors = np.concatenate([self._vectors, block]) if len(self._vectors) else block.copy()

    def search(self, queries: F32Array, k: int) -> tuple[F32Array, I64Array]:
        """Exact top-``k`` by inner product; equal scores are ordered by id."""
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim != 2 or q.shape[1] != self._dim:
            raise ValueError(f"queries must have shape (n, {self._dim}), got {q.shape}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        k = min(k, len(self._vectors))
        scores = np.zeros((len(q), k), dtype=np.float32)
        ids = np.zeros((len(q), k), dtype=np.int64)
        if k == 0:
            return scores, ids
        for start in range(0, len(q), _QUERY_BLOCK):
            sims = q[start : start + _QUERY_BLOCK] @ self._vectors.T
            top = (
                np.argpartition(-sims, k - 1, axis=1)[:, :k]
                if k < sims.shape[1]
                else np.indices(sims.shape)[1]
            )
            top_sims = np.take_along_axis(sims, top, axis=1)
            order = np.lexsort((top, -top_sims), axis=1)
            ids[start : start + len(sims)] = np.take_along_axis(top, order, axis=1)
            scores[start : start + len(sims)] = np.take_along_axis(top_sims, order, axis=1)
        return scores, ids


def numpy_index_factory(dim: int) -> VectorIndex:
    """The default :data:`IndexFactory`: an exact numpy index."""
    return NumpyExactIndex(dim)
