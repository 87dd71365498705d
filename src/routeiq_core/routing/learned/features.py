"""Cheap prompt features beside the embedding, and per-task difficulty priors (numpy only).

:func:`prompt_features` measures what bag-of-n-gram embeddings blur: length, layout, numbers, math and
code markers, question form, multiple-choice options and script. :class:`TaskPrior` turns a table's
``task`` labels into a per-model difficulty prior for *new* prompts: a nearest-centroid task posterior
(from the embedding, since a served prompt carries no label) times each task's smoothed mean score.
:class:`FeatureEmbedder` appends both, standardised and weighted, to a base embedder's vectors and
re-normalises, so every router family can use them unchanged, and an artifact can save them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.embedding import Embedder, F32Array, SaveableEmbedder

FloatArray = npt.NDArray[np.float64]
EmbedderLoader = Callable[[Mapping[str, Any], Mapping[str, npt.NDArray[Any]]], Embedder]

FEATURE_NAMES = (
    "log_chars",
    "log_words",
    "log_lines",
    "mean_word_length",
    "digit_share",
    "log_numbers",
    "math_share",
    "latex_markers",
    "code_fences",
    "code_share",
    "code_keywords",
    "question_words",
    "ends_question",
    "choice_markers",
    "non_ascii_share",
    "upper_share",
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"\w+", re.UNICODE)
_MATH = frozenset("+-*/=^<>%|\u221a\u2211\u222b\u03c0\u2264\u2265\u2260\u00b1\u00d7\u00f7")
_CODE = frozenset("{}[]();_#\\")
_LATEX = re.compile(r"\\(?:frac|sqrt|sum|int|cdot|times|le|ge|pi|alpha|beta|theta)|\$[^$]+\$")
_KEYWORDS = re.compile(
    r"\b(?:def|return|import|class|function|const|var|let|public|static|void|int|#include|"
    r"select|from|where|print|lambda|for|while|elif|else)\b"
)
_QUESTION = re.compile(r"\b(?:what|why|how|which|who|whom|whose|when|where|whether)\b", re.IGNORECASE)
_CHOICE = re.compile(r"(?:^|\s|\()[A-Ha-h][.):]\s", re.MULTILINE)


def _one(text: str) -> list[float]:
    n = max(len(text), 1)
    words = _WORD.findall(text)
    lower = text.lower()
    letters = sum(c.isalpha() for c in text)
    return [
        float(np.log1p(len(text))),
        float(np.log1p(len(words))),
        float(np.log1p(text.count("\n"))),
        float(np.mean([len(w) for w in words])) if words else 0.0,
        sum(c.isdigit() for c in text) / n,
        float(np.log1p(len(_NUMBER.findall(text)))),
        sum(c in _MATH for c in text) / n,
        float(np.log1p(len(_LATEX.findall(text)))),
        float(np.log1p(text.count("```"))),
        sum(c in _CODE for c in text) / n,
        float(np.log1p(len(_KEYWORDS.findall(lower)))),
        float(np.log1p(len(_QUESTION.findall(text)))),
        1.0 if text.rstrip().endswith("?") else 0.0,
        float(np.log1p(len(_CHOICE.findall(text)))),
        sum(ord(c) > 127 for c in text) / n,
        sum(c.isupper() for c in text) / max(letters, 1),
    ]


def prompt_features(texts: Sequence[str]) -> FloatArray:
    """Raw :data:`FEATURE_NAMES` values, ``(len(texts), len(FEATURE_NAMES))`` (not standardised)."""
    if not texts:
        return np.zeros((0, len(FEATURE_NAMES)))
    return np.asarray([_one(t) for t in texts], dtype=np.float64)


class TaskPrior:
    """Per-task smoothed mean score per model, looked up through a nearest-centroid task posterior.

    Args:
        tasks: Task names (rows of ``centroids`` and ``means``).
        centroids: ``(t, dim)`` unit-norm mean embeddings of each task's training prompts.
        means: ``(t, m)`` smoothed mean score of each model on each task.
        temperature: Softmax temperature over cosine similarities (small: nearly the closest task).
    """

    def __init__(
        self, *, tasks: tuple[str, ...], centroids: F32Array, means: FloatArray, temperature: float
    ) -> None:
        if centroids.shape[0] != len(tasks) or means.shape[0] != len(tasks) or temperature <= 0:
            raise ValueError("centroids and means need one row per task, and temperature must be > 0")
        self.tasks = tasks
        self.centroids = np.asarray(centroids, dtype=np.float32)
        self.means = np.asarray(means, dtype=np.float64)
        self.temperature = float(temperature)

    @classmethod
    def fit(
        cls,
        embeddings: F32Array,
        tasks: Sequence[str],
        scores: FloatArray,
        *,
        smoothing: float = 20.0,
        temperature: float = 0.05,
    ) -> TaskPrior:
        """Centroids and ``(sum + smoothing * global) / (count + smoothing)`` means per task.

        A task with few prompts stays close to the global mean; an unseen task at serving time gets
        the posterior's mix of the known ones, so one never sees a raw, unsmoothed rate.
        """
        names, index = np.unique(np.asarray(tasks, dtype=object), return_inverse=True)
        one_hot = np.eye(len(names))[index]
        counts = one_hot.sum(axis=0)[:, None]
        sums = one_hot.T @ embeddings.astype(np.float64)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids = (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        overall = scores.mean(axis=0)
        means = (one_hot.T @ scores + smoothing * overall) / (counts + smoothing)
        return cls(
            tasks=tuple(str(n) for n in names), centroids=centroids, means=means, temperature=temperature
        )

    def predict(self, embeddings: F32Array) -> FloatArray:
        """Prior quality ``(n, m)``: ``softmax(cos(x, centroids) / temperature) @ means``."""
        logits = (embeddings @ self.centroids.T).astype(np.float64) / self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        weights /= weights.sum(axis=1, keepdims=True)
        return np.asarray(weights @ self.means, dtype=np.float64)


def augment(base: F32Array, extra: FloatArray, mean: FloatArray, scale: FloatArray) -> F32Array:
    """``[base, (extra - mean) * scale]`` re-normalised to unit rows (the features clipped at 5 sd)."""
    block = np.clip((extra - mean) * scale, -5.0, 5.0)
    joined = np.hstack([base.astype(np.float64), block])
    norms = np.linalg.norm(joined, axis=1, keepdims=True)
    return np.asarray(joined / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def block_scale(extra: FloatArray, sizes: Sequence[tuple[int, float]]) -> tuple[FloatArray, FloatArray]:
    """Training mean and per-column scale ``weight / (sd * sqrt(block size))`` of each feature block."""
    mean = extra.mean(axis=0)
    sd = extra.std(axis=0)
    weights = np.concatenate([np.full(size, weight / np.sqrt(max(size, 1))) for size, weight in sizes])
    return mean, np.where(sd > 1e-9, weights / np.where(sd > 1e-9, sd, 1.0), 0.0)


class FeatureEmbedder:
    """A base embedder's vectors plus prompt features and an optional task prior, unit-normalised.

    Args:
        base: The embedder whose vectors come first.
        mean: Training mean of the extra columns (prompt features, then the prior's models).
        scale: Per-column scale (see :func:`block_scale`; 0 drops a constant column).
        prior: Task prior appended after the prompt features (None: no prior columns).
    """

    kind = "features"

    def __init__(
        self, base: Embedder, *, mean: FloatArray, scale: FloatArray, prior: TaskPrior | None = None
    ) -> None:
        width = len(FEATURE_NAMES) + (0 if prior is None else prior.means.shape[1])
        if mean.shape != (width,) or scale.shape != (width,):
            raise ValueError(f"mean and scale must have shape ({width},)")
        self.base, self.prior = base, prior
        self.mean, self.scale = np.asarray(mean, np.float64), np.asarray(scale, np.float64)

    @property
    def dim(self) -> int:
        """Base dimension plus the extra columns."""
        return self.base.dim + len(self.mean)

    @classmethod
    def fit(
        cls,
        base: Embedder,
        texts: Sequence[str],
        *,
        base_vectors: F32Array | None = None,
        prior: TaskPrior | None = None,
        feature_weight: float = 0.5,
        prior_weight: float = 0.5,
    ) -> FeatureEmbedder:
        """Standardise the extra columns on ``texts`` (the training prompts)."""
        vectors = base.embed(texts) if base_vectors is None else base_vectors
        extra = extra_columns(texts, vectors, prior)
        sizes = [(len(FEATURE_NAMES), feature_weight)]
        if prior is not None:
            sizes.append((prior.means.shape[1], prior_weight))
        mean, scale = block_scale(extra, sizes)
        return cls(base, mean=mean, scale=scale, prior=prior)

    def embed(self, texts: Sequence[str]) -> F32Array:
        """Embed ``texts`` into ``(len(texts), dim)`` unit rows."""
        vectors = self.base.embed(texts)
        return self.embed_with(texts, vectors)

    def embed_with(self, texts: Sequence[str], base_vectors: F32Array) -> F32Array:
        """:meth:`embed` from already computed base vectors of ``texts``."""
        return augment(base_vectors, extra_columns(texts, base_vectors, self.prior), self.mean, self.scale)

    def config_dict(self) -> dict[str, object]:
        """The base embedder's kind and configuration, the prior's tasks and temperature."""
        if not isinstance(self.base, SaveableEmbedder):
            raise ValueError(f"base embedder {type(self.base).__name__} cannot be saved")
        return {
            "base_kind": self.base.kind,
            "base_config": self.base.config_dict(),
            "base_state": list(self.base.state()),
            "features": list(FEATURE_NAMES),
            "prior_tasks": None if self.prior is None else list(self.prior.tasks),
            "prior_temperature": None if self.prior is None else self.prior.temperature,
        }

    def state(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Standardisation, prior and base arrays (the base's prefixed ``base.``)."""
        out: dict[str, npt.NDArray[np.generic]] = {"mean": self.mean, "scale": self.scale}
        if self.prior is not None:
            out.update({"prior.centroids": self.prior.centroids, "prior.means": self.prior.means})
        if isinstance(self.base, SaveableEmbedder):
            out.update({f"base.{k}": v for k, v in self.base.state().items()})
        return out


def extra_columns(texts: Sequence[str], base_vectors: F32Array, prior: TaskPrior | None) -> FloatArray:
    """Raw prompt features, followed by the task prior's prediction when there is one."""
    features = prompt_features(texts)
    if prior is None:
        return features
    return np.hstack([features, prior.predict(base_vectors)])


def feature_embedder_loader(base_loaders: Mapping[str, EmbedderLoader]) -> EmbedderLoader:
    """An artifact loader for :class:`FeatureEmbedder` whose base is rebuilt by ``base_loaders``."""

    def load(config: Mapping[str, Any], state: Mapping[str, npt.NDArray[Any]]) -> Embedder:
        if list(config.get("features", [])) != list(FEATURE_NAMES):
            raise ValueError("the artifact's prompt features differ from this version's")
        kind = str(config["base_kind"])
        if kind not in base_loaders:
            raise ValueError(f"no loader for the base embedder kind {kind!r}")
        base_state = {k[5:]: v for k, v in state.items() if k.startswith("base.")}
        base = base_loaders[kind](dict(config["base_config"]), base_state)
        prior = None
        if config.get("prior_tasks") is not None:
            prior = TaskPrior(
                tasks=tuple(config["prior_tasks"]),
                centroids=np.asarray(state["prior.centroids"], np.float32),
                means=np.asarray(state["prior.means"], np.float64),
                temperature=float(config["prior_temperature"]),
            )
        return FeatureEmbedder(base, mean=state["mean"], scale=state["scale"], prior=prior)

    return load
