"""Turn prompts into vectors: the ``Embedder`` port and a numpy-only hashing embedder.

``HashingEmbedder`` needs no download and no training: word uni/bigrams and character n-grams are
hashed (a fixed, seeded 64-bit mix, identical in every process) into ``2**hash_bits`` features,
weighted by sublinear term frequency and, after an optional :meth:`HashingEmbedder.fit`, by inverse
document frequency, then folded into ``dim`` dense dimensions by a signed hashing projection and
L2-normalised.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import msgspec
import numpy as np
import numpy.typing as npt

F32Array = npt.NDArray[np.float32]
U64Array = npt.NDArray[np.uint64]

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD_INT = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_PRIME = np.uint64(0x100000001B3)
_CHUNK = 1024
_ENDINGS = ("?", ".", ":", ")", '"', "!")


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised ``float32`` vectors of a fixed dimension."""

    @property
    def dim(self) -> int:
        """The vector dimension."""
        ...

    def embed(self, texts: Sequence[str]) -> F32Array:
        """Embed ``texts`` into an ``(len(texts), dim)`` array whose rows have unit norm (or are zero)."""
        ...


@runtime_checkable
class SaveableEmbedder(Embedder, Protocol):
    """An embedder whose configuration and learned state can be stored in a router artifact."""

    kind: str

    def config_dict(self) -> dict[str, object]:
        """JSON-ready configuration."""
        ...

    def state(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Learned arrays (may be empty)."""
        ...


class HashingEmbedderConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Hyperparameters of :class:`HashingEmbedder` (saved in router artifacts).

    Attributes:
        dim: Output dimension.
        hash_bits: The sparse feature space has ``2**hash_bits`` slots (IDF is kept per slot).
        word_ngrams: Smallest and largest word n-gram.
        char_ngrams: Smallest and largest character n-gram (0, 0 turns them off).
        char_weight: Weight of the character block relative to the word block.
        shape_weight: Weight of the shape cues (length, casing, ending, digits; 0 turns them off).
        max_chars: Texts are cut to this many characters (head and tail kept).
        seed: Hash seed; a different seed gives a different (equally good) projection.
    """

    dim: int = 1024
    hash_bits: int = 18
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)
    char_weight: float = 0.5
    shape_weight: float = 0.3
    max_chars: int = 3000
    seed: int = 0


def _mix(h: U64Array) -> U64Array:
    """splitmix64 finaliser: a well-spread 64-bit hash of ``h`` (wrapping arithmetic)."""
    h = h ^ (h >> np.uint64(30))
    h = h * _M1
    h = h ^ (h >> np.uint64(27))
    h = h * _M2
    return h ^ (h >> np.uint64(31))


def _group(
    keys: npt.NDArray[np.int64], weights: F32Array
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Distinct ``keys`` with their counts and weight sums (sort based: faster than ``np.unique`` here)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) if len(keys) else order
    counts = np.diff(np.append(starts, len(keys))).astype(np.float64)
    sums = np.add.reduceat(weights[order].astype(np.float64), starts) if len(keys) else counts
    return ordered[starts], counts, sums


def shape_tokens(text: str) -> list[str]:
    """Case- and layout-level cues that lowercased n-grams lose: length, lines, casing, ending, digits."""
    stripped = text.strip()
    digits = sum(c.isdigit() for c in stripped)
    last = stripped[-1:]
    tokens = [
        f"len:{min(len(stripped).bit_length(), 14)}",
        f"lines:{min(stripped.count(chr(10)), 8).bit_length()}",
        f"digits:{min(10 * digits // max(len(stripped), 1), 5)}",
        f"end:{last if last in _ENDINGS else 'other'}",
        f"start:{'upper' if stripped[:1].isupper() else 'lower' if stripped[:1].islower() else 'other'}",
    ]
    upper_words = sum(w[:1].isupper() for w in stripped.split()[1:])
    tokens.append(f"caps:{min(upper_words, 8).bit_length()}")
    return tokens


def _normalise(text: str, max_chars: int) -> str:
    text = _SPACE.sub(" ", text.lower()).strip()
    if len(text) > max_chars:
        half = max_chars // 2
        text = text[:half] + " " + text[-half:]
    return text


class HashingEmbedder:
    """Feature-hashing text embedder (numpy only, deterministic across processes and machines).

    Args:
        config: Hyperparameters.
        idf: Per-slot inverse document frequency, as produced by :meth:`fit` (``None``: all ones).
    """

    kind = "hashing"

    def __init__(self, config: HashingEmbedderConfig | None = None, *, idf: F32Array | None = None) -> None:
        self.config = config or HashingEmbedderConfig()
        if self.config.dim < 2 or not 8 <= self.config.hash_bits <= 24:
            raise ValueError("dim must be >= 2 and hash_bits between 8 and 24")
        if idf is not None and idf.shape != (1 << self.config.hash_bits,):
            raise ValueError(f"idf must have shape ({1 << self.config.hash_bits},), got {idf.shape}")
        self.idf = None if idf is None else np.asarray(idf, dtype=np.float32)
        slots = np.arange(1 << self.config.hash_bits, dtype=np.uint64)
        mixed = _mix(slots ^ np.uint64((self.config.seed * 0x51ED27 + 0xA5A5) & _MASK))
        self._bucket = (mixed % np.uint64(self.config.dim)).astype(np.int64)
        self._sign = np.where((mixed >> np.uint64(63)) == 1, -1.0, 1.0).astype(np.float32)

    @property
    def dim(self) -> int:
        """The output dimension."""
        return self.config.dim

    def config_dict(self) -> dict[str, object]:
        """The configuration as JSON-ready values."""
        return dict(msgspec.to_builtins(self.config))

    @classmethod
    def from_saved(
        cls, config: Mapping[str, object], state: Mapping[str, npt.NDArray[np.generic]]
    ) -> HashingEmbedder:
        """Rebuild from :meth:`config_dict` and :meth:`state` output."""
        idf = state.get("idf")
        return cls(
            msgspec.convert(dict(config), HashingEmbedderConfig),
            idf=None if idf is None else np.asarray(idf, dtype=np.float32),
        )

    def state(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Arrays to save in an artifact (empty when unfitted)."""
        return {} if self.idf is None else {"idf": self.idf}

    def fit(self, texts: Sequence[str]) -> HashingEmbedder:
        """Learn inverse document frequencies from ``texts``; returns ``self``."""
        n_slots = 1 << self.config.hash_bits
        df = np.zeros(n_slots, dtype=np.float64)
        for start in range(0, len(texts), _CHUNK):
            rows, slots, _ = self._features(texts[start : start + _CHUNK])
            keys, _, _ = _group(rows * n_slots + slots, np.zeros(len(rows), dtype=np.float32))
            df += np.bincount(keys % n_slots, minlength=n_slots)
        self.idf = (np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0).astype(np.float32)
        return self

    def embed(self, texts: Sequence[str]) -> F32Array:
        """Embed ``texts`` into L2-normalised rows of shape ``(len(texts), dim)``."""
        out = np.zeros((len(texts), self.config.dim), dtype=np.float32)
        for start in range(0, len(texts), _CHUNK):
            chunk = texts[start : start + _CHUNK]
            out[start : start + len(chunk)] = self._embed_chunk(chunk)
        return out

    def _embed_chunk(self, texts: Sequence[str]) -> F32Array:
        n, n_slots, dim = len(texts), 1 << self.config.hash_bits, self.config.dim
        rows, slots, weights = self._features(texts)
        keys, counts, weight_sums = _group(rows * n_slots + slots, weights)
        block_weight = weight_sums / counts
        rows_u, slots_u = keys // n_slots, keys % n_slots
        values = block_weight * (1.0 + np.log(counts))
        if self.idf is not None:
            values = values * self.idf[slots_u]
        target = rows_u * dim + self._bucket[slots_u]
        flat = np.bincount(target, weights=values * self._sign[slots_u], minlength=n * dim)
        dense: F32Array = flat.reshape(n, dim).astype(np.float32)
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        return np.asarray(dense / np.where(norms > 0, norms, 1.0), dtype=np.float32)

    def _features(
        self, texts: Sequence[str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], F32Array]:
        """Hashed features of ``texts`` as (row, slot, weight) triples (repeats not merged)."""
        cfg = self.config
        normalised = [_normalise(t, cfg.max_chars) for t in texts]
        parts = [
            self._word_features(normalised),
            self._char_features(normalised),
            self._shape_features(texts),
        ]
        rows = np.concatenate([p[0] for p in parts])
        hashes = np.concatenate([p[1] for p in parts])
        weights = np.concatenate([p[2] for p in parts])
        slots = (_mix(hashes ^ np.uint64(cfg.seed & _MASK)) >> np.uint64(64 - cfg.hash_bits)).astype(np.int64)
        return rows, slots, weights

    def _shape_features(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], U64Array, F32Array]:
        if self.config.shape_weight <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros(0, np.float32)
        rows: list[int] = []
        hashes: list[int] = []
        for i, text in enumerate(texts):
            tokens = shape_tokens(text)
            rows.extend([i] * len(tokens))
            hashes.extend(zlib.crc32(t.encode()) ^ 0x5AFE0000 for t in tokens)
        weight = np.float32(self.config.shape_weight)
        return (
            np.asarray(rows, np.int64),
            _mix(np.asarray(hashes, np.uint64)),
            np.full(len(rows), weight, np.float32),
        )

    def _word_features(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], U64Array, F32Array]:
        lo, hi = self.config.word_ngrams
        token_rows: list[int] = []
        token_hashes: list[int] = []
        for i, text in enumerate(texts):
            words = _WORD.findall(text) or [""]
            token_rows.extend([i] * len(words))
            token_hashes.extend(zlib.crc32(w.encode()) for w in words)
        rows = np.asarray(token_rows, dtype=np.int64)
        base = np.asarray(token_hashes, dtype=np.uint64)
        out_rows, out_hashes = [], []
        for n in range(max(lo, 1), hi + 1):
            if len(base) < n:
                break
            h = np.full(len(base) - n + 1, (n * _GOLD_INT) & _MASK, dtype=np.uint64)
            for j in range(n):
                h = _mix(h ^ base[j : len(base) - n + 1 + j])
            start_rows = rows[: len(base) - n + 1]
            same = start_rows == rows[n - 1 :]
            out_rows.append(start_rows[same])
            out_hashes.append(h[same])
        all_rows = np.concatenate(out_rows) if out_rows else np.zeros(0, np.int64)
        all_hashes = np.concatenate(out_hashes) if out_hashes else np.zeros(0, np.uint64)
        return all_rows, all_hashes, np.ones(len(all_rows), dtype=np.float32)

    def _char_features(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], U64Array, F32Array]:
        lo, hi = self.config.char_ngrams
        empty = (np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros(0, np.float32))
        if hi <= 0 or self.config.char_weight <= 0:
            return empty
        encoded = [(" " + t + " ").encode() for t in texts]
        data = np.frombuffer(b"".join(encoded), dtype=np.uint8).astype(np.uint64)
        lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        out_rows, out_hashes = [], []
        for n in range(max(lo, 1), hi + 1):
            if len(data) < n:
                break
            count = len(data) - n + 1
            h = np.full(count, np.uint64(0xCBF29CE484222325) ^ np.uint64(n << 56), dtype=np.uint64)
            for j in range(n):
                h = (h ^ data[j : count + j]) * _PRIME
            same = rows[:count] == rows[n - 1 :]
            out_rows.append(rows[:count][same])
            out_hashes.append(_mix(h[same]) ^ np.uint64(0x5EED))
        if not out_rows:
            return empty
        all_rows = np.concatenate(out_rows)
        weight = np.float32(self.config.char_weight)
        return all_rows, np.concatenate(out_hashes), np.full(len(all_rows), weight, dtype=np.float32)
