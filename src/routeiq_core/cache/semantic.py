"""Semantic cache: answer a prompt with the cached answer of a near-identical earlier prompt.

Prompts are embedded (any :class:`~routeiq_core.routing.learned.embedding.Embedder`: L2-normalised
rows, so inner product is cosine similarity) and searched exactly with numpy among the entries of
the same :class:`SemanticScope` only: one model group, one tenant, one parameter variant. A lookup
hits when the best similarity reaches ``threshold``. Each scope keeps at most ``max_entries``,
evicting the least recently used; at most ``max_scopes`` scopes are kept (least recently used go).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio.to_thread
import msgspec
import numpy as np
import numpy.typing as npt
from cachetools import LRUCache

from routeiq_core.cache.entry import CachedResponse
from routeiq_core.guardrails.chat_text import conversation
from routeiq_core.routing.learned.embedding import Embedder

F32Array = npt.NDArray[np.float32]


class SemanticScope(msgspec.Struct, frozen=True):
    """Entries are only ever matched within one scope.

    Attributes:
        model_group: The model group answering.
        tenant: The tenant scope (:func:`routeiq_core.cache.keys.tenant_scope`).
        variant: Anything else that must match exactly, such as the request's
            :func:`~routeiq_core.cache.keys.params_fingerprint`.
    """

    model_group: str
    tenant: str
    variant: str = ""


def semantic_text(payload: Mapping[str, Any]) -> str:
    """The text a request is matched on: every turn as ``role: text``, one per line (system included)."""
    return "\n".join(f"{role}: {text}" for role, text in conversation(payload))


class _Bucket:
    """One scope's vectors and entries; rows are reused after eviction."""

    __slots__ = ("entries", "last_used", "vectors")

    def __init__(self, dim: int) -> None:
        self.vectors: F32Array = np.zeros((0, dim), dtype=np.float32)
        self.entries: list[CachedResponse | None] = []
        self.last_used: list[int] = []

    def best(self, query: F32Array) -> tuple[int, float]:
        if not self.entries:
            return -1, -1.0
        sims = self.vectors[: len(self.entries)] @ query
        index = int(np.argmax(sims))
        return index, float(sims[index])

    def append(self, max_entries: int) -> int:
        """A new row at the end (growing the matrix by doubling, up to ``max_entries`` rows)."""
        used = len(self.entries)
        if used == self.vectors.shape[0]:
            grown = np.zeros((min(max_entries, max(16, 2 * used)), self.vectors.shape[1]), dtype=np.float32)
            grown[:used] = self.vectors
            self.vectors = grown
        self.entries.append(None)
        self.last_used.append(0)
        return used

    def free(self, index: int) -> None:
        self.entries[index] = None
        self.vectors[index] = 0.0


class SemanticCache:
    """Per-scope nearest-prompt cache.

    Args:
        embedder: Embeds prompts into unit-norm ``float32`` vectors.
        threshold: Cosine similarity at or above which a cached answer is served (in ``(0, 1]``).
        max_entries: Entries per scope; the least recently used is evicted beyond it.
        max_scopes: Scopes kept; the least recently used scope is dropped beyond it.
        ttl_s: Entries older than this (by ``CachedResponse.created``) are not served.
        clock: Unix time, compared with ``created``.
        offload: Embed in a worker thread (keep the event loop free for a heavy embedder).
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        threshold: float = 0.95,
        max_entries: int = 1_000,
        max_scopes: int = 10_000,
        ttl_s: float | None = None,
        clock: Callable[[], float] = time.time,
        offload: bool = True,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if max_entries < 1 or max_scopes < 1:
            raise ValueError("max_entries and max_scopes must be at least 1")
        self._embedder = embedder
        self.threshold = threshold
        self._max_entries = max_entries
        self._ttl_s = ttl_s
        self._clock = clock
        self._offload = offload
        self._buckets: LRUCache[SemanticScope, _Bucket] = LRUCache(maxsize=max_scopes)
        self._tick = 0

    async def _embed(self, text: str) -> F32Array:
        if self._offload:
            rows = await anyio.to_thread.run_sync(self._embedder.embed, [text])
        else:
            rows = self._embedder.embed([text])
        return np.ascontiguousarray(rows[0], dtype=np.float32)

    def _live(self, entry: CachedResponse | None) -> bool:
        return entry is not None and (self._ttl_s is None or self._clock() - entry.created < self._ttl_s)

    def _touch(self, bucket: _Bucket, index: int) -> None:
        self._tick += 1
        bucket.last_used[index] = self._tick

    async def lookup(self, scope: SemanticScope, text: str) -> tuple[CachedResponse, float] | None:
        """The cached answer of the most similar prompt in ``scope`` and its similarity, if close enough."""
        if self._buckets.get(scope) is None:
            return None
        query = await self._embed(text)
        bucket = self._buckets.get(scope)
        if bucket is None:
            return None
        index, similarity = bucket.best(query)
        if index < 0 or similarity < self.threshold:
            return None
        entry = bucket.entries[index]
        if entry is None or not self._live(entry):
            bucket.free(index)
            return None
        self._touch(bucket, index)
        return entry, similarity

    async def add(self, scope: SemanticScope, text: str, entry: CachedResponse) -> None:
        """Cache ``entry`` as the answer to ``text`` in ``scope`` (replacing a near-identical prompt's)."""
        vector = await self._embed(text)
        bucket = self._buckets.get(scope)
        if bucket is None:
            bucket = _Bucket(self._embedder.dim)
            self._buckets[scope] = bucket
        index = self._slot(bucket, vector)
        bucket.vectors[index] = vector
        bucket.entries[index] = entry
        self._touch(bucket, index)

    def _slot(self, bucket: _Bucket, vector: F32Array) -> int:
        """The row to write: a near-identical prompt's, a free or expired one, a new one, or the LRU one."""
        index, similarity = bucket.best(vector)
        if index >= 0 and similarity >= self.threshold:
            return index
        for i, existing in enumerate(bucket.entries):
            if not self._live(existing):
                return i
        if len(bucket.entries) < self._max_entries:
            return bucket.append(self._max_entries)
        return int(np.argmin(bucket.last_used))

    def clear(self, scope: SemanticScope) -> int:
        """Drop every entry of ``scope``; how many live entries there were."""
        bucket = self._buckets.pop(scope, None)
        return 0 if bucket is None else sum(1 for e in bucket.entries if self._live(e))

    def size(self, scope: SemanticScope) -> int:
        """Live entries in ``scope``."""
        bucket = self._buckets.get(scope)
        return 0 if bucket is None else sum(1 for e in bucket.entries if self._live(e))
