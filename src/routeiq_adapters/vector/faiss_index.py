"""``FaissVectorIndex``: the core's ``VectorIndex`` port over faiss (exact flat or HNSW, inner product)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.vector_index import VectorIndex

F32Array = npt.NDArray[np.float32]
I64Array = npt.NDArray[np.int64]
EXACT_LIMIT = 20_000
KINDS = ("auto", "flat", "hnsw")


class FaissVectorIndex:
    """Inner-product search with faiss.

    ``kind="auto"`` keeps an exact ``IndexFlatIP`` below :data:`EXACT_LIMIT` vectors and moves to an
    approximate ``IndexHNSWFlat`` (inner product) when it grows past it; ``"flat"`` and ``"hnsw"``
    force one of them.

    Args:
        dim: Vector dimension.
        kind: ``auto``, ``flat`` or ``hnsw``.
        hnsw_neighbours: HNSW graph degree (``M``).
        ef_search: HNSW search breadth (recall vs speed).
        ef_construction: HNSW build breadth.
    """

    index_kind = "faiss"

    def __init__(
        self,
        dim: int,
        *,
        kind: str = "auto",
        hnsw_neighbours: int = 32,
        ef_search: int = 128,
        ef_construction: int = 200,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self._dim, self._kind = dim, kind
        self._m, self._ef_search, self._ef_construction = hnsw_neighbours, ef_search, ef_construction
        self._index: Any = self._hnsw() if kind == "hnsw" else faiss.IndexFlatIP(dim)

    def _hnsw(self) -> Any:
        index = faiss.IndexHNSWFlat(self._dim, self._m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self._ef_construction
        index.hnsw.efSearch = self._ef_search
        return index

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._dim

    @property
    def is_exact(self) -> bool:
        """True while the index is a flat (exact) one."""
        return isinstance(self._index, faiss.IndexFlat)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: F32Array) -> None:
        """Append ``(n, dim)`` vectors (switching to HNSW past :data:`EXACT_LIMIT` in ``auto`` mode)."""
        block = np.ascontiguousarray(vectors, dtype=np.float32)
        if block.ndim != 2 or block.shape[1] != self._dim:
            raise ValueError(f"vectors must have shape (n, {self._dim}), got {block.shape}")
        if self._kind == "auto" and self.is_exact and len(self) + len(block) >= EXACT_LIMIT:
            stored = (
                self._index.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self._dim), np.float32)
            )
            self._index = self._hnsw()
            if len(stored):
                self._index.add(stored)
        if len(block):
            self._index.add(block)

    def search(self, queries: F32Array, k: int) -> tuple[F32Array, I64Array]:
        """Top-``min(k, len(self))`` inner products and ids per query, best first."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if q.ndim != 2 or q.shape[1] != self._dim:
            raise ValueError(f"queries must have shape (n, {self._dim}), got {q.shape}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        k = min(k, len(self))
        if k == 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        scores, ids = self._index.search(q, k)
        return np.asarray(scores, dtype=np.float32), np.asarray(ids, dtype=np.int64)

    def save(self, path: Path) -> None:
        """Write the index with ``faiss.write_index``."""
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> FaissVectorIndex:
        """Read an index written by :meth:`save`."""
        raw: Any = faiss.read_index(str(path))
        hnsw = not isinstance(raw, faiss.IndexFlat)
        loaded = cls(int(raw.d), kind="hnsw" if hnsw else "flat")
        if hnsw:
            raw.hnsw.efSearch = loaded._ef_search
        loaded._index = raw
        return loaded


def faiss_index_factory(dim: int) -> VectorIndex:
    """An ``IndexFactory`` building ``FaissVectorIndex(dim)`` (exact below 20k vectors, HNSW above)."""
    return FaissVectorIndex(dim)
